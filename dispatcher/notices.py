"""The rows an escalation writes besides the alert: timeline entries, outbox rows, device feedback.

Every outbox row has a dedupe key, so a step that runs twice finds its rows instead of adding more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import wakeups
from core.schema import Alert, Contact, DeviceFeedback, Notification, Responder, TimelineEntry
from dispatcher import messages, messages_family
from dispatcher.recipients import Person, Place
from dispatcher.sms_kinds import template_of

# The outbox claims by (priority, created_at): emergencies, then answers to people, then wellness, then device pages
PRIORITY = {
    "page-emergency": 0,
    "reply": 1,
    "confirm": 1,
    "page-wellness": 2,
    "page-device": 3,
    "notice": 4,
    "family": 5,
}


@dataclass(frozen=True)
class Actor:
    """Who did something: a responder (by SMS or phone), an operator (board) or the system."""

    name: str
    channel: str  # sms | voice | web | device | system
    responder_id: str | None = None


SYSTEM = Actor("system", "system")


def timeline(s: Session, alert: Alert, now: datetime, what: str, actor: Actor, detail: dict) -> None:
    s.add(TimelineEntry(alert_id=alert.id, at=now, what=what, actor=actor.name, channel=actor.channel, detail=detail))


def upsert_notifications(s: Session, rows: list[dict]) -> None:
    """One INSERT for a step's notifications; a row whose dedupe key exists (the step ran before) is left."""
    if not rows:
        return
    dialect = postgresql if s.get_bind().dialect.name == "postgresql" else sqlite
    s.execute(dialect.insert(Notification.__table__).on_conflict_do_nothing(index_elements=["dedupe_key"]), rows)
    wakeups.notify(s, wakeups.OUTBOX)  # the sender of another process (this one is woken directly)


def row(
    alert: Alert | None,
    now: datetime,
    *,
    key: str,
    person: Person | None = None,
    to: str | None = None,
    name: str = "",
    language: str = "zh-CN",
    channel: str,
    purpose: str,
    priority: int,
    body: str,
    tier_index: int | None = None,
    tier_round: int | None = None,
    provider: str | None = None,
) -> dict:
    """One outbox row, queued now: to a person of a tier, or to a bare number (`to`, `name`).

    The body's kind and values go with it (dispatcher/sms_kinds.py) for the providers that send templates."""
    template, params = template_of(body)
    return dict(
        dedupe_key=key,
        alert_id=alert.id if alert else None,
        responder_id=person.responder_id if person else None,
        recipient_name=person.name if person else name,
        to_number=person.phone if person else to,
        channel=channel,
        purpose=purpose,
        cycle=alert.cycle if alert else 0,
        tier_index=tier_index,
        tier_round=tier_round,
        priority=priority,
        body=str(body),
        template=template,
        template_params=params,
        provider=provider,
        language=person.language if person else language,
        status="queued",
        final=False,
        failed=False,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def enqueue(s: Session, alert: Alert | None, now: datetime, **fields) -> None:
    """Queue one notification (the fields of `row`); a key queued before is left as it is."""
    upsert_notifications(s, [row(alert, now, **fields)])


def skip_unsent_pages(s: Session, alert: Alert) -> None:
    s.execute(
        update(Notification)
        .where(Notification.alert_id == alert.id, Notification.purpose == "page", Notification.status == "queued")
        .values(status="skipped", final=True)
    )


def notified_people(s: Session, alert: Alert) -> list[Responder]:
    ids = s.scalars(
        select(Notification.responder_id)
        .where(
            Notification.alert_id == alert.id,
            Notification.purpose == "page",
            Notification.status.not_in(("skipped",)),
            Notification.responder_id.is_not(None),
        )
        .distinct()
    ).all()
    return list(s.scalars(select(Responder).where(Responder.id.in_(ids)).order_by(Responder.id)).all()) if ids else []


def notice_others(s: Session, alert: Alert, place: Place, now: datetime, actor: Actor, what: str) -> None:
    """Everyone paged for the alert, except whoever did it, hears what became of it."""
    rows = []
    for r in notified_people(s, alert):
        if r.id == actor.responder_id:
            continue
        body = messages.notice_sms(
            language=r.language, what=what, resident=place.resident.name, by=actor.name, code=alert.code
        )
        rows.append(
            row(
                alert,
                now,
                key=f"{alert.id}:{alert.cycle}:{what}:{r.id}",
                to=r.phone,
                name=r.name,
                language=r.language,
                channel="sms",
                purpose="notice",
                priority=PRIORITY["notice"],
                body=body,
            )
        )
    upsert_notifications(s, rows)


def family(
    s: Session, alert: Alert, place: Place, now: datetime, opened: bool = False, cancelled: bool = False
) -> None:
    """The family hears that a call opened, and how it ended (resolved, or cancelled by the resident)."""
    if alert.kind != "emergency":
        return
    contacts = s.scalars(
        select(Contact)
        .where(Contact.resident_id == alert.resident_id, Contact.notify.is_(True))
        .order_by(Contact.position)
    ).all()
    which = "open" if opened else "cancelled" if cancelled else "closed"
    rows = []
    for c in contacts:
        local = _family_time(now, place.tz, c.timezone, c.language)
        if cancelled:
            body = messages_family.family_cancelled(resident=place.resident.name, at_local=local, language=c.language)
        else:
            body = messages_family.family_sms(
                resident=place.resident.name,
                at=local,
                opened=opened,
                reason=alert.reason,
                outcome=alert.outcome,
                language=c.language,
            )
        rows.append(
            row(
                alert,
                now,
                key=f"{alert.id}:{alert.cycle}:family-{which}:{c.phone}",
                to=c.phone,
                name=c.name,
                channel="sms",
                purpose="family",
                priority=PRIORITY["family"],
                body=body,
            )
        )
    upsert_notifications(s, rows)


def _family_time(now: datetime, home: ZoneInfo, theirs: str | None, language: str) -> str:
    """The time as the contact reads it: the community's, or, for family abroad whose clock differs
    from it, their own, said to be theirs (a son in Sydney reads 17:02 his time, not Shanghai's 14:02)."""
    home_time = now.astimezone(home)
    if theirs is None:
        return home_time.strftime("%H:%M")
    their_time = now.astimezone(ZoneInfo(theirs))
    if their_time.utcoffset() == home_time.utcoffset():
        return home_time.strftime("%H:%M")
    return messages_family.their_time(their_time.strftime("%H:%M"), language=language)


def device_feedback(s: Session, alert: Alert, now: datetime, state: str) -> None:
    """The resident's device is told what became of their press (it lights or beeps accordingly)."""
    if alert.device_id:
        s.add(
            DeviceFeedback(
                device_id=alert.device_id, ref=alert.source_event_id, alert_code=alert.code, state=state, created_at=now
            )
        )
