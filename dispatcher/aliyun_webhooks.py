"""Aliyun's HTTP pushes: SmsReport (delivery reports) and SmsUp (replies) of its SMS, VoiceReport
(a call's record when it ends) and VoiceCallReport (its progress) of its calls, each a JSON array.

Aliyun signs nothing it pushes; the address is ours to give, so we give it a secret:
JINQIAO_PUBLIC_URL + /aliyun/sms-report?token=<JINQIAO_ALIYUN_PUSH_TOKEN> (and /aliyun/sms-up?token=…),
over https. A wrong or missing token gets 403 and changes nothing. Aliyun pushes again when it does
not get HTTP 200 in time, so each item is safe twice: a report by (BizId, status), a reply by its
sequence_id. Both go through Twilio's own handling (dispatcher/webhooks.py): a failed report fails the
notification as a failed Twilio status does, a reply is read by the same grammar (1/2/3/收到, 走访 …).
A call's record reads as a Twilio call status (CALL_STATUS below: answered, busy, no answer,
failed), and the key pressed in an IVR call, its `dtmf`, acknowledges or passes as a reply 1 or 2
would (dispatcher/call_keys.py), once per call: it is in the progress push (status 300000) as soon
as it is pressed, and again in the record. The answer is Aliyun's {"code": 0}.
"""

from __future__ import annotations

import hmac
import json
import re

import structlog
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from dispatcher.call_keys import handle_call_key
from dispatcher.webhooks import WebhookContext, handle_sms, handle_status

log = structlog.get_logger("jinqiao.webhooks")

RECEIVED = {"code": 0, "msg": "接收成功"}
MAX_ITEMS = 1000  # a push holds a batch; a body far bigger than Aliyun's batches is no push of theirs


def e164(number: str) -> str:
    """Aliyun's 11-digit mainland number as our +86…; a number with its country code kept as given."""
    digits = re.sub(r"[^0-9]", "", number)
    if len(digits) == 11 and digits.startswith("1"):
        return "+86" + digits
    return "+" + digits.removeprefix("00")


def report_form(item: dict) -> tuple[str | None, dict[str, str]]:
    """A SmsReport item as the Twilio status form handle_status reads, and our notification id (out_id)."""
    status = "delivered" if item.get("success") is True else "failed"
    form = {"MessageSid": str(item.get("biz_id") or ""), "MessageStatus": status}
    if item.get("err_code") and status == "failed":
        form["ErrorCode"] = str(item["err_code"])
    out_id = item.get("out_id")
    return (str(out_id) if out_id not in (None, "") else None), form


def up_form(item: dict) -> dict[str, str]:
    """A SmsUp item as the Twilio inbound form handle_sms reads; its sequence_id is the message's id."""
    return {
        "MessageSid": f"aliyun-up:{item.get('sequence_id')}",
        "From": e164(str(item.get("phone_number") or "")),
        "Body": str(item.get("content") or ""),
    }


# Aliyun's call result codes (语音服务 呼叫状态码) as Twilio's CallStatus; any other code is "failed".
CALL_STATUS = {
    "200000": "completed",  # listened to the end
    "200001": "completed",  # hung up before the end: answered all the same
    "200008": "completed",  # the IVR heard no key: answered, not acknowledged
    "200002": "busy",
    "200112": "busy",
    "200003": "no-answer",
    "200113": "no-answer",
}
KEY_PRESSED = "300000"  # a VoiceCallReport with the key just pressed


def call_form(item: dict) -> tuple[str | None, dict[str, str]]:
    """A VoiceReport item as the Twilio call status form handle_status reads, and our notification id."""
    code = str(item.get("status_code") or "")
    form = {"CallSid": str(item.get("call_id") or ""), "CallStatus": CALL_STATUS.get(code, "failed")}
    if form["CallStatus"] == "failed":
        form["ErrorCode"] = code or "none"
    if item.get("duration") not in (None, ""):
        form["CallDuration"] = str(item["duration"])
    out_id = item.get("out_id")
    return (str(out_id) if out_id not in (None, "") else None), form


def aliyun_router(ctx: WebhookContext) -> APIRouter:
    router = APIRouter(prefix="/aliyun", tags=["aliyun pushes"], include_in_schema=False)

    async def pushed(request: Request) -> list[dict]:
        token = request.query_params.get("token") or ""
        expected = ctx.aliyun_push_token or ""
        if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
            log.warning("webhook.bad_token", path=request.url.path, has_token=bool(token))
            raise HTTPException(status_code=403, detail="bad or missing token")
        try:
            items = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(status_code=400, detail="the body must be a JSON array of reports") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items) or len(items) > MAX_ITEMS:
            raise HTTPException(status_code=400, detail=f"the body must be a JSON array of at most {MAX_ITEMS} objects")
        return items

    @router.post("/sms-report")
    async def sms_report(request: Request) -> JSONResponse:
        for item in await pushed(request):
            n, form = report_form(item)
            if not form["MessageSid"]:
                log.warning("webhook.report_without_biz_id", item=item)
                continue
            await run_in_threadpool(handle_status, ctx, n, form)
        return JSONResponse(RECEIVED)

    @router.post("/sms-up")
    async def sms_up(request: Request) -> JSONResponse:
        for item in await pushed(request):
            if item.get("sequence_id") in (None, "") or not item.get("phone_number"):
                log.warning("webhook.reply_without_id", item=item)
                continue
            await run_in_threadpool(handle_sms, ctx, up_form(item))
        return JSONResponse(RECEIVED)

    @router.post("/voice-report")
    async def voice_report(request: Request) -> JSONResponse:
        for item in await pushed(request):
            n, form = call_form(item)
            if not form["CallSid"]:
                log.warning("webhook.call_report_without_id", item=item)
                continue
            if item.get("dtmf"):  # the key first: the record may say "failed" for a call hung up after it
                await run_in_threadpool(handle_call_key, ctx, n, form["CallSid"], str(item["dtmf"]))
            await run_in_threadpool(handle_status, ctx, n, form)
        return JSONResponse(RECEIVED)

    @router.post("/voice-call-report")
    async def voice_call_report(request: Request) -> JSONResponse:
        for item in await pushed(request):
            call_id, out_id = str(item.get("call_id") or ""), item.get("out_id")
            if call_id and str(item.get("status_code")) == KEY_PRESSED and item.get("dtmf"):
                n = str(out_id) if out_id not in (None, "") else None
                await run_in_threadpool(handle_call_key, ctx, n, call_id, str(item["dtmf"]))
            # ringing, answered, ended: the record (voice-report) says how the call went
        return JSONResponse(RECEIVED)

    return router
