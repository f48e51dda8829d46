"""A fake Aliyun SMS API (dysmsapi, action SendSms) for tests and the demo, which the REAL
alibabacloud-dysmsapi20170525 library talks to when its endpoint points here; its voice actions
(dyvmsapi: IvrCall, SingleCallByTts) are in fake_aliyun_voice.py, at the same endpoint.

It checks each request's ACS3-HMAC-SHA256 signature with the shared AccessKey secret (the library's
default signature: canonical request of method, path, sorted query, the signed headers and the
body's SHA-256) and refuses a bad one as Aliyun does (HTTP 400, Code SignatureDoesNotMatch); it
refuses an unknown signature name or template, template values that do not match the template's
variables, and a 51st message in 24 hours to one number with one signature and template (HTTP 200,
Code isv.BUSINESS_LIMIT_CONTROL, as Aliyun's daily limit for notifications). It records each
message, then plays the world: pushes SmsReport arrays (delivered, or failed with an error code)
and, when a number is told to, SmsUp replies to our push URLs, each push sent `repeat` times.

    with FakeAliyun({"LTAI-test": "secret"}, report_url=..., up_url=..., templates={"SMS_1": "…${code}…"}) as fake:
        fake.set_behaviour("+8613900000001", reply="1")
        ...  # JINQIAO_ALIYUN_ENDPOINT=fake.url
        fake.wait_for(lambda: fake.messages)
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlsplit

import httpx

from simulators.fake_aliyun_voice import FakeVoice
from simulators.fake_server import FakeServer

VOICE_ACTIONS = ("IvrCall", "SingleCallByTts")

T = TypeVar("T")
DAILY_LIMIT = 50  # notifications per number, signature and template in 24 hours
ALGORITHM = "ACS3-HMAC-SHA256"


@dataclass
class Sent:
    phone: str  # as Aliyun got it: 13900000001
    sign_name: str
    template_code: str
    params: dict[str, str]
    out_id: str | None
    biz_id: str
    text: str  # the template filled in, with the signature in front
    at: datetime


@dataclass
class Refusal:
    status: int
    code: str
    phone: str | None


@dataclass
class Push:
    kind: str  # SmsReport | SmsUp | VoiceReport | VoiceCallReport
    items: list[dict[str, Any]]
    status: int | None  # our webhook's answer
    answer: Any = None


@dataclass
class Behaviour:
    success: bool = True  # the delivery report
    err_code: str = "DELIVERED"  # on failure e.g. MOBILE_NOT_ON_SERVICE
    reply: str | None = None  # the person replies this to the next message that contains reply_if
    reply_if: str = "编号"
    repeat: int = 1  # every push about this number is sent this many times
    replied: bool = field(default=False, repr=False)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def canonical_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{k}={quote(v, safe='~')}" for k, v in pairs)


def expected_signature(
    secret: str, method: str, path: str, query: str, headers: dict[str, str], signed: str, payload_hash: str
) -> str:  # noqa: E501
    names = signed.split(";")
    canonical_headers = "".join(f"{n}:{headers.get(n, '').strip()}\n" for n in names)
    request = f"{method}\n{path or '/'}\n{canonical_query(query)}\n{canonical_headers}\n{signed}\n{payload_hash}"
    to_sign = f"{ALGORITHM}\n{hashlib.sha256(request.encode()).hexdigest()}"
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _aliyun_error(code: str, message: str) -> dict[str, Any]:
    return {"RequestId": str(uuid.uuid4()).upper(), "HostId": "dysmsapi.aliyuncs.com", "Code": code, "Message": message}


class FakeAliyun(FakeServer):
    name = "fake aliyun"

    def __init__(
        self,
        keys: dict[str, str],
        *,
        report_url: str | None = None,
        up_url: str | None = None,
        voice_report_url: str | None = None,
        voice_call_report_url: str | None = None,
        show_numbers: tuple[str, ...] = ("02160000000",),
        sign_names: tuple[str, ...] = ("金桥",),
        templates: dict[str, str] | None = None,  # TemplateCode -> text with ${name}; None: any code
        clock: Callable[[], datetime] = _utcnow,
        daily_limit: int = DAILY_LIMIT,
        push_delay: float = 0.3,  # Aliyun's reports come seconds after the send, never before its answer
        port: int = 0,
    ):
        self.push_delay = push_delay
        self.keys, self.report_url, self.up_url = keys, report_url, up_url
        self.push_urls = {
            "SmsReport": report_url,
            "SmsUp": up_url,
            "VoiceReport": voice_report_url,
            "VoiceCallReport": voice_call_report_url,
        }
        self.sign_names, self.templates, self.clock, self.daily_limit = sign_names, templates, clock, daily_limit
        self.messages: list[Sent] = []
        self.refusals: list[Refusal] = []
        self.pushes: list[Push] = []
        self._behaviour: dict[str, Behaviour] = {}
        self._ids = itertools.count(1)
        self._sequence = itertools.count(1000)
        self._serve(port, self._handler(), threading.Lock())
        self.voice = FakeVoice(self, show_numbers=show_numbers)

    # --- life -----------------------------------------------------------------------------------

    def set_behaviour(self, number: str, **fields: Any) -> None:
        with self._lock:
            self._behaviour[self._digits(number)] = Behaviour(**fields)

    def sent_to(self, number: str) -> list[Sent]:
        digits = self._digits(number)
        return [m for m in self.messages if m.phone == digits]

    # --- the world: a person replies ------------------------------------------------------------

    def reply(self, number: str, content: str, repeat: int = 1) -> dict[str, Any]:
        """Push one SmsUp as Aliyun does when the person at `number` replies `content`."""
        item = {
            "phone_number": self._digits(number),
            "send_time": self.clock().strftime("%Y-%m-%d %H:%M:%S"),
            "content": content,
            "sign_name": self.sign_names[0],
            "dest_code": "1234",
            "sequence_id": next(self._sequence),
        }
        for _ in range(repeat):
            self._outbox.put(("SmsUp", [item]))
        return item

    @staticmethod
    def _digits(number: str) -> str:
        digits = re.sub(r"[^0-9]", "", number)
        return digits[2:] if len(digits) == 13 and digits.startswith("86") else digits

    # --- the API --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status, answer = fake.handle(
                    self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )  # noqa: E501
                out = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json;charset=utf-8")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        return Handler

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        refused = self._check_signature(method, parts.path, parts.query, headers, body)
        if refused:
            return refused
        action = headers.get("x-acs-action")
        if action not in ("SendSms", *VOICE_ACTIONS) or headers.get("x-acs-version") != "2017-05-25":
            return 400, _aliyun_error(
                "InvalidAction.NotFound", "Specified api is not found, please check your url and method."
            )  # noqa: E501
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return self._send_sms(query) if action == "SendSms" else self.voice.call(action, query)

    def _refuse(self, phone: str | None, error: str, message: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.refusals.append(Refusal(200, error, phone))
        return 200, _aliyun_error(error, message)

    def _check_signature(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]] | None:  # noqa: E501
        found = re.fullmatch(
            rf"{ALGORITHM} Credential=([^,]+),SignedHeaders=([^,]+),Signature=([0-9a-f]+)",
            headers.get("authorization", ""),
        )  # noqa: E501
        if not found:
            return 400, _aliyun_error(
                "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )  # noqa: E501
        key_id, signed, signature = found.groups()
        secret = self.keys.get(key_id)
        if secret is None:
            return 404, _aliyun_error("InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash or not {
            "host",
            "x-acs-date",
            "x-acs-signature-nonce",
        } <= set(signed.split(";")):  # noqa: E501
            return 400, _aliyun_error(
                "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )  # noqa: E501
        wanted = expected_signature(secret, method, path, query, headers, signed, payload_hash)
        if not hmac.compare_digest(wanted, signature):
            with self._lock:
                self.refusals.append(Refusal(400, "SignatureDoesNotMatch", None))
            return 400, _aliyun_error("SignatureDoesNotMatch", "Specified signature does not match our calculation.")
        return None

    def _send_sms(self, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        phone, sign, code = q.get("PhoneNumbers", ""), q.get("SignName", ""), q.get("TemplateCode", "")
        try:
            params = json.loads(q.get("TemplateParam") or "{}")
        except ValueError:
            params = None

        def refuse(error: str, message: str) -> tuple[int, dict[str, Any]]:
            return self._refuse(phone, error, message)

        if not re.fullmatch(r"1[0-9]{10}", phone):
            return refuse("isv.MOBILE_NUMBER_ILLEGAL", "非法手机号")
        if sign not in self.sign_names:
            return refuse("isv.SMS_SIGNATURE_ILLEGAL", "该账号下找不到对应签名")
        text = (self.templates or {}).get(code, "")
        if self.templates is not None and code not in self.templates:
            return refuse("isv.SMS_TEMPLATE_ILLEGAL", "该账号下找不到对应模板")
        if not isinstance(params, dict) or (
            self.templates is not None and set(params) != set(re.findall(r"\$\{(\w+)\}", text))
        ):
            return refuse("isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        if any(len(str(v)) > 35 for v in params.values()):
            return refuse("isv.PARAM_LENGTH_LIMIT", "参数超出长度限制")
        now = self.clock()
        with self._lock:
            recent = [
                m for m in self.messages
                if (m.phone, m.sign_name, m.template_code) == (phone, sign, code) and now - m.at < timedelta(hours=24)
            ]  # fmt: skip
        if len(recent) >= self.daily_limit:
            return refuse("isv.BUSINESS_LIMIT_CONTROL", f"触发天级流控Permits:{self.daily_limit}")
        filled = re.sub(r"\$\{(\w+)\}", lambda g: str(params.get(g.group(1), "")), text)
        biz_id = f"{next(self._ids)}^0"
        sent = Sent(phone, sign, code, params, q.get("OutId"), biz_id, f"【{sign}】{filled}", now)
        with self._lock:
            self.messages.append(sent)
            behaviour = self._behaviour.get(phone, Behaviour())
        self._after_send(sent, behaviour)
        return 200, {"RequestId": str(uuid.uuid4()).upper(), "BizId": biz_id, "Code": "OK", "Message": "OK"}

    def _after_send(self, sent: Sent, behaviour: Behaviour) -> None:
        at = sent.at.strftime("%Y-%m-%d %H:%M:%S")
        report = {
            "phone_number": sent.phone,
            "send_time": at,
            "report_time": at,
            "success": behaviour.success,
            "err_code": behaviour.err_code if not behaviour.success else "DELIVERED",
            "err_msg": "用户接收成功" if behaviour.success else "用户接收失败",
            "sms_size": "1",
            "biz_id": sent.biz_id,
            "out_id": sent.out_id,
        }
        for _ in range(behaviour.repeat):
            self._outbox.put(("SmsReport", [report]))
        if behaviour.success and behaviour.reply and not behaviour.replied and behaviour.reply_if in sent.text:
            behaviour.replied = True
            self.reply(sent.phone, behaviour.reply, repeat=behaviour.repeat)

    # --- pushes -----------------------------------------------------------------------------------

    def _world(self) -> None:
        with httpx.Client(timeout=10) as http:
            while (job := self._outbox.get()) is not None:
                kind, items = job
                time.sleep(self.push_delay)  # the world's latency, not a wait for an outcome
                url = self.push_urls.get(kind)
                if not url:
                    continue
                try:
                    r = http.post(url, json=items)
                    push = Push(
                        kind,
                        items,
                        r.status_code,
                        r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text,
                    )  # noqa: E501
                except httpx.HTTPError as exc:
                    push = Push(kind, items, None, str(exc))
                with self._lock:
                    self.pushes.append(push)


def main(argv: list[str] | None = None) -> None:
    """Out of process (a demo): python -m simulators.fake_aliyun --port 8090 --secret S --push-base URL --token T"""
    import argparse
    from pathlib import Path

    import yaml

    parser = argparse.ArgumentParser(
        description="A fake Aliyun SMS and voice API (SendSms, IvrCall, SingleCallByTts) that pushes their reports."
    )
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--key-id", default="LTAI5tFakeKeyId")
    parser.add_argument("--secret", required=True, help="the AccessKey secret the signatures are checked with")
    parser.add_argument("--push-base", help="our public URL, e.g. http://127.0.0.1:8000 (no pushes without it)")
    parser.add_argument("--token", default="", help="JINQIAO_ALIYUN_PUSH_TOKEN, put in the push URLs")
    parser.add_argument("--templates", help="deploy/templates.aliyun.yaml: only its codes are known")
    parser.add_argument("--sign-name", default="金桥")
    parser.add_argument("--show-number", default="02160000000", help="the number the account calls from")
    parser.add_argument(
        "--behaviour", action="append", default=[], help='an SMS recipient, JSON: {"number": "+86…", "reply": "1"}'
    )
    parser.add_argument(
        "--call-behaviour", action="append", default=[], help='a callee, JSON: {"number": "+86…", "keys": "1"}'
    )
    args = parser.parse_args(argv)
    templates = None
    if args.templates:
        loaded = yaml.safe_load(Path(args.templates).read_text(encoding="utf-8"))
        entries = [*loaded["templates"].values(), *(loaded.get("voice") or {}).values()]  # SMS and TTS
        templates = {str(e["code"]): e["text"] for e in entries}
    base = (args.push_base or "").rstrip("/")
    fake = FakeAliyun(
        {args.key_id: args.secret},
        report_url=f"{base}/aliyun/sms-report?token={args.token}" if base else None,
        up_url=f"{base}/aliyun/sms-up?token={args.token}" if base else None,
        voice_report_url=f"{base}/aliyun/voice-report?token={args.token}" if base else None,
        voice_call_report_url=f"{base}/aliyun/voice-call-report?token={args.token}" if base else None,
        sign_names=(args.sign_name,),
        show_numbers=(args.show_number,),
        templates=templates,
        port=args.port,
    ).start()
    for given, behave in ((args.behaviour, fake.set_behaviour), (args.call_behaviour, fake.voice.set_behaviour)):
        for raw in given:
            fields = json.loads(raw)
            behave(fields.pop("number"), **fields)
    print(f"fake aliyun on {fake.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
