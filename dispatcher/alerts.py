"""The escalation shell: load an alert, ask dispatcher.escalation what to do, write the answer.

Every public method is one transaction and safe to run twice, or on two processes at once:
due rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL (SQLite has one writer anyway),
and every notification has a dedupe key, so a repeated step finds its rows instead of adding more.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import structlog
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from dispatcher import escalation, messages
from dispatcher.escalation import (KIND_OF_EVENT, OPEN_STATES, AlertState, Join, NobodyReachable, NoteCancel,
                                   Notify, Policy, RejectCancel, State, StepRef)
from dispatcher.recipients import Person, Place, Recipients, load_place, load_policy
from core import wakeups
from core.db import reading, transaction
from core.schema import (Alert, Contact, Device, DeviceFeedback, Event, Notification, Resident, Responder,
                            TimelineEntry)

log = structlog.get_logger("jinqiao.dispatcher")

# The outbox claims by (priority, created_at): emergencies, then answers to people, then wellness, then device pages
PRIORITY = {"page-emergency": 0, "reply": 1, "confirm": 1, "page-wellness": 2, "page-device": 3, "notice": 4,
            "family": 5}
OUTCOMES = ("false_alarm", "helped_at_home", "family_came", "ambulance_called", "taken_to_hospital", "other")


class AlertNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who did something: a responder (by SMS or phone), an operator (board) or the system."""

    name: str
    channel: str  # sms | voice | web | device | system
    responder_id: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What an operation did: `changed` False means it found the work already done (or refused)."""

    changed: bool
    alert_id: int
    code: str
    state: State
    by: str | None = None
    at: datetime | None = None


def for_update(stmt, s: Session):
    """Row locks where the database has them; SKIP LOCKED so two dispatchers never wait on each other."""
    if s.bind.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def pass_size(s: Session) -> int:
    """Rows a pass takes in one transaction. SQLite: few, since a pass holds its one write lock and the
    sender waits for it. PostgreSQL: more, fewer commits; row locks leave other writers free."""
    return 100 if s.bind.dialect.name == "postgresql" else 25


def random_code(digits: int) -> str:
    low = 10 ** (digits - 1)
    return f"{secrets.randbelow(9 * low) + low}"


def _cached(s: Session, kind: str, key, load):
    """Registry rows read once per transaction: a pass over 25 alerts reads the policy once."""
    cache = s.info.setdefault(kind, {})
    if key not in cache:
        cache[key] = load()
    return cache[key]


def policy_of(s: Session, kind: str) -> Policy:
    return _cached(s, "jinqiao.policy", kind, lambda: load_policy(s, kind))


def place_of(s: Session, resident_id: str) -> Place:
    return _cached(s, "jinqiao.place", resident_id, lambda: load_place(s, resident_id))


def state_of(alert: Alert) -> AlertState:
    """The row as the pure core sees it."""
    return AlertState(State(alert.state), alert.tier_index, alert.tier_round, alert.next_action_at,
                      alert.ack_expires_at, alert.cycle)


class LazyTiers(Sequence):
    """Who each tier reaches, resolved only when the decision looks at that tier.

    The decision asks about the next tier, and about later ones only when it is empty: resolving
    the hotline roster for every press of a building with volunteers would be wasted work.
    """

    def __init__(self, resolve: Callable[[int], list[Person]], count: int) -> None:
        self._resolve = resolve
        self._count = count
        self._people: dict[int, list[Person]] = {}

    def people(self, index: int) -> list[Person]:
        if index not in self._people:
            self._people[index] = self._resolve(index)
        return self._people[index]

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):  # how many people tier `index` reaches
        if isinstance(index, slice):
            return [len(self.people(i)) for i in range(self._count)[index]]
        if not -self._count <= index < self._count:
            raise IndexError(index)
        return len(self.people(index % self._count))


def upsert_notifications(s: Session, rows: list[dict]) -> None:
    """One INSERT for a step's notifications; a row whose dedupe key exists (the step ran before) is left."""
    if not rows:
        return
    dialect = postgresql if s.bind.dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
    wakeups.notify(s, wakeups.OUTBOX)  # the sender of another process (this one is woken directly)


class Alerts:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime],
                 recipients: Recipients | None = None, on_outbox: Callable[[], None] = lambda: None,
                 on_timer: Callable[[], None] = lambda: None, codes: Callable[[int], str] = random_code) -> None:
        self.sessions = sessions
        self.now = now
        self.recipients = recipients or Recipients()
        self.codes = codes  # draws an alert code of n digits
        self.on_outbox = on_outbox  # wakes the sender: a new notification goes out at once
        self.on_timer = on_timer  # lets the engine re-plan its next wake-up

    # --- pass: stored device events become alerts ----------------------------------------------

    def process_events(self, limit: int | None = None) -> int:
        """Small batches on SQLite: a pass holds the one write lock, and the sender waits for it."""
        for attempt in range(3):
            try:
                count, queued = self._process_events(limit)
                break
            except IntegrityError as exc:
                # Another dispatcher gave its new alert the code we drew, between our check and our
                # insert (uq_alerts_open_code). Nothing was written; the next draw is another code.
                if attempt == 2 or "uq_alerts_open_code" not in str(exc):
                    raise
                log.warning("alert.code_collision", attempt=attempt + 1)
        if queued:
            self.on_outbox()
            self.on_timer()
        return count

    def _process_events(self, limit: int | None) -> tuple[int, bool]:
        with transaction(self.sessions) as s, s.no_autoflush:
            limit = limit or pass_size(s)
            events = s.scalars(for_update(
                select(Event).where(Event.processed_at.is_(None)).order_by(Event.id).limit(limit), s)).all()
            now = self.now()
            queued = False
            for ev in events:
                queued |= self._handle_event(s, ev, now)
                ev.processed_at = now
        return len(events), queued

    def _handle_event(self, s: Session, ev: Event, now: datetime) -> bool:
        device = s.get(Device, ev.device_id)
        if device is None or device.resident_id is None:
            log.warning("dispatcher.event_without_resident", device_id=ev.device_id, event_id=ev.event_id)
            return False
        if ev.type in KIND_OF_EVENT:
            self._open_or_join(s, device, ev, now)
            return True
        if ev.type == "cancel":
            return self._cancel_by_device(s, device, ev, now)
        return False  # checkin, heartbeat, battery_low: supervision reads them from the events table

    def _open_or_join(self, s: Session, device: Device, ev: Event, now: datetime) -> None:
        kind = KIND_OF_EVENT[ev.type]
        if s.bind.dialect.name == "postgresql":
            # Two dispatchers handling two presses of one resident: the second waits here, then
            # sees the first one's alert and joins it instead of opening another.
            s.execute(select(Resident.id).where(Resident.id == device.resident_id).with_for_update())
        alert = s.scalars(for_update(select(Alert).where(
            Alert.resident_id == device.resident_id, Alert.kind == kind, Alert.state.in_(OPEN_STATES)
        ).order_by(Alert.id).limit(1), s)).first()
        press = escalation.on_press(alert.repeat_presses if alert is not None else None)
        if isinstance(press, Join):
            assert alert is not None
            alert.repeat_presses = press.repeat_presses
            alert.updated_at = now
            alert.source_event_id = ev.event_id
            self._timeline(s, alert, now, "repeat_press", Actor("resident", "device"),
                           {"event_id": ev.event_id, "type": ev.type, "device_id": device.id, "count": alert.repeat_presses})
            log.info("alert.repeat_press", alert_id=alert.id, device_id=device.id, event_id=ev.event_id)
            return
        self.open_alert(s, resident_id=device.resident_id, kind=kind, reason=ev.type, now=now,
                        device_id=device.id, source_event_id=ev.event_id)

    def open_alert(self, s: Session, *, resident_id: str, kind: str, reason: str, now: datetime,
                   device_id: str | None = None, source_event_id: str | None = None) -> Alert:
        alert = Alert(code=self._new_code(s), resident_id=resident_id, device_id=device_id, kind=kind, reason=reason,
                      state=State.TRIGGERED, opened_at=now, updated_at=now, source_event_id=source_event_id,
                      cycle=0, tier_index=-1, tier_round=0, step=0, repeat_presses=0)
        s.add(alert)
        s.flush()
        self._timeline(s, alert, now, "opened", Actor("resident", "device"),
                       {"reason": reason, "kind": kind, "device_id": device_id, "event_id": source_event_id})
        log.info("alert.opened", alert_id=alert.id, alert_code=alert.code, kind=kind, reason=reason, device_id=device_id)
        place = place_of(s, resident_id)
        policy = policy_of(s, kind)
        tiers = self._tiers(s, policy, place, now)
        self._apply(s, alert, escalation.first_step(policy, tiers, now), policy, place, tiers, now)
        self._family(s, alert, place, now, opened=True)
        return alert

    def _tiers(self, s: Session, policy: Policy, place: Place, now: datetime) -> LazyTiers:
        return LazyTiers(lambda i: self.recipients.tier(s, policy.tiers[i].tier, place, now), len(policy.tiers))

    def _new_code(self, s: Session) -> str:
        """Four digits, unique among open alerts, so that `1 4821` names one alert; longer only when
        thousands are open at once (the four-digit space would otherwise run out)."""
        for digits in (4, 5, 6, 7, 8):
            for _ in range(20):
                code = self.codes(digits)
                if not s.scalar(select(Alert.id).where(Alert.code == code, Alert.state.in_(OPEN_STATES)).limit(1)):
                    return code
        raise RuntimeError("no free alert code")  # 20 draws at eight digits all taken: unreachable in practice

    # --- pass: timers that came due -----------------------------------------------------------

    def escalate_due(self, limit: int | None = None) -> int:
        """Every alert whose timer has passed takes its next step; late steps fire at once, none skipped."""
        with transaction(self.sessions) as s, s.no_autoflush:
            now = self.now()
            limit = limit or pass_size(s)
            due = s.scalars(for_update(select(Alert).where(
                Alert.next_action_at <= now, Alert.state.in_(OPEN_STATES)
            ).order_by(Alert.next_action_at).limit(limit), s)).all()
            for alert in due:
                self._step(s, alert, now, escalation.due_step)
        if due:
            self.on_outbox()
            self.on_timer()
        return len(due)

    def next_due(self) -> datetime | None:
        with reading(self.sessions) as s:
            return s.scalar(select(Alert.next_action_at).where(Alert.state.in_(OPEN_STATES))
                            .order_by(Alert.next_action_at).limit(1))

    def _step(self, s: Session, alert: Alert, now: datetime, decide, **kwargs) -> bool:
        place = place_of(s, alert.resident_id)
        policy = policy_of(s, alert.kind)
        tiers = self._tiers(s, policy, place, now)
        decision = decide(state_of(alert), policy, tiers, now, **kwargs)
        if decision is None:
            return False
        self._apply(s, alert, decision, policy, place, tiers, now)
        return True

    def _apply(self, s: Session, alert: Alert, decision, policy, place: Place, tiers: LazyTiers,
               now: datetime) -> None:
        alert.updated_at = now
        if isinstance(decision, NobodyReachable):
            alert.next_action_at = decision.retry_at
            self._timeline(s, alert, now, "nobody_reachable", Actor("system", "system"), {"retry_at": decision.retry_at.isoformat()})
            log.error("escalation.nobody_reachable", alert_id=alert.id, resident_id=alert.resident_id)
            return
        assert isinstance(decision, Notify)
        if decision.reopen:
            alert.state = State.TRIGGERED
            alert.cycle += 1
            alert.step = 0
            alert.acknowledged_at = alert.acknowledged_by = alert.ack_expires_at = None
            self._timeline(s, alert, now, "ack_expired", Actor("system", "system"), {"cycle": alert.cycle})
            log.warning("alert.reopened", alert_id=alert.id, alert_code=alert.code, reason="ack_expired", cycle=alert.cycle)
        for skipped in decision.skipped:
            self._timeline(s, alert, now, "tier_skipped", Actor("system", "system"),
                           {"tier": policy.tiers[skipped].tier, "why": "nobody to reach"})
            log.warning("escalation.tier_skipped", alert_id=alert.id, tier=policy.tiers[skipped].tier)
        tier = policy.tiers[decision.tier_index]
        alert.tier_index, alert.tier_round = decision.tier_index, decision.round
        alert.step += 1
        alert.next_action_at = decision.next_action_at
        people = tiers.people(decision.tier_index)
        self._timeline(s, alert, now, "tier_notified", Actor("system", "system"), {
            "tier": tier.tier, "round": decision.round, "step": alert.step, "channels": list(tier.channels),
            "to": [p.name for p in people], "next_at": decision.next_action_at.isoformat()})
        log.info("escalation.tier_notified", alert_id=alert.id, alert_code=alert.code, tier=tier.tier,
                 round=decision.round, recipients=len(people))
        priority = PRIORITY.get(f"page-{alert.kind}", PRIORITY["page-wellness"])
        rows = []
        for channel in tier.channels:  # every SMS of the step before the calls: the text lands first
            for person in people:
                body = messages.page_sms(
                    language=person.language, resident=place.resident.name, address=place.resident.address,
                    reason=alert.reason, tier=tier.tier, code=alert.code, repeats=alert.repeat_presses,
                ) if channel == "sms" else ""
                rows.append(self._row(alert, now, key=f"{alert.id}:{alert.cycle}:{alert.step}:{person.responder_id}:{channel}",
                                      person=person, channel=channel, purpose="page", priority=priority, body=body,
                                      tier_index=decision.tier_index, tier_round=decision.round))
        upsert_notifications(s, rows)

    # --- operations (webhooks, the board, the API) ------------------------------------------

    def acknowledge(self, alert_id: int, actor: Actor) -> Outcome:
        with transaction(self.sessions) as s:
            alert = self._lock(s, alert_id)
            now = self.now()
            ack = escalation.acknowledge(state_of(alert), policy_of(s, alert.kind), now)
            if ack is None:
                return self._outcome(alert, changed=False)
            alert.state = State.ACKNOWLEDGED
            alert.acknowledged_at = now
            alert.acknowledged_by = actor.name
            alert.ack_expires_at = ack.expires_at
            alert.next_action_at = alert.ack_expires_at  # the only timer left: the expiry
            alert.updated_at = now
            self._timeline(s, alert, now, "acknowledged", actor, {})
            self._skip_unsent_pages(s, alert)
            place = place_of(s, alert.resident_id)
            self._notice_others(s, alert, place, now, actor, "acknowledged")
            self._device_feedback(s, alert, now, "acknowledged")
            log.info("alert.acknowledged", alert_id=alert.id, alert_code=alert.code, by=actor.name, channel=actor.channel)
            outcome = self._outcome(alert, changed=True)
        self.on_outbox()
        self.on_timer()
        return outcome

    def resolve(self, alert_id: int, actor: Actor, outcome: str = "other", note: str = "") -> Outcome:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        with transaction(self.sessions) as s:
            alert = self._lock(s, alert_id)
            now = self.now()
            decision = escalation.resolve(state_of(alert))
            if decision is None:
                return self._outcome(alert, changed=False)
            if decision.takes_the_call:
                alert.acknowledged_at, alert.acknowledged_by = now, actor.name
            alert.state = State.RESOLVED
            alert.resolved_at = now
            alert.outcome, alert.note = outcome, note or None
            alert.next_action_at = None
            alert.updated_at = now
            self._timeline(s, alert, now, "resolved", actor, {"outcome": outcome, "note": note})
            self._skip_unsent_pages(s, alert)
            place = place_of(s, alert.resident_id)
            self._notice_others(s, alert, place, now, actor, "resolved")
            self._device_feedback(s, alert, now, "resolved")
            self._family(s, alert, place, now, opened=False)
            log.info("alert.resolved", alert_id=alert.id, alert_code=alert.code, by=actor.name, outcome=outcome)
            result = self._outcome(alert, changed=True)
        self.on_outbox()
        self.on_timer()
        return result

    def pass_on(self, alert_id: int, actor: Actor, from_tier: int | None = None, from_round: int | None = None) -> Outcome:
        """A responder passes the alert on: the next tier at once (a stale pass changes nothing)."""
        with transaction(self.sessions) as s:
            alert = self._lock(s, alert_id)
            now = self.now()
            moved = self._step(s, alert, now, escalation.escalate_now, from_tier=from_tier, from_round=from_round)
            if moved:
                self._timeline(s, alert, now, "passed", actor, {"to_tier_index": alert.tier_index})
                log.info("alert.passed", alert_id=alert.id, alert_code=alert.code, by=actor.name, channel=actor.channel)
            result = self._outcome(alert, changed=moved)
        if moved:
            self.on_outbox()
            self.on_timer()
        return result

    def _cancel_by_device(self, s: Session, device: Device, ev: Event, now: datetime) -> bool:
        """A resident's cancel takes back their own call: the open emergency (a wellness or device alert
        is not theirs to cancel from the button). The device is told what became of it, always."""
        alert = s.scalars(for_update(select(Alert).where(
            Alert.resident_id == device.resident_id, Alert.kind == "emergency", Alert.state.in_(OPEN_STATES)
        ).order_by(Alert.id.desc()).limit(1), s)).first()
        decision = escalation.on_cancel(State(alert.state) if alert is not None else None)
        if isinstance(decision, RejectCancel):
            s.add(DeviceFeedback(device_id=device.id, ref=ev.event_id, alert_code=None, state="rejected",
                                 reason=decision.reason, created_at=now))
            log.info("alert.cancel_without_alert", device_id=device.id, event_id=ev.event_id)
            return False
        assert alert is not None
        actor = Actor("resident", "device")
        if isinstance(decision, NoteCancel):
            self._timeline(s, alert, now, "cancel_recorded", actor, {"event_id": ev.event_id})
            s.add(DeviceFeedback(device_id=device.id, ref=ev.event_id, alert_code=alert.code, state="acknowledged",
                                 created_at=now))
            log.info("alert.cancel_after_ack", alert_id=alert.id, alert_code=alert.code)
            return False
        alert.state = State.CANCELLED
        alert.next_action_at = None
        alert.updated_at = now
        alert.source_event_id = ev.event_id
        self._timeline(s, alert, now, "cancelled", actor, {"event_id": ev.event_id})
        self._skip_unsent_pages(s, alert)
        place = place_of(s, alert.resident_id)
        self._notice_others(s, alert, place, now, actor, "cancelled")
        s.add(DeviceFeedback(device_id=device.id, ref=ev.event_id, alert_code=alert.code, state="cancelled",
                             created_at=now))
        self._family(s, alert, place, now, cancelled=True)
        log.info("alert.cancelled", alert_id=alert.id, alert_code=alert.code)
        return True

    def delivery_failed(self, notification_id: int) -> bool:
        """After a page failed for good: if every page of that step failed, the next tier at once."""
        with transaction(self.sessions) as s:
            note = s.get(Notification, notification_id)
            if note is None or note.alert_id is None or note.purpose != "page":
                return False
            alert = self._lock(s, note.alert_id)
            failed = StepRef(note.cycle, note.tier_index, note.tier_round)
            step_pages = s.scalars(select(Notification).where(
                Notification.alert_id == alert.id, Notification.purpose == "page", Notification.cycle == failed.cycle,
                Notification.tier_index == failed.tier_index, Notification.tier_round == failed.tier_round)).all()
            said = s.scalars(select(TimelineEntry.detail).where(TimelineEntry.alert_id == alert.id,
                                                                TimelineEntry.what == "tier_failed")).all()
            reported = {StepRef((d or {}).get("cycle"), (d or {}).get("tier_index"), (d or {}).get("round")) for d in said}
            if not escalation.tier_failed(state_of(alert), failed, [p.final and p.failed for p in step_pages], reported):
                return False
            now = self.now()
            step = {"tier_index": alert.tier_index, "round": alert.tier_round, "cycle": alert.cycle}
            self._timeline(s, alert, now, "tier_failed", Actor("system", "system"), {**step, "deliveries": len(step_pages)})
            log.warning("escalation.tier_failed", alert_id=alert.id, alert_code=alert.code, tier_index=alert.tier_index)
            moved = self._step(s, alert, now, escalation.after_failed_step, from_tier=note.tier_index,
                               from_round=note.tier_round)
        if moved:
            self.on_outbox()
            self.on_timer()
        return moved

    # --- helpers ------------------------------------------------------------------------------

    def _lock(self, s: Session, alert_id: int) -> Alert:
        stmt = select(Alert).where(Alert.id == alert_id)
        if s.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # wait, not skip: an operation on one alert must happen
        alert = s.scalars(stmt).first()
        if alert is None:
            raise AlertNotFound(alert_id)
        return alert

    @staticmethod
    def _outcome(alert: Alert, changed: bool) -> Outcome:
        return Outcome(changed, alert.id, alert.code, State(alert.state), alert.acknowledged_by, alert.acknowledged_at)

    def _timeline(self, s: Session, alert: Alert, now: datetime, what: str, actor: Actor, detail: dict) -> None:
        s.add(TimelineEntry(alert_id=alert.id, at=now, what=what, actor=actor.name, channel=actor.channel, detail=detail))

    def _enqueue(self, s: Session, alert: Alert | None, now: datetime, **row) -> None:
        """Queue one notification (see _row); a key queued before is left as it is."""
        upsert_notifications(s, [self._row(alert, now, **row)])

    @staticmethod
    def _row(alert: Alert | None, now: datetime, *, key: str, person: Person | None = None,
             to: str | None = None, name: str = "", language: str = "zh-CN", channel: str, purpose: str,
             priority: int, body: str, tier_index: int | None = None, tier_round: int | None = None) -> dict:
        return dict(
            dedupe_key=key, alert_id=alert.id if alert else None,
            responder_id=person.responder_id if person else None, recipient_name=person.name if person else name,
            to_number=person.phone if person else to, channel=channel, purpose=purpose,
            cycle=alert.cycle if alert else 0, tier_index=tier_index, tier_round=tier_round, priority=priority,
            body=body, language=person.language if person else language, status="queued", final=False, failed=False,
            attempts=0, next_attempt_at=now, created_at=now)

    def _skip_unsent_pages(self, s: Session, alert: Alert) -> None:
        s.execute(update(Notification).where(
            Notification.alert_id == alert.id, Notification.purpose == "page", Notification.status == "queued"
        ).values(status="skipped", final=True))

    def _notified_people(self, s: Session, alert: Alert) -> list[Responder]:
        ids = s.scalars(select(Notification.responder_id).where(
            Notification.alert_id == alert.id, Notification.purpose == "page",
            Notification.status.not_in(("skipped",)), Notification.responder_id.is_not(None)).distinct()).all()
        return s.scalars(select(Responder).where(Responder.id.in_(ids)).order_by(Responder.id)).all() if ids else []

    def _notice_others(self, s: Session, alert: Alert, place: Place, now: datetime, actor: Actor, what: str) -> None:
        rows = []
        for r in self._notified_people(s, alert):
            if r.id == actor.responder_id:
                continue
            body = messages.notice_sms(language=r.language, what=what, resident=place.resident.name,
                                       by=actor.name, code=alert.code)
            rows.append(self._row(alert, now, key=f"{alert.id}:{alert.cycle}:{what}:{r.id}", to=r.phone, name=r.name,
                                  language=r.language, channel="sms", purpose="notice", priority=PRIORITY["notice"],
                                  body=body))
        upsert_notifications(s, rows)

    def _family(self, s: Session, alert: Alert, place: Place, now: datetime, opened: bool = False,
                cancelled: bool = False) -> None:
        """The family hears that a call opened, and how it ended (resolved, or cancelled by the resident)."""
        if alert.kind != "emergency":
            return
        contacts = s.scalars(select(Contact).where(Contact.resident_id == alert.resident_id,
                                                   Contact.notify.is_(True)).order_by(Contact.position)).all()
        local = now.astimezone(place.tz).strftime("%H:%M")
        which = "open" if opened else "cancelled" if cancelled else "closed"
        rows = []
        for c in contacts:
            if cancelled:
                body = messages.family_cancelled(resident=place.resident.name, at_local=local)
            else:
                body = messages.family_sms(resident=place.resident.name, at=local, opened=opened, reason=alert.reason,
                                           outcome=alert.outcome)
            rows.append(self._row(alert, now, key=f"{alert.id}:{alert.cycle}:family-{which}:{c.phone}", to=c.phone,
                                  name=c.name, channel="sms", purpose="family", priority=PRIORITY["family"], body=body))
        upsert_notifications(s, rows)

    def _device_feedback(self, s: Session, alert: Alert, now: datetime, state: str) -> None:
        if alert.device_id:
            s.add(DeviceFeedback(device_id=alert.device_id, ref=alert.source_event_id, alert_code=alert.code,
                                 state=state, created_at=now))

    # --- reads used by the webhooks ---------------------------------------------------------------

    def newest_alert_for_number(self, s: Session, number: str, code: str | None) -> Alert | None:
        """The alert an SMS reply means: by code among those paged to this number, else the newest open one."""
        stmt = (select(Alert).join(Notification, Notification.alert_id == Alert.id)
                .where(Notification.to_number == number, Notification.purpose == "page"))
        if code:
            stmt = stmt.where(Alert.code == code)
        else:
            stmt = stmt.where(Alert.state.in_(OPEN_STATES))
        return s.scalars(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(1)).first()
