"""The escalation shell's operations: acknowledge, resolve, pass on, a failed step; and the two passes.

Each operation is one transaction: lock the alert, ask dispatcher.escalation, write the answer
(dispatcher.steps, dispatcher.notices). Each is safe to run twice, or on two processes at once:
a repeat finds the work done (Outcome.changed False) and every notification has a dedupe key.
The passes themselves live in dispatcher/passes/ (events, escalations); the methods here run them
with this shell's sessions, clock and recipients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Alert, Notification, TimelineEntry
from dispatcher import escalation, handling, notices, steps
from dispatcher.escalation import OPEN_STATES, State, StepRef
from dispatcher.notices import SYSTEM, Actor
from dispatcher.passes import escalations, events
from dispatcher.recipients import Recipients
from dispatcher.steps import place_of, policy_of, random_code, state_of

# OPEN_STATES and Actor are re-exported: web/ imports them from here.
__all__ = ["OPEN_STATES", "OUTCOMES", "Actor", "AlertNotFound", "Alerts", "NoteRequired", "Outcome"]

log = structlog.get_logger("jinqiao.dispatcher")

OUTCOMES = ("false_alarm", "helped_at_home", "family_came", "ambulance_called", "taken_to_hospital", "other")


class AlertNotFound(LookupError):
    pass


class NoteRequired(ValueError):
    """An operator closed a call as false_alarm or other without a note (dispatcher.handling)."""


@dataclass(frozen=True)
class Outcome:
    """What an operation did: `changed` False means it found the work already done (or refused)."""

    changed: bool
    alert_id: int
    code: str
    state: State
    by: str | None = None
    at: datetime | None = None


class Alerts:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        recipients: Recipients | None = None,
        on_outbox: Callable[[], None] = lambda: None,
        on_timer: Callable[[], None] = lambda: None,
        codes: Callable[[int], str] = random_code,
    ) -> None:
        self.sessions = sessions
        self.now = now
        self.recipients = recipients or Recipients()
        self.codes = codes  # draws an alert code of n digits
        self.on_outbox = on_outbox  # wakes the sender: a new notification goes out at once
        self.on_timer = on_timer  # lets the engine re-plan its next wake-up

    # --- the passes (dispatcher/passes/) -------------------------------------------------------

    def process_events(self, limit: int | None = None) -> int:
        return events.run(self, limit)

    def escalate_due(self, limit: int | None = None) -> int:
        return escalations.run(self, limit)

    def next_due(self) -> datetime | None:
        return escalations.next_due(self)

    def open_alert(
        self,
        s: Session,
        *,
        resident_id: str,
        kind: str,
        reason: str,
        now: datetime,
        device_id: str | None = None,
        source_event_id: str | None = None,
    ) -> Alert:
        """In the caller's transaction (the supervisor opens wellness and device alerts)."""
        return steps.open_alert(
            s,
            self.recipients,
            self.codes,
            resident_id=resident_id,
            kind=kind,
            reason=reason,
            now=now,
            device_id=device_id,
            source_event_id=source_event_id,
        )

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
            notices.timeline(s, alert, now, "acknowledged", actor, {})
            notices.skip_unsent_pages(s, alert)
            place = place_of(s, alert.resident_id)
            what = handling.ack_notice(actor.channel, alert.dispatched_to)
            notices.notice_others(s, alert, place, now, actor, what)
            notices.device_feedback(s, alert, now, "acknowledged")
            log.info(
                "alert.acknowledged", alert_id=alert.id, alert_code=alert.code, by=actor.name, channel=actor.channel
            )
            outcome = self._outcome(alert, changed=True)
        self.on_outbox()
        self.on_timer()
        return outcome

    def resolve(self, alert_id: int, actor: Actor, outcome: str = "other", note: str = "") -> Outcome:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}")
        if handling.note_missing(actor.channel, outcome, note):
            raise NoteRequired(handling.NOTE_REQUIRED_MESSAGE)
        with transaction(self.sessions) as s:
            alert = self._lock(s, alert_id)
            now = self.now()
            decision = escalation.resolve(state_of(alert))
            if decision is None:
                return self._outcome(alert, changed=False)
            if decision.takes_the_call:
                alert.acknowledged_at, alert.acknowledged_by = now, actor.name
            alert.state = State.RESOLVED
            alert.resolved_at, alert.resolved_by = now, actor.name
            alert.outcome, alert.note = outcome, note or None
            alert.next_action_at = None
            alert.updated_at = now
            notices.timeline(s, alert, now, "resolved", actor, {"outcome": outcome, "note": note})
            notices.skip_unsent_pages(s, alert)
            place = place_of(s, alert.resident_id)
            notices.notice_others(s, alert, place, now, actor, "resolved")
            notices.device_feedback(s, alert, now, "resolved")
            notices.family(s, alert, place, now, opened=False)
            log.info("alert.resolved", alert_id=alert.id, alert_code=alert.code, by=actor.name, outcome=outcome)
            result = self._outcome(alert, changed=True)
        self.on_outbox()
        self.on_timer()
        return result

    def pass_on(
        self, alert_id: int, actor: Actor, from_tier: int | None = None, from_round: int | None = None
    ) -> Outcome:
        """A responder passes the alert on: the next tier at once (a stale pass changes nothing)."""
        with transaction(self.sessions) as s:
            alert = self._lock(s, alert_id)
            now = self.now()
            moved = steps.take_step(
                s, self.recipients, alert, now, escalation.escalate_now, from_tier=from_tier, from_round=from_round
            )
            if moved:
                notices.timeline(s, alert, now, "passed", actor, {"to_tier_index": alert.tier_index})
                log.info("alert.passed", alert_id=alert.id, alert_code=alert.code, by=actor.name, channel=actor.channel)
            result = self._outcome(alert, changed=moved)
        if moved:
            self.on_outbox()
            self.on_timer()
        return result

    def delivery_failed(self, notification_id: int) -> bool:
        """After a page failed for good: if every page of that step failed, the next tier at once."""
        with transaction(self.sessions) as s:
            note = s.get(Notification, notification_id)
            if note is None or note.alert_id is None or note.purpose != "page":
                return False
            if note.tier_index is None or note.tier_round is None:
                return False  # not a step's page: it can never be the alert's current step
            alert = self._lock(s, note.alert_id)
            failed = StepRef(note.cycle, note.tier_index, note.tier_round)
            step_pages = s.scalars(
                select(Notification).where(
                    Notification.alert_id == alert.id,
                    Notification.purpose == "page",
                    Notification.cycle == failed.cycle,
                    Notification.tier_index == failed.tier_index,
                    Notification.tier_round == failed.tier_round,
                )
            ).all()
            said = s.scalars(
                select(TimelineEntry.detail).where(
                    TimelineEntry.alert_id == alert.id, TimelineEntry.what == "tier_failed"
                )
            ).all()
            reported = {said_step for d in said if (said_step := _reported_step(d)) is not None}
            if not escalation.tier_failed(
                state_of(alert), failed, [p.final and p.failed for p in step_pages], reported
            ):
                return False
            now = self.now()
            step = {
                "tier_index": failed.tier_index,
                "round": failed.tier_round,
                "cycle": failed.cycle,
            }  # read back as `reported`
            notices.timeline(s, alert, now, "tier_failed", SYSTEM, {**step, "deliveries": len(step_pages)})
            log.warning("escalation.tier_failed", alert_id=alert.id, alert_code=alert.code, tier_index=alert.tier_index)
            moved = steps.take_step(
                s,
                self.recipients,
                alert,
                now,
                escalation.after_failed_step,
                from_tier=note.tier_index,
                from_round=note.tier_round,
            )
        if moved:
            self.on_outbox()
            self.on_timer()
        return moved

    # --- reads used by the webhooks ---------------------------------------------------------------

    def newest_alert_for_number(self, s: Session, number: str, code: str | None) -> Alert | None:
        """The alert an SMS reply means: by code among those paged to this number, else the newest open one."""
        stmt = (
            select(Alert)
            .join(Notification, Notification.alert_id == Alert.id)
            .where(Notification.to_number == number, Notification.purpose == "page")
        )
        if code:
            stmt = stmt.where(Alert.code == code)
        else:
            stmt = stmt.where(Alert.state.in_(OPEN_STATES))
        return s.scalars(stmt.order_by(Alert.opened_at.desc(), Alert.id.desc()).limit(1)).first()

    # --- helpers ------------------------------------------------------------------------------

    def _lock(self, s: Session, alert_id: int) -> Alert:
        stmt = select(Alert).where(Alert.id == alert_id)
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # wait, not skip: an operation on one alert must happen
        alert = s.scalars(stmt).first()
        if alert is None:
            raise AlertNotFound(alert_id)
        return alert

    @staticmethod
    def _outcome(alert: Alert, changed: bool) -> Outcome:
        return Outcome(changed, alert.id, alert.code, State(alert.state), alert.acknowledged_by, alert.acknowledged_at)


def _reported_step(detail: dict[str, Any] | None) -> StepRef | None:
    """The step a `tier_failed` entry names; None for one that names no whole step."""
    d = detail or {}
    cycle, tier_index, tier_round = d.get("cycle"), d.get("tier_index"), d.get("round")
    if isinstance(cycle, int) and isinstance(tier_index, int) and isinstance(tier_round, int):
        return StepRef(cycle, tier_index, tier_round)
    return None
