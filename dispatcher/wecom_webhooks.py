"""WeCom's callback for the app (接收消息): a button pressed on a page card.

WeCom checks the URL once with a GET (echostr, encrypted: we answer it decrypted) and then POSTs
each event as XML holding an encrypted XML, signed (dispatcher/wecom_crypto.py): a bad signature,
a body that does not decrypt or another corp's message gets 403 and changes nothing. A
template_card_event names the card's task id (ours: the notification's provider id), the button
(ack: 我去处理, pass: 无法前往), the member and a response_code with which the card may be updated
once. WeCom sends an event again when we do not answer in 5 seconds: a (task id, button) acted on
already changes nothing more. The answer is an empty 200, and the pressed card's buttons become
the outcome: "已由您接下，请前往", or who took it first, or that it has gone on.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

import structlog
from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from core.db import transaction
from core.schema import Alert, DeliveryReport, Notification
from dispatcher.alerts import Actor
from dispatcher.escalation import State
from dispatcher.recipients import load_place
from dispatcher.webhooks import WebhookContext
from dispatcher.wecom_api import WeComApi, WeComError
from dispatcher.wecom_cards import ACK, PASS, notification_of, pressed_line
from dispatcher.wecom_crypto import CallbackRefused, open_message

log = structlog.get_logger("jinqiao.webhooks")

MAX_BODY = 64 * 1024  # an event is a few hundred bytes


@dataclass(frozen=True)
class WeComHooks:
    api: WeComApi
    token: str
    key: bytes  # the EncodingAESKey, decoded
    corp_id: str


def field(xml: str, name: str) -> str:
    try:
        node = ET.fromstring(xml).find(name)
    except ET.ParseError:
        return ""
    return (node.text or "").strip() if node is not None else ""


def wecom_router(ctx: WebhookContext, hooks: WeComHooks) -> APIRouter:
    router = APIRouter(prefix="/wecom", tags=["wecom callback"], include_in_schema=False)

    def opened(request: Request, encrypted: str) -> str:
        q = request.query_params
        try:
            return open_message(
                hooks.key, hooks.token, hooks.corp_id, q.get("timestamp", ""), q.get("nonce", ""),
                q.get("msg_signature", ""), encrypted,
            )  # fmt: skip
        except CallbackRefused as exc:
            log.warning("webhook.wecom_refused", reason=str(exc))
            raise HTTPException(status_code=403, detail="not a signed WeCom message for this app") from None

    @router.get("/callback")
    async def verify(request: Request) -> Response:
        return Response(opened(request, request.query_params.get("echostr", "")), media_type="text/plain")

    @router.post("/callback")
    async def callback(request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(status_code=413, detail="too large for a WeCom event")
        message = opened(request, field(body.decode(errors="replace"), "Encrypt"))
        if field(message, "Event") == "template_card_event":
            await run_in_threadpool(
                handle_button, ctx, hooks.api, field(message, "TaskId"), field(message, "EventKey"),
                field(message, "FromUserName"), field(message, "ResponseCode"),
            )  # fmt: skip
        else:
            log.info("webhook.wecom_event_ignored", event=field(message, "Event") or field(message, "MsgType"))
        return Response(status_code=200)

    return router


def handle_button(ctx: WebhookContext, api: WeComApi, task: str, key: str, userid: str, response_code: str) -> None:
    if key not in (ACK, PASS) or not task:
        log.warning("webhook.wecom_unknown_button", task=task, key=key)
        return
    with transaction(ctx.sessions) as s:
        status = f"button {key}"
        if s.scalar(
            select(DeliveryReport.id).where(DeliveryReport.provider_sid == task, DeliveryReport.status == status)
        ):
            return  # WeCom sent the event again
        # the task id names our row ("jq-17"): a press may come before the send's result is stored
        n = notification_of(task)
        note = s.get(Notification, n) if n is not None else None
        if note is None or note.alert_id is None or note.channel != "card":
            log.warning("webhook.wecom_unknown_card", task=task)
            return
        s.add(
            DeliveryReport(
                notification_id=note.id, provider_sid=task, status=status, at=ctx.now(), detail={"userid": userid[:64]}
            )
        )
        alert = s.get(Alert, note.alert_id)
        assert alert is not None
        tz = load_place(s, alert.resident_id).tz
        actor = Actor(note.recipient_name or note.to_number, "card", note.responder_id)
        alert_id, tier_index, tier_round = alert.id, note.tier_index, note.tier_round
    if key == ACK:
        outcome = ctx.alerts.acknowledge(alert_id, actor)
    else:
        outcome = ctx.alerts.pass_on(alert_id, actor, from_tier=tier_index, from_round=tier_round)
    at_local = outcome.at.astimezone(tz).strftime("%H:%M") if outcome.at else None
    line = pressed_line(
        mine=outcome.by == actor.name,
        state=str(outcome.state),
        by=outcome.by,
        at_local=at_local,
        passed=key == PASS and outcome.changed,
    )
    if key == PASS and not outcome.changed and outcome.state == State.ACKNOWLEDGED and outcome.by == actor.name:
        line = "您已接下该呼叫，不能再转，请前往"
    log.info("wecom.button", task=task, key=key, changed=outcome.changed, state=str(outcome.state))
    if response_code:
        try:
            api.update_card(userid, response_code, line)
        except WeComError as exc:  # the outcome stands; the card only says it less well
            log.warning("wecom.card_update_failed", task=task, error=str(exc))
