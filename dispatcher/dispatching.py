"""派人前往, the shell: who can be sent to an alert, and sending one of them (or the operator).

One transaction: lock the alert, load who is going and who was paged, ask dispatcher.dispatch_rules,
write the answer. A triggered alert is acknowledged first in the operator's name (the escalation stops
as on any acknowledgement). The one asked to go gets a page row: it is what an SMS reply is matched by
(Alerts.newest_alert_for_number), so their "3 8150" closes the call. Every row has a dedupe key, and
sending the one already sent changes nothing: a retried request sends nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import transaction
from core.schema import Alert, Responder, TimelineEntry
from dispatcher import escalation, messages_dispatch, notices
from dispatcher.alerts import AlertNotFound, Alerts, Outcome
from dispatcher.dispatch_rules import Goer, Refused, Text, decide
from dispatcher.escalation import State
from dispatcher.notices import PRIORITY, Actor
from dispatcher.recipients import Place, Recipients
from dispatcher.steps import place_of, policy_of, state_of

__all__ = ["AlertClosed", "AlertNotFound", "NotOffered", "Offered", "dispatch", "offered"]

log = structlog.get_logger("jinqiao.dispatcher")

OFFERED_TIERS = ("building", "mediator", "hotline")  # the building's volunteers, the mediator, the hotline on duty
BY_PHONE = frozenset({"sms", "voice", "card"})  # an acknowledgement on these came from a responder who said "I go"


class AlertClosed(ValueError):
    """The alert is resolved or cancelled: nobody is sent."""


class NotOffered(LookupError):
    """The responder is not one of those who can be sent to this alert."""


@dataclass(frozen=True)
class Offered:
    responder_id: str
    name: str
    tier: str  # building | mediator | hotline
    phone: str


def offered(s: Session, recipients: Recipients, place: Place, now: datetime) -> list[Offered]:
    """Who can be sent, as the tiers find them now (dispatcher.recipients); each person once."""
    found: dict[str, Offered] = {}
    for tier in OFFERED_TIERS:
        for p in recipients.tier(s, tier, place, now):
            found.setdefault(p.responder_id, Offered(p.responder_id, p.name, tier, p.phone))
    return list(found.values())


def dispatch(
    alerts: Alerts, alert_id: int, actor: Actor, *, responder_id: str | None = None, operator_name: str | None = None
) -> Outcome:
    """Send the responder `responder_id`, or (None) the operator, named `operator_name` on the card."""
    with transaction(alerts.sessions) as s:
        alert = _lock(s, alert_id)
        now = alerts.now()
        place = place_of(s, alert.resident_id)
        if responder_id is not None:
            chosen = next(
                (o for o in offered(s, alerts.recipients, place, now) if o.responder_id == responder_id), None
            )
            if chosen is None:
                raise NotOffered(responder_id)
            target = Goer(chosen.name, chosen.responder_id)
        else:
            target = Goer(operator_name or actor.name)
        paged = notices.notified_people(s, alert)
        decision = decide(
            state_of(alert).state, target, _sent(s, alert), _taker(s, alert, paged), [r.id for r in paged]
        )
        if isinstance(decision, Refused):
            raise AlertClosed(f"alert {alert.code} is {alert.state}: nobody can be sent")
        if decision is None:
            return Outcome(False, alert.id, alert.code, State(alert.state), alert.dispatched_to, alert.dispatched_at)
        seq = _sends(s, alert) + 1
        if decision.takes_the_call:
            _take_the_call(s, alert, now, actor)
        alert.dispatched_to, alert.dispatched_at, alert.updated_at = target.name, now, now
        detail = {"to": target.name, "responder_id": target.responder_id, "cycle": alert.cycle, "seq": seq}
        notices.timeline(s, alert, now, "dispatched", actor, detail)
        going = messages_dispatch.going_name(name=target.name, operator=target.responder_id is None)
        rows = [_row(s, alert, place, now, text, seq, actor, going) for text in decision.texts]
        notices.upsert_notifications(s, [r for r in rows if r is not None])
        log.info("alert.dispatched", alert_id=alert.id, alert_code=alert.code, to=target.name, by=actor.name)
        outcome = Outcome(True, alert.id, alert.code, State(alert.state), alert.dispatched_to, now)
    alerts.on_outbox()
    alerts.on_timer()
    return outcome


def _take_the_call(s: Session, alert: Alert, now: datetime, actor: Actor) -> None:
    """The acknowledgement Alerts.acknowledge writes, but its notice: the others hear who is going instead."""
    ack = escalation.acknowledge(state_of(alert), policy_of(s, alert.kind), now)
    if ack is None:
        return
    alert.state = State.ACKNOWLEDGED
    alert.acknowledged_at, alert.acknowledged_by = now, actor.name
    alert.ack_expires_at = alert.next_action_at = ack.expires_at  # the only timer left: the expiry
    notices.timeline(s, alert, now, "acknowledged", actor, {})
    notices.skip_unsent_pages(s, alert)
    notices.device_feedback(s, alert, now, "acknowledged")


def _row(
    s: Session, alert: Alert, place: Place, now: datetime, text: Text, seq: int, actor: Actor, going: str
) -> dict | None:
    r = s.get(Responder, text.responder_id)
    if r is None:
        return None
    resident, code, language = place.resident.name, alert.code, r.language
    if text.what == "go":
        body = messages_dispatch.dispatch_go(
            resident=resident,
            address=place.resident.address,
            reason=alert.reason,
            code=code,
            operator=messages_dispatch.operator_of(actor.name),
            resident_phone=place.resident.phone,
            language=language,
        )
        purpose, priority = "page", PRIORITY.get(f"page-{alert.kind}", PRIORITY["page-emergency"])
    elif text.what == "stood_down":
        body = messages_dispatch.dispatch_stood_down(resident=resident, code=code, going=going, language=language)
        purpose, priority = "notice", PRIORITY["notice"]
    else:
        body = messages_dispatch.notice_someone_going(resident=resident, code=code, going=going, language=language)
        purpose, priority = "notice", PRIORITY["notice"]
    return notices.row(
        alert,
        now,
        key=f"{alert.id}:{alert.cycle}:dispatch-{seq}:{text.what}:{r.id}",
        to=r.phone,
        name=r.name,
        language=language,
        channel="sms",
        purpose=purpose,
        priority=priority,
        body=body,
    )


def _dispatched(s: Session, alert: Alert) -> list[dict]:
    """The details of this cycle's sends, oldest first."""
    details = s.scalars(
        select(TimelineEntry.detail)
        .where(TimelineEntry.alert_id == alert.id, TimelineEntry.what == "dispatched")
        .order_by(TimelineEntry.id)
    ).all()
    return [d for d in details if (d or {}).get("cycle") == alert.cycle]


def _sends(s: Session, alert: Alert) -> int:
    return len(_dispatched(s, alert))


def _sent(s: Session, alert: Alert) -> Goer | None:
    sends = _dispatched(s, alert)
    return Goer(sends[-1]["to"], sends[-1].get("responder_id")) if sends else None


def _taker(s: Session, alert: Alert, paged: list[Responder]) -> Goer | None:
    """The responder who acknowledged by SMS or phone ("I go"), if it was one."""
    if alert.state != State.ACKNOWLEDGED or not alert.acknowledged_by:
        return None
    channel = s.scalar(
        select(TimelineEntry.channel)
        .where(TimelineEntry.alert_id == alert.id, TimelineEntry.what == "acknowledged")
        .order_by(TimelineEntry.id.desc())
        .limit(1)
    )
    if channel not in BY_PHONE:
        return None
    r = next((r for r in paged if r.name == alert.acknowledged_by), None)
    return Goer(r.name, r.id) if r else None


def _lock(s: Session, alert_id: int) -> Alert:
    stmt = select(Alert).where(Alert.id == alert_id)
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update()  # wait, not skip: an operation on one alert must happen
    alert = s.scalars(stmt).first()
    if alert is None:
        raise AlertNotFound(alert_id)
    return alert
