"""A key pressed in a call whose provider tells us about it afterwards (Aliyun's IVR, by the `dtmf`
of its call reports): 1 acknowledges, 2 passes the call on, as the same keys do in a Twilio call.

The call itself could only play a fixed answer to the key (ivr_key_accept: "a text will confirm"),
so the outcome goes to the person by SMS, the same text a reply 1 or 2 would get: "confirmed, the
call is yours", or who took it first, or that it has already gone on. A key is acted on once per
call: a report pushed again, or the same key in the call's progress and its final report, is
recognised by (call id, key) in delivery_reports and changes nothing.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select

from core.db import transaction
from core.schema import Alert, DeliveryReport, Notification
from dispatcher import notices
from dispatcher.alerts import Actor
from dispatcher.notices import PRIORITY
from dispatcher.recipients import load_place
from dispatcher.webhooks import WebhookContext, _ack_answer, _note_id, _pass_answer

log = structlog.get_logger("jinqiao.webhooks")

KEYS = {"1": "ack", "2": "pass"}


def first_key(dtmf: str) -> str | None:
    """The first key of the call that means something (a volunteer may press 1 twice, or 5 then 1)."""
    return next((k for k in dtmf if k in KEYS), None)


def handle_call_key(ctx: WebhookContext, n: str | None, call_id: str, dtmf: str) -> None:
    key = first_key(dtmf)
    if key is None:
        log.info("call.key_ignored", call_id=call_id, dtmf=dtmf[:20])
        return
    with transaction(ctx.sessions) as s:
        status = f"key {key}"
        if s.scalar(
            select(DeliveryReport.id).where(DeliveryReport.provider_sid == call_id, DeliveryReport.status == status)
        ):
            return  # this call's key was acted on already
        note = s.get(Notification, _note_id(n)) if _note_id(n) else None
        if note is None or (note.provider_sid and note.provider_sid != call_id):
            note = s.scalars(select(Notification).where(Notification.provider_sid == call_id)).first()
        s.add(
            DeliveryReport(
                notification_id=note.id if note else None,
                provider_sid=call_id,
                status=status,
                at=ctx.now(),
                detail={"dtmf": dtmf[:20]},
            )
        )
        if note is None or note.alert_id is None:
            log.warning("call.key_for_unknown_call", call_id=call_id, key=key)
            return
        alert = s.get(Alert, note.alert_id)
        assert alert is not None
        place = load_place(s, alert.resident_id)
        to, name, language = note.to_number, note.recipient_name or note.to_number, note.language
        tier_index, tier_round, alert_id = note.tier_index, note.tier_round, alert.id
        actor = Actor(name, "voice", note.responder_id)
    resident = place.resident.name
    if KEYS[key] == "ack":
        outcome = ctx.alerts.acknowledge(alert_id, actor)
        answer = _ack_answer(outcome, actor, language, place.tz, resident, spoken=False)
    else:
        outcome = ctx.alerts.pass_on(alert_id, actor, from_tier=tier_index, from_round=tier_round)
        answer = _pass_answer(outcome, actor, language, place.tz, resident, spoken=False)
    with transaction(ctx.sessions) as s:
        notices.enqueue(
            s,
            None,
            ctx.now(),
            key=f"key:{call_id}:{key}",
            to=to,
            name=name,
            language=language,
            channel="sms",
            purpose="reply",
            priority=PRIORITY["reply"],
            body=answer,
        )
    log.info("call.key", call_id=call_id, key=key, changed=outcome.changed, state=str(outcome.state))
    ctx.alerts.on_outbox()
