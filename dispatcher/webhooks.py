"""Twilio's webhooks: inbound SMS, the TwiML of a call and its keypress, delivery status.

Each request is checked against X-Twilio-Signature over JINQIAO_PUBLIC_URL + path + query; a bad
or missing one gets 403 and changes nothing. Each is safe to receive twice: a redelivered SMS is
recognised by its MessageSid, a status by (sid, status), and the operations themselves are idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from core.db import reading, transaction
from core.schema import Alert, DeliveryReport, InboundSms, Notification, Responder
from dispatcher import messages, messages_dispatch, notices
from dispatcher.alerts import Actor, Alerts, Outcome
from dispatcher.escalation import CLOSED_STATES, State
from dispatcher.notices import PRIORITY
from dispatcher.outbox_results import note_entry
from dispatcher.recipients import load_place
from dispatcher.replies import parse_reply, should_answer_nonsense
from dispatcher.twilio_adapter import twiml_alert, twiml_say, twiml_sms_reply, validate_signature
from dispatcher.visit_log import visit_by_sms

log = structlog.get_logger("jinqiao.webhooks")

SMS_FINAL = {"delivered": False, "failed": True, "undelivered": True}
CALL_FINAL = {"completed": False, "busy": True, "no-answer": True, "failed": True, "canceled": True}
XML = "application/xml"


@dataclass
class WebhookContext:
    sessions: sessionmaker[Session]
    alerts: Alerts
    auth_token: str | None
    public_url: str
    now: Callable[[], datetime]
    aliyun_push_token: str | None = None  # the token in Aliyun's push URLs (dispatcher/aliyun_webhooks.py)


def twilio_router(ctx: WebhookContext) -> APIRouter:
    router = APIRouter(prefix="/twilio", tags=["twilio webhooks"], include_in_schema=False)

    async def signed_form(request: Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.form()).items()}
        url = ctx.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
        signature = request.headers.get("X-Twilio-Signature")
        if not ctx.auth_token or not validate_signature(ctx.auth_token, url, form, signature):
            log.warning("webhook.bad_signature", path=request.url.path, has_signature=signature is not None)
            raise HTTPException(status_code=403, detail="bad or missing X-Twilio-Signature")
        return form

    def note_param(request: Request) -> str | None:
        n = request.query_params.get("n")
        if n is not None and _note_id(n) is None:  # we only ever send an id of the notifications table
            raise HTTPException(status_code=400, detail=f"n must be a notification id (1 to {MAX_ID})")
        return n

    @router.post("/status")
    async def status(request: Request) -> Response:
        form = await signed_form(request)
        await run_in_threadpool(handle_status, ctx, note_param(request), form)
        return Response(status_code=204)

    @router.post("/voice")
    async def voice(request: Request) -> Response:
        form = await signed_form(request)
        twiml = await run_in_threadpool(handle_voice, ctx, note_param(request), request.query_params.get("step"), form)
        return Response(twiml, media_type=XML)

    @router.post("/sms")
    async def sms(request: Request) -> Response:
        form = await signed_form(request)
        await run_in_threadpool(handle_sms, ctx, form)  # database work off the event loop
        return Response(twiml_sms_reply(None), media_type=XML)  # answers go out through the outbox

    return router


MAX_ID = 2**31 - 1  # the id column's range


def _note_id(raw: str | None) -> int | None:
    if not raw or not re.fullmatch(r"[0-9]{1,10}", raw):  # str.isdigit() also takes '²', which int() refuses
        return None
    return int(raw) if 1 <= int(raw) <= MAX_ID else None


# --- delivery status ---------------------------------------------------------------------------


def handle_status(ctx: WebhookContext, n: str | None, form: dict[str, str]) -> None:
    is_call = "CallSid" in form
    sid = form.get("CallSid") or form.get("MessageSid") or ""
    status = (form.get("CallStatus") if is_call else form.get("MessageStatus") or form.get("SmsStatus")) or "unknown"
    answered_by = form.get("AnsweredBy", "")
    failed_for_good = False
    with transaction(ctx.sessions) as s:
        if s.scalar(
            select(DeliveryReport.id).where(DeliveryReport.provider_sid == sid, DeliveryReport.status == status)
        ):
            return  # the same report delivered again
        note = s.get(Notification, _note_id(n)) if _note_id(n) else None
        if note is None or (note.provider_sid and note.provider_sid != sid):
            note = s.scalars(select(Notification).where(Notification.provider_sid == sid)).first()
        now = ctx.now()
        s.add(
            DeliveryReport(
                notification_id=note.id if note else None,
                provider_sid=sid,
                status=status,
                at=now,
                detail={k: form[k] for k in ("ErrorCode", "AnsweredBy", "CallDuration") if k in form},
            )
        )
        if note is None:
            log.warning("webhook.status_unknown_sid", sid=sid, status=status)
            return
        finals = CALL_FINAL if is_call else SMS_FINAL
        note.provider_status = status
        if status in finals and not note.final:
            # A call a machine took reached nobody: for the escalation it failed.
            failed = finals[status] or (is_call and answered_by.startswith(("machine", "fax")))
            note.final, note.failed = True, failed
            note.status = "failed" if failed else "delivered"
            failed_for_good = failed and note.purpose == "page"
        if note.alert_id:
            s.add(
                note_entry(
                    note,
                    now,
                    "delivery_status",
                    {
                        "status": status,
                        "sid": sid,
                        "answered_by": answered_by or None,
                        "error_code": form.get("ErrorCode"),
                    },
                )
            )
        note_id = note.id
    log.info("notification.status", sid=sid, status=status, answered_by=answered_by or None)
    if failed_for_good:
        ctx.alerts.delivery_failed(note_id)


# --- voice ---------------------------------------------------------------------------------------


def handle_voice(ctx: WebhookContext, n: str | None, step: str | None, form: dict[str, str]) -> str:
    with reading(ctx.sessions) as s:
        note = s.get(Notification, _note_id(n)) if _note_id(n) else None
        alert = s.get(Alert, note.alert_id) if note and note.alert_id else None
        if note is None or alert is None:
            return twiml_say(messages.reply_no_open_alert(language="zh-CN"))
        place = load_place(s, alert.resident_id)
        language = note.language
        script = messages.page_voice(
            language=language,
            resident=place.resident.name,
            address=place.resident.address,
            reason=alert.reason,
            tier=_tier_name(s, alert, note),
            repeats=alert.repeat_presses,
        )
        resident = place.resident.name
        now_state = Outcome(
            False, alert.id, alert.code, State(alert.state), alert.acknowledged_by, alert.acknowledged_at
        )
    gather_url = f"{ctx.public_url}/twilio/voice?n={note.id}&step=gather"
    if form.get("AnsweredBy", "").startswith(("machine", "fax")):
        # An answering machine never acknowledges; leave a short word and hang up.
        return twiml_say(messages.voice_machine(language=language), language)
    actor = Actor(note.recipient_name, "voice", note.responder_id)
    if step != "gather":
        if now_state.state in CLOSED_STATES or (now_state.state == State.ACKNOWLEDGED and now_state.by != actor.name):
            # the call rang after the alert was taken or closed: say so instead of asking them to go
            return twiml_say(_too_late(now_state, language, place.tz, resident, spoken=True), language)
        return twiml_alert(script, gather_url, language)
    digits = form.get("Digits", "")
    if digits == "1":
        outcome = ctx.alerts.acknowledge(alert.id, actor)
        return twiml_say(_ack_answer(outcome, actor, language, place.tz, resident, spoken=True), language)
    if digits == "2":
        outcome = ctx.alerts.pass_on(alert.id, actor, from_tier=note.tier_index, from_round=note.tier_round)
        answer = _pass_answer(outcome, actor, language, place.tz, resident, spoken=True)
        if not outcome.changed and outcome.state == State.TRIGGERED:
            return twiml_alert(answer, gather_url, language)  # it offers key 1: listen for it
        return twiml_say(answer, language)
    if digits == "*":
        return twiml_alert(script, gather_url, language)
    return twiml_alert(messages.voice_invalid_key(language=language) + script, gather_url, language)


def _tier_name(s: Session, alert: Alert, note: Notification) -> str:
    from dispatcher.recipients import load_policy

    policy = load_policy(s, alert.kind)
    if note.tier_index is not None and 0 <= note.tier_index < len(policy.tiers):
        return policy.tiers[note.tier_index].tier
    return "building"


def _ack_answer(outcome: Outcome, actor: Actor, language: str, tz, resident: str, spoken: bool) -> str:
    if outcome.changed or (outcome.state == State.ACKNOWLEDGED and outcome.by == actor.name):
        if spoken:
            return messages.voice_acknowledged(language=language)
        return messages.reply_acknowledged(resident=resident, code=outcome.code, language=language)
    return _too_late(outcome, language, tz, resident, spoken)


def _pass_answer(outcome: Outcome, actor: Actor, language: str, tz, resident: str, spoken: bool) -> str:
    """The answer to a `2`: passed now, or why not (and then nothing was passed)."""
    if outcome.changed:
        if spoken:
            return messages.voice_passed(language=language)
        return messages.reply_passed(resident=resident, code=outcome.code, language=language)
    if outcome.state == State.ACKNOWLEDGED and outcome.by == actor.name:
        if spoken:
            return messages.voice_cannot_pass_own(language=language)
        return messages.reply_cannot_pass_own(resident=resident, code=outcome.code, language=language)
    return _too_late(outcome, language, tz, resident, spoken)


def _too_late(outcome: Outcome, language: str, tz, resident: str, spoken: bool = False) -> str:
    """The answer to a late or repeated action: who took the call and when, that it is closed, or
    (still triggered: a stale pass) that it has already gone on to the next tier."""
    if outcome.state == State.TRIGGERED:
        if spoken:
            return messages.voice_already_moved_on(language=language)
        return messages.reply_already_moved_on(resident=resident, code=outcome.code, language=language)
    if outcome.state == State.ACKNOWLEDGED:
        at = outcome.at.astimezone(tz).strftime("%H:%M") if outcome.at else "?"
        if spoken:
            return messages.voice_already_acknowledged(by_name=outcome.by or "?", at_local=at, language=language)
        return messages.reply_already_acknowledged(
            resident=resident, code=outcome.code, by_name=outcome.by or "?", at_local=at, language=language
        )
    if spoken:
        return messages.voice_already_closed(resident=resident, state=outcome.state, language=language)
    return messages.reply_already_closed(resident=resident, code=outcome.code, state=outcome.state, language=language)


# --- SMS replies --------------------------------------------------------------------------------


def handle_sms(ctx: WebhookContext, form: dict[str, str]) -> None:
    sid, number, body = form.get("MessageSid", ""), form.get("From", ""), form.get("Body", "")
    with transaction(ctx.sessions) as s:
        if s.scalar(select(InboundSms.id).where(InboundSms.message_sid == sid)):
            return  # a redelivered webhook: acted on already
        inbound = InboundSms(message_sid=sid, from_number=number, body=body[:1600], received_at=ctx.now())
        s.add(inbound)
        s.flush()
        inbound_id = inbound.id
        responder = s.scalars(select(Responder).where(Responder.phone == number)).first()
        language = responder.language if responder else "zh-CN"
        visit_answer = visit_by_sms(s, number=number, body=body, sid=sid, now=ctx.now())  # `走访 …`
        answer: str | None
        reply = parse_reply(body) if visit_answer is None else None
        alert = ctx.alerts.newest_alert_for_number(s, number, reply.code) if reply else None
        if visit_answer is not None:
            inbound.understood, answer = True, visit_answer
        elif reply is None:
            streak = _nonsense_streak(s, number, inbound_id)
            answer = messages.reply_help(language=language) if should_answer_nonsense(streak) else None
        elif alert is None:
            answer = (
                messages.reply_unknown_code(code=reply.code, language=language)
                if reply.code
                else messages.reply_no_open_alert(language=language)
            )
        else:
            inbound.understood, inbound.alert_id = True, alert.id
            answer = None  # decided below, outside this transaction
        alert_id = alert.id if alert is not None and reply is not None else None
        act = (reply.action, load_place(s, alert.resident_id)) if alert is not None and reply is not None else None
    if alert_id is not None and act is not None:
        action, place = act
        actor = Actor(responder.name if responder else number, "sms", responder.id if responder else None)
        answer = _act_on_reply(ctx, action, alert_id, actor, language, place.tz, place.resident.name)
    with transaction(ctx.sessions) as s:
        s.execute(update(InboundSms).where(InboundSms.id == inbound_id).values(answer=answer))
        if answer:
            notices.enqueue(
                s,
                None,
                ctx.now(),
                key=f"reply:{sid}",
                to=number,
                name=actor_name(responder, number),
                language=language,
                channel="sms",
                purpose="reply",
                priority=PRIORITY["reply"],
                body=answer,
            )
    log.info("sms.reply_received", sid=sid, understood=alert_id is not None, answered=bool(answer))
    if answer:
        ctx.alerts.on_outbox()


def actor_name(responder: Responder | None, number: str) -> str:
    return responder.name if responder else number


def _act_on_reply(
    ctx: WebhookContext, action: str, alert_id: int, actor: Actor, language: str, tz, resident: str
) -> str:
    if action == "ack":
        outcome = ctx.alerts.acknowledge(alert_id, actor)
        if not outcome.changed and _sent_there(ctx, alert_id, actor):  # a "收到" from the one an operator sent
            return messages_dispatch.reply_you_are_sent(resident=resident, code=outcome.code, language=language)
        return _ack_answer(outcome, actor, language, tz, resident, spoken=False)
    if action == "pass":
        with reading(ctx.sessions) as s:
            note = s.scalars(
                select(Notification)
                .where(
                    Notification.alert_id == alert_id,
                    Notification.responder_id == actor.responder_id,
                    Notification.purpose == "page",
                )
                .order_by(Notification.id.desc())
                .limit(1)
            ).first()
        outcome = ctx.alerts.pass_on(
            alert_id, actor, from_tier=note.tier_index if note else None, from_round=note.tier_round if note else None
        )
        if not outcome.changed and _sent_there(ctx, alert_id, actor):  # sent by an operator: the call is theirs
            return messages.reply_cannot_pass_own(resident=resident, code=outcome.code, language=language)
        return _pass_answer(outcome, actor, language, tz, resident, spoken=False)
    outcome = ctx.alerts.resolve(alert_id, actor, outcome="other", note="resolved by SMS reply")
    if outcome.changed:
        return messages.reply_resolved(resident=resident, code=outcome.code, language=language)
    return _too_late(outcome, language, tz, resident)


def _sent_there(ctx: WebhookContext, alert_id: int, actor: Actor) -> bool:
    """The open alert an operator sent this responder to (dispatcher/dispatching.py)."""
    with reading(ctx.sessions) as s:
        alert = s.get(Alert, alert_id)
        return alert is not None and alert.state == State.ACKNOWLEDGED and alert.dispatched_to == actor.name


def _nonsense_streak(s: Session, number: str, before_id: int) -> int:
    """How many replies from this number in a row, before this one, we did not understand."""
    rows = s.scalars(
        select(InboundSms.understood)
        .where(InboundSms.from_number == number, InboundSms.id < before_id)
        .order_by(InboundSms.id.desc())
        .limit(20)
    ).all()
    streak = 0
    for understood in rows:
        if understood:
            break
        streak += 1
    return streak
