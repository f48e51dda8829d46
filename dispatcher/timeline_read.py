"""An alert's readable history (dispatcher.timeline_text) from its rows: the timeline, the
notifications with their text, and the SMS replies linked to it. Reads only."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import Alert, InboundSms, Notification, Responder, TimelineEntry
from dispatcher import messages
from dispatcher.recipients import load_place, load_policy
from dispatcher.timeline_text import Entry, Line, Message, Reply, render

SHOWN_PURPOSES = ("page", "notice", "family", "confirm", "group")


def readable_timeline(s: Session, alert: Alert, lang: str) -> list[Line]:
    place = load_place(s, alert.resident_id)
    tiers = [t.tier for t in load_policy(s, alert.kind).tiers]
    entries = [
        Entry(e.at, e.what, e.actor, e.channel, dict(e.detail or {}))
        for e in s.scalars(select(TimelineEntry).where(TimelineEntry.alert_id == alert.id).order_by(TimelineEntry.id))
    ]
    notes = s.scalars(
        select(Notification)
        .where(Notification.alert_id == alert.id, Notification.purpose.in_(SHOWN_PURPOSES))
        .order_by(Notification.id)
    ).all()
    sent = []
    for n in notes:
        tier = (
            tiers[n.tier_index]
            if n.purpose == "page" and n.tier_index is not None and n.tier_index < len(tiers)
            else None
        )
        body = n.body
        if n.channel == "voice" and not body and n.purpose == "page":
            body = messages.page_voice(  # what the call says, as webhooks.handle_voice speaks it
                language=n.language,
                resident=place.resident.name,
                address=place.resident.address,
                reason=alert.reason,
                tier=tier or "building",
                repeats=alert.repeat_presses,
            )
        sent.append(
            Message(
                n.created_at,
                n.recipient_name or n.to_number,
                n.channel,
                n.purpose,
                body,
                n.status,
                n.provider_status,
                tier,
            )
        )
    inbound = s.scalars(select(InboundSms).where(InboundSms.alert_id == alert.id).order_by(InboundSms.id)).all()
    numbers = {i.from_number for i in inbound}
    names = (
        {r.phone: r.name for r in s.scalars(select(Responder).where(Responder.phone.in_(numbers)))} if numbers else {}
    )
    replies = [Reply(i.received_at, names.get(i.from_number, i.from_number), i.body, i.answer) for i in inbound]
    return render(entries, sent, replies, place.tz, lang, place.resident.name)
