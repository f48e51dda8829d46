"""One escalation step, written: open an alert, ask dispatcher.escalation, apply its answer to the row.

The passes (dispatcher/passes/) and the operations (dispatcher/alerts.py) share these. Nothing here
decides: what happens next is escalation's answer; this module loads what it needs and writes it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.channels import route
from core.schema import Alert
from dispatcher import escalation, messages, notices
from dispatcher.escalation import (
    OPEN_STATES,
    AlertState,
    Decision,
    NobodyReachable,
    Notify,
    Policy,
    State,
    TierPolicy,
)
from dispatcher.notices import PRIORITY, SYSTEM, Actor
from dispatcher.recipients import Person, Place, Recipients, load_place, load_policy

log = structlog.get_logger("jinqiao.dispatcher")


def for_update(stmt, s: Session):
    """Row locks where the database has them; SKIP LOCKED so two dispatchers never wait on each other."""
    if s.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def pass_size(s: Session) -> int:
    """Rows a pass takes in one transaction. SQLite: few, since a pass holds its one write lock and the
    sender waits for it. PostgreSQL: more, fewer commits; row locks leave other writers free."""
    return 100 if s.get_bind().dialect.name == "postgresql" else 25


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
    return AlertState(
        State(alert.state), alert.tier_index, alert.tier_round, alert.next_action_at, alert.ack_expires_at, alert.cycle
    )


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


def tiers_of(s: Session, recipients: Recipients, policy: Policy, place: Place, now: datetime) -> LazyTiers:
    return LazyTiers(lambda i: recipients.tier(s, policy.tiers[i].tier, place, now), len(policy.tiers))


def open_alert(
    s: Session,
    recipients: Recipients,
    codes: Callable[[int], str],
    *,
    resident_id: str,
    kind: str,
    reason: str,
    now: datetime,
    device_id: str | None = None,
    source_event_id: str | None = None,
) -> Alert:
    """A new alert, triggered, with its first step taken and the family told."""
    alert = Alert(
        code=new_code(s, codes),
        resident_id=resident_id,
        device_id=device_id,
        kind=kind,
        reason=reason,
        state=State.TRIGGERED,
        opened_at=now,
        updated_at=now,
        source_event_id=source_event_id,
        cycle=0,
        tier_index=-1,
        tier_round=0,
        step=0,
        repeat_presses=0,
    )
    s.add(alert)
    s.flush()
    notices.timeline(
        s,
        alert,
        now,
        "opened",
        Actor("resident", "device"),
        {"reason": reason, "kind": kind, "device_id": device_id, "event_id": source_event_id},
    )
    log.info("alert.opened", alert_id=alert.id, alert_code=alert.code, kind=kind, reason=reason, device_id=device_id)
    place = place_of(s, resident_id)
    policy = policy_of(s, kind)
    tiers = tiers_of(s, recipients, policy, place, now)
    apply(s, alert, escalation.first_step(policy, tiers, now), policy, place, tiers, now)
    notices.family(s, alert, place, now, opened=True)
    return alert


def new_code(s: Session, codes: Callable[[int], str]) -> str:
    """Four digits, unique among open alerts, so that `1 4821` names one alert; longer only when
    thousands are open at once (the four-digit space would otherwise run out)."""
    for digits in (4, 5, 6, 7, 8):
        for _ in range(20):
            code = codes(digits)
            if not s.scalar(select(Alert.id).where(Alert.code == code, Alert.state.in_(OPEN_STATES)).limit(1)):
                return code
    raise RuntimeError("no free alert code")  # 20 draws at eight digits all taken: unreachable in practice


def take_step(
    s: Session, recipients: Recipients, alert: Alert, now: datetime, decide: Callable[..., Decision | None], **kwargs
) -> bool:
    """Ask `decide` (one of escalation's step decisions) about the alert; apply its answer. False: none."""
    place = place_of(s, alert.resident_id)
    policy = policy_of(s, alert.kind)
    tiers = tiers_of(s, recipients, policy, place, now)
    decision = decide(state_of(alert), policy, tiers, now, **kwargs)
    if decision is None:
        return False
    apply(s, alert, decision, policy, place, tiers, now)
    return True


def apply(
    s: Session, alert: Alert, decision: Decision, policy: Policy, place: Place, tiers: LazyTiers, now: datetime
) -> None:
    """Write a step decision: the alert's new step and timer, its timeline, the pages in the outbox."""
    alert.updated_at = now
    if isinstance(decision, NobodyReachable):
        alert.next_action_at = decision.retry_at
        notices.timeline(s, alert, now, "nobody_reachable", SYSTEM, {"retry_at": decision.retry_at.isoformat()})
        log.error("escalation.nobody_reachable", alert_id=alert.id, resident_id=alert.resident_id)
        return
    assert isinstance(decision, Notify)
    if decision.reopen:
        alert.state = State.TRIGGERED
        alert.cycle += 1
        alert.step = 0
        alert.acknowledged_at = alert.acknowledged_by = alert.ack_expires_at = None
        alert.dispatched_to = alert.dispatched_at = None  # whoever was sent did not close it: the timeline keeps who
        notices.timeline(s, alert, now, "ack_expired", SYSTEM, {"cycle": alert.cycle})
        log.warning("alert.reopened", alert_id=alert.id, alert_code=alert.code, reason="ack_expired", cycle=alert.cycle)
    for skipped in decision.skipped:
        notices.timeline(
            s, alert, now, "tier_skipped", SYSTEM, {"tier": policy.tiers[skipped].tier, "why": "nobody to reach"}
        )
        log.warning("escalation.tier_skipped", alert_id=alert.id, tier=policy.tiers[skipped].tier)
    tier = policy.tiers[decision.tier_index]
    alert.tier_index, alert.tier_round = decision.tier_index, decision.round
    alert.step += 1
    alert.next_action_at = decision.next_action_at
    people = tiers.people(decision.tier_index)
    notices.timeline(
        s,
        alert,
        now,
        "tier_notified",
        SYSTEM,
        {
            "tier": tier.tier,
            "round": decision.round,
            "step": alert.step,
            "channels": list(tier.channels),
            "to": [p.name for p in people],
            "next_at": decision.next_action_at.isoformat(),
        },
    )
    log.info(
        "escalation.tier_notified",
        alert_id=alert.id,
        alert_code=alert.code,
        tier=tier.tier,
        round=decision.round,
        recipients=len(people),
    )
    notices.upsert_notifications(
        s, page_rows(alert, tier, people, place, now, decision.tier_index, decision.round, key=f"{alert.step}")
    )


def page_rows(
    alert: Alert,
    tier: TierPolicy,
    people: Sequence[Person],
    place: Place,
    now: datetime,
    tier_index: int,
    tier_round: int,
    key: str,
) -> list[dict]:
    """The outbox rows paging `people` of `tier` about the alert; `key` names the step (or a repage of it)."""
    priority = PRIORITY.get(f"page-{alert.kind}", PRIORITY["page-wellness"])
    rows = []
    # by place in the lists: every first channel of the step before any second one, so with the
    # tier's [sms, voice] every text is queued before the calls and lands first; a person with a
    # list of their own (responders.channels) is paged on theirs instead
    paged = [(i, name, person) for person in people for i, name in enumerate(person.channels_in(tier))]
    for _, name, person in sorted(paged, key=lambda p: p[0]):  # stable: the people in their order
        channel, provider = route(name)
        said = dict(
            language=person.language,
            resident=place.resident.name,
            address=place.resident.address,
            reason=alert.reason,
            tier=tier.tier,
            repeats=alert.repeat_presses,
        )
        # a call's text is what it says (Twilio's is spoken from the alert as it is when it rings);
        # its kind and values are what a template provider's call fills its TTS template with
        # a card says what the page SMS says, in fields of its own (dispatcher/wecom_cards.py)
        body = messages.page_voice(**said) if channel == "voice" else messages.page_sms(code=alert.code, **said)
        rows.append(
            notices.row(
                alert,
                now,
                key=f"{alert.id}:{alert.cycle}:{key}:{person.responder_id}:{name}",
                person=person,
                channel=channel,
                provider=provider,
                purpose="page",
                priority=priority,
                body=body,
                tier_index=tier_index,
                tier_round=tier_round,
            )
        )
    return rows
