"""A fake Twilio REST API for tests, benchmarks and the demo.

It answers the calls the real `twilio` library makes (Messages.json, Calls.json, GET by SID),
records them, then plays the rest of the world: steps message and call statuses with SIGNED
status callbacks, fetches a call's TwiML, presses keys on its <Gather>, and replies by SMS as a
person would — all driven by a behaviour per phone number.

In-process:
    with FakeTwilio(auth_token="tok", webhook_base="http://127.0.0.1:8000", speed=50) as fake:
        fake.set_behaviour("+8613900000001", call_answer="human", press="1")
        ...  # point JINQIAO_TWILIO_API_URL at fake.url
        fake.wait_for(lambda: fake.calls and fake.calls[-1].status == "completed")

Out of process (the demo):
    python simulators/fake_twilio.py --port 8089 --webhook-base http://127.0.0.1:8000 --auth-token TOKEN
    curl -d '{"number": "+8613900000001", "sms_reply": "1", "reply_after": 2}' localhost:8089/_fake/behaviour
    curl localhost:8089/_fake/sent

Behaviour fields (per number, or the global default with no number; unset fields fall back):
    sms_status    delivered | undelivered | failed   (error_code: Twilio's 3000x, defaulted)
    sms_reply     text the person replies to a delivered SMS, after reply_after seconds;
                  only to the next reply_times messages (default 1, so replies to our own
                  confirmations cannot loop), and only to bodies containing reply_if when set
    call_answer   human | machine | no-answer | busy | failed
    press         keys pressed one per <Gather>, e.g. "1", or "*1" (repeat, then acknowledge);
                  press_after seconds after the TwiML arrives
    api_error     HTTP status (500, 429, 400, …) for the API request itself; api_timeout:
                  seconds the API request hangs; both for the next `times` requests (unset:
                  every request) to that number
Seconds (delays and *_after) are divided by `speed`; api_timeout is not, as it races the
client's real timeout.
"""

from __future__ import annotations

import argparse
import base64
import copy
import itertools
import json
import math
import re
import secrets
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from twilio.request_validator import RequestValidator

T = TypeVar("T")
API = "/2010-04-01/Accounts/"
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
KEYS = set("0123456789*#")

BEHAVIOUR_DEFAULTS: dict[str, Any] = {
    "sms_status": "delivered",
    "error_code": None,
    "sms_reply": None,
    "reply_after": 2.0,
    "reply_times": 1,
    "reply_if": None,
    "call_answer": "human",
    "press": None,
    "press_after": 1.0,
    "api_error": None,
    "api_timeout": None,
    "times": None,
}
_CHOICES = {
    "sms_status": {"delivered", "undelivered", "failed"},
    "call_answer": {"human", "machine", "no-answer", "busy", "failed"},
}
_SMS_ERROR = {"undelivered": 30003, "failed": 30008}  # unreachable handset; unknown error
_API_ERROR = {
    400: (21211, "The 'To' number is not a valid phone number."),
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


@dataclass(frozen=True)
class Delays:
    """Realistic seconds for the demo; tests divide them with `speed`."""

    status_step: float = 1.0  # queued → sent → delivered; call created → initiated
    ring: float = 2.0  # initiated → ringing (and → busy / failed)
    answer: float = 4.0  # ringing → in-progress
    no_answer: float = 20.0  # ringing → no-answer
    talk: float = 3.0  # last TwiML → hang up


@dataclass
class Sent:
    """One accepted API request: an SMS or a call, and what became of it."""

    kind: str  # sms | call
    sid: str
    to: str
    from_: str
    body: str | None
    url: str | None  # the call's TwiML URL
    status_callback: str | None
    time: datetime
    account_sid: str = ""
    status: str = "queued"
    statuses: list[str] = field(default_factory=list)
    error_code: int | None = None
    answered_by: str | None = None
    duration: int | None = None
    twiml: list[str] = field(default_factory=list)  # the call's TwiML, then each Gather answer
    digits: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    params: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Inbound:
    """An SMS the person sent to us (a webhook post), and what our app answered."""

    sid: str
    from_: str
    to: str
    body: str
    url: str
    time: datetime
    status_code: int | None = None
    response: str | None = None
    replies: list[str] = field(default_factory=list)  # <Message> texts of the TwiML answer


@dataclass
class Callback:
    """A signed webhook post the fake made (status callback, TwiML fetch, gather, inbound SMS)."""

    kind: str
    url: str
    params: dict[str, str]
    signature: str
    time: datetime
    status_code: int | None = None
    error: str | None = None


@dataclass
class ApiRequest:
    """Every REST request, refused ones too (retries show here)."""

    time: datetime
    method: str
    path: str
    to: str | None
    status_code: int


class _Stopped(Exception):
    pass


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)  # 2 + 32 = 34 characters, like Twilio's


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_jsonable(v) for v in obj]
    return obj


def _check_behaviour(fields: dict[str, Any]) -> None:
    for key, value in fields.items():
        if key not in BEHAVIOUR_DEFAULTS:
            raise ValueError(f"unknown behaviour field {key!r}")
        if key in _CHOICES and value not in _CHOICES[key]:
            raise ValueError(f"{key} must be one of {sorted(_CHOICES[key])}")
        if key == "press" and value is not None and (not value or set(str(value)) - KEYS):
            raise ValueError("press must be keys such as '1' or '*1'")
        if key == "api_error" and value is not None and not (400 <= int(value) <= 599):
            raise ValueError("api_error must be an HTTP error status")


class FakeTwilio:
    def __init__(
        self,
        *,
        auth_token: str,
        account_sid: str | None = None,
        webhook_base: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        delays: Delays = Delays(),
        speed: float = 1.0,
        phone_number: str = "+15005550006",
        verbose: bool = False,
    ):
        """account_sid None accepts any AC… user whose password is `auth_token`. port 0 picks a free one."""
        self.auth_token = auth_token
        self.account_sid = account_sid
        self.webhook_base = webhook_base.rstrip("/") if webhook_base else None
        self.delays = delays
        self.speed = speed
        self.phone_number = phone_number
        self.verbose = verbose
        self._validator = RequestValidator(auth_token)
        self._cond = threading.Condition(threading.RLock())
        self._stop = threading.Event()
        self._sent: list[Sent] = []
        self._inbound: list[Inbound] = []
        self._callbacks: list[Callback] = []
        self._requests: list[ApiRequest] = []
        self._behaviours: dict[str | None, dict[str, Any]] = {}
        self._threads: list[threading.Thread] = []
        self._seq = itertools.count()
        self._http = httpx.Client(timeout=10.0)
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._serve_thread: threading.Thread | None = None

    # --- life -------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self._server.server_address[0]}:{self.port}"  # type: ignore[str-bytes-safe]  # a TCP server: the host is a str

    def start(self) -> FakeTwilio:
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-twilio-http", daemon=True
        )
        self._serve_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        for t in list(self._threads):
            t.join(timeout=2.0)
        self._http.close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what tests and the demo read --------------------------------------------------------

    def _copy(self, items: list[T]) -> list[T]:
        with self._cond:  # shallow clones: cheap enough to poll in a benchmark with thousands of sends
            return [_clone(item) for item in items]

    @property
    def messages(self) -> list[Sent]:
        return [s for s in self._copy(self._sent) if s.kind == "sms"]

    @property
    def calls(self) -> list[Sent]:
        return [s for s in self._copy(self._sent) if s.kind == "call"]

    @property
    def inbound(self) -> list[Inbound]:
        return self._copy(self._inbound)

    @property
    def callbacks(self) -> list[Callback]:
        return self._copy(self._callbacks)

    @property
    def requests(self) -> list[ApiRequest]:
        return self._copy(self._requests)

    def snapshot(self) -> dict[str, Any]:
        with self._cond:
            return _jsonable(
                {
                    "messages": [asdict(s) for s in self._sent if s.kind == "sms"],
                    "calls": [asdict(s) for s in self._sent if s.kind == "call"],
                    "inbound": [asdict(i) for i in self._inbound],
                    "callbacks": [asdict(c) for c in self._callbacks],
                    "requests": [asdict(r) for r in self._requests],
                }
            )

    def wait_for(self, predicate: Callable[[], T], timeout: float = 5.0) -> T:
        """Returns predicate()'s first truthy value; re-checked on every change. TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"fake twilio: condition not met in {timeout}s")
                self._cond.wait(min(left, 0.05))

    def reset(self) -> None:
        with self._cond:
            for items in (self._sent, self._inbound, self._callbacks, self._requests):
                items.clear()
            self._behaviours.clear()
            self._cond.notify_all()

    # --- behaviour ---------------------------------------------------------------------------

    def set_behaviour(self, number: str | None = None, **fields: Any) -> None:
        """Merges `fields` into the behaviour of `number` (None: the global default)."""
        _check_behaviour(fields)
        if "sms_reply" in fields and "reply_times" not in fields:
            fields["reply_times"] = 1
        if ("api_error" in fields or "api_timeout" in fields) and "times" not in fields:
            fields["times"] = None
        with self._cond:
            self._behaviours.setdefault(number, {}).update(fields)

    def reset_behaviour(self, number: str | None = None) -> None:
        with self._cond:
            self._behaviours.pop(number, None)

    def behaviour(self, number: str | None) -> dict[str, Any]:
        with self._cond:
            return {**BEHAVIOUR_DEFAULTS, **self._behaviours.get(None, {}), **self._behaviours.get(number, {})}

    def _take(self, number: str, key: str, counter: str) -> Any:
        """The value of `key` for `number` if its `counter` allows one more use (None: always)."""
        with self._cond:
            for owner in (number, None):
                fields = self._behaviours.get(owner, {})
                if fields.get(key) is None:
                    continue
                left = fields.get(counter, BEHAVIOUR_DEFAULTS[counter])
                if left is None:
                    return fields[key]
                if left <= 0:
                    return None
                fields[counter] = left - 1
                return fields[key]
            return None

    # --- the person's side ---------------------------------------------------------------------

    def inbound_sms(self, from_: str, body: str, to: str | None = None) -> Inbound:
        """The person at `from_` texts `body` to us: a signed POST to {webhook_base}/twilio/sms."""
        if not self.webhook_base:
            raise RuntimeError("fake twilio: webhook_base is not set")
        to = to or self._our_number_for(from_)
        with self._cond:
            account = self.account_sid or (self._sent[-1].account_sid if self._sent else "AC" + "0" * 32)
        sid = new_sid("SM")
        url = f"{self.webhook_base}/twilio/sms"
        params = {
            "AccountSid": account,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "SmsStatus": "received",
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
            "NumSegments": "1",
        }
        rec = Inbound(sid=sid, from_=from_, to=to, body=body, url=url, time=_now())
        status, text = self._webhook("sms", url, params)
        rec.status_code, rec.response = status, text
        if text:
            rec.replies = _message_texts(text)
        with self._cond:
            self._inbound.append(rec)
            self._cond.notify_all()
        self._log("sms.inbound", from_=from_, body=body, status=status, replies=rec.replies)
        return _clone(rec)

    def _our_number_for(self, person: str) -> str:
        with self._cond:
            for s in reversed(self._sent):
                if s.to == person:
                    return s.from_
            return self._sent[-1].from_ if self._sent else self.phone_number

    # --- the REST API ------------------------------------------------------------------------

    def _api_failure(self, to: str | None) -> tuple[int, dict[str, Any]] | None:
        if not to:
            return None
        b = self.behaviour(to)
        if b["api_timeout"] is not None and self._take(to, "api_timeout", "times") is not None:
            self._stop.wait(float(b["api_timeout"]))
            return 504, _error_body(504, 20504, "Gateway Timeout")
        if b["api_error"] is not None and self._take(to, "api_error", "times") is not None:
            status = int(b["api_error"])
            code, message = _API_ERROR.get(status, (status * 100 if status < 600 else status, "Error"))
            if status == 400:
                message = f"The 'To' number {to} is not a valid phone number."
            return status, _error_body(status, code, message)
        return None

    def create_message(self, account: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        one = {k: v[0] for k, v in form.items()}
        to, from_, body = one.get("To"), one.get("From"), one.get("Body")
        if not to or not E164.match(to):
            return 400, _error_body(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_:
            return 400, _error_body(400, 21603, "A 'From' phone number is required.")
        if not body:
            return 400, _error_body(400, 21602, "Message body is required.")
        rec = Sent(
            kind="sms",
            sid=new_sid("SM"),
            to=to,
            from_=from_,
            body=body,
            url=None,
            status_callback=one.get("StatusCallback"),
            time=_now(),
            account_sid=account,
            statuses=["queued"],
            params=form,
        )
        answer = self._message_json(account, rec)
        self._add(rec)
        self._log("sms.sent", sid=rec.sid, to=to, body=body)
        self._spawn(self._run_message, rec)
        return 201, answer

    def create_call(self, account: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        one = {k: v[0] for k, v in form.items()}
        to, from_ = one.get("To"), one.get("From")
        if not to or not E164.match(to):
            return 400, _error_body(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not from_:
            return 400, _error_body(400, 21213, "No 'From' number is specified")
        if not one.get("Url") and not one.get("Twiml"):
            return 400, _error_body(400, 21205, "Url parameter is required.")
        rec = Sent(
            kind="call",
            sid=new_sid("CA"),
            to=to,
            from_=from_,
            body=one.get("Twiml"),
            url=one.get("Url"),
            status_callback=one.get("StatusCallback"),
            time=_now(),
            account_sid=account,
            statuses=["queued"],
            params=form,
        )
        answer = self._call_json(account, rec)
        self._add(rec)
        self._log("call.placed", sid=rec.sid, to=to, url=rec.url)
        self._spawn(self._run_call, rec)
        return 201, answer

    def fetch(self, account: str, kind: str, sid: str) -> tuple[int, dict[str, Any]]:
        with self._cond:
            rec = next((s for s in self._sent if s.sid == sid and s.kind == kind), None)
            if rec is None:
                return 404, _error_body(404, 20404, f"The requested resource {sid} was not found")
            return 200, (self._message_json if kind == "sms" else self._call_json)(account, rec)

    def _message_json(self, account: str, rec: Sent) -> dict[str, Any]:
        date = format_datetime(rec.time, usegmt=True)
        return {
            "sid": rec.sid,
            "account_sid": account,
            "api_version": "2010-04-01",
            "to": rec.to,
            "from": rec.from_,
            "body": rec.body,
            "status": rec.status,
            "direction": "outbound-api",
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "price_unit": "USD",
            "error_code": rec.error_code,
            "error_message": None,
            "messaging_service_sid": None,
            "date_created": date,
            "date_updated": date,
            "date_sent": None,
            "uri": f"{API}{account}/Messages/{rec.sid}.json",
            "subresource_uris": {"media": f"{API}{account}/Messages/{rec.sid}/Media.json"},
        }

    def _call_json(self, account: str, rec: Sent) -> dict[str, Any]:
        date = format_datetime(rec.time, usegmt=True)
        return {
            "sid": rec.sid,
            "account_sid": account,
            "api_version": "2010-04-01",
            "to": rec.to,
            "to_formatted": rec.to,
            "from": rec.from_,
            "from_formatted": rec.from_,
            "status": rec.status,
            "direction": "outbound-api",
            "answered_by": rec.answered_by,
            "duration": None if rec.duration is None else str(rec.duration),
            "price": None,
            "price_unit": "USD",
            "date_created": date,
            "date_updated": date,
            "start_time": None,
            "end_time": None,
            "parent_call_sid": None,
            "uri": f"{API}{account}/Calls/{rec.sid}.json",
        }

    # --- what happens after the API answered ---------------------------------------------------

    def _add(self, rec: Sent) -> None:
        with self._cond:
            self._sent.append(rec)
            self._cond.notify_all()

    def _spawn(self, target: Callable[[Sent], None], rec: Sent) -> None:
        def run() -> None:
            try:
                target(rec)
            except _Stopped:
                pass

        t = threading.Thread(target=run, name=f"fake-twilio-{rec.sid}", daemon=True)
        with self._cond:
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()

    def _pause(self, seconds: float) -> float:
        if self._stop.wait(seconds / self.speed):
            raise _Stopped
        return seconds

    def _set(self, rec: Sent, status: str, **changes: Any) -> None:
        with self._cond:
            rec.status = status
            rec.statuses.append(status)
            for key, value in changes.items():
                setattr(rec, key, value)
            self._cond.notify_all()
        self._log(f"{rec.kind}.status", sid=rec.sid, to=rec.to, status=status)

    def _run_message(self, rec: Sent) -> None:
        b = self.behaviour(rec.to)
        final = b["sms_status"]
        self._pause(self.delays.status_step)
        if final != "failed":
            self._set(rec, "sent")
            self._message_callback(rec)
            self._pause(self.delays.status_step)
        error = b["error_code"] or _SMS_ERROR.get(final)
        self._set(rec, final, error_code=error)
        self._message_callback(rec)
        if final != "delivered":
            return
        b = self.behaviour(rec.to)
        if b["reply_if"] and b["reply_if"] not in (rec.body or ""):
            return
        reply = self._take(rec.to, "sms_reply", "reply_times")
        if reply is not None:
            self._pause(float(b["reply_after"]))
            self.inbound_sms(rec.to, str(reply), to=rec.from_)

    def _message_callback(self, rec: Sent) -> None:
        if not rec.status_callback:
            return
        params = {
            "AccountSid": rec.account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": rec.sid,
            "SmsSid": rec.sid,
            "MessageStatus": rec.status,
            "SmsStatus": rec.status,
            "From": rec.from_,
            "To": rec.to,
        }
        if rec.error_code:
            params["ErrorCode"] = str(rec.error_code)
        self._webhook("status", self._absolute(rec.status_callback), params)

    def _run_call(self, rec: Sent) -> None:
        b = self.behaviour(rec.to)
        answer, d = b["call_answer"], self.delays
        amd = (rec.params.get("MachineDetection") or [""])[0] in ("Enable", "DetectMessageEnd")
        self._pause(d.status_step)
        self._set(rec, "initiated")
        self._call_callback(rec, "initiated")
        self._pause(d.ring)
        if answer in ("busy", "failed"):
            return self._end_call(rec, answer, 0)
        self._set(rec, "ringing")
        self._call_callback(rec, "ringing")
        if answer == "no-answer":
            self._pause(d.no_answer)
            return self._end_call(rec, "no-answer", 0)
        self._pause(d.answer)
        self._set(rec, "in-progress", answered_by=("human" if answer == "human" else "machine_start") if amd else None)
        self._call_callback(rec, "answered")
        talked = self._converse(rec, list(b["press"] or "") if answer == "human" else [], float(b["press_after"]))
        talked += self._pause(d.talk)
        self._end_call(rec, "completed", max(1, math.ceil(talked)))

    def _converse(self, rec: Sent, keys: list[str], press_after: float) -> float:
        """Fetches the call's TwiML and presses `keys`, one per <Gather>. Returns seconds spent."""
        talked = 0.0
        doc_url = self._absolute(rec.url) if rec.url else ""
        doc = rec.body if not rec.url else self._voice_request(rec, doc_url, {})
        for _ in range(10):
            if doc is None:
                break
            try:
                root = ET.fromstring(doc)
            except ET.ParseError as exc:
                self._call_error(rec, f"TwiML is not XML: {exc}")
                break
            gather, redirect = root.find(".//Gather"), root.find(".//Redirect")
            if gather is not None and keys:
                talked += self._pause(press_after)
                key = keys.pop(0)
                with self._cond:
                    rec.digits.append(key)
                doc_url = urljoin(doc_url, gather.get("action") or doc_url)
                doc = self._voice_request(rec, doc_url, {"Digits": key, "FinishedOnKey": ""})
            elif gather is None and redirect is not None and redirect.text:
                doc_url = urljoin(doc_url, redirect.text.strip())
                doc = self._voice_request(rec, doc_url, {})
            else:
                break
        return talked

    def _voice_request(self, rec: Sent, url: str, extra: dict[str, str]) -> str | None:
        params = {**self._call_params(rec), **extra}
        status, text = self._webhook("voice", url, params)
        if status is None or not 200 <= status < 300:
            self._call_error(rec, f"TwiML request to {url} answered {status}")
            return None
        with self._cond:
            rec.twiml.append(text or "")
            self._cond.notify_all()
        self._log("call.twiml", sid=rec.sid, url=url, digits=extra.get("Digits"), twiml=text)
        return text

    def _call_error(self, rec: Sent, message: str) -> None:
        with self._cond:
            rec.errors.append(message)
            self._cond.notify_all()

    def _end_call(self, rec: Sent, status: str, duration: int) -> None:
        self._set(rec, status, duration=duration)
        self._call_callback(rec, "completed")

    def _call_params(self, rec: Sent) -> dict[str, str]:
        params = {
            "AccountSid": rec.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": rec.sid,
            "CallStatus": rec.status,
            "Direction": "outbound-api",
            "From": rec.from_,
            "To": rec.to,
            "Caller": rec.from_,
            "Called": rec.to,
        }
        if rec.answered_by:
            params["AnsweredBy"] = rec.answered_by
        return params

    def _call_callback(self, rec: Sent, event: str) -> None:
        wanted = rec.params.get("StatusCallbackEvent") or []
        if not rec.status_callback or (event != "completed" and event not in wanted):
            return
        params = {
            **self._call_params(rec),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(sum(1 for s in rec.statuses if s != "queued") - 1),
            "Timestamp": format_datetime(_now(), usegmt=True),
        }
        if event == "completed":
            params["CallDuration"] = str(rec.duration or 0)
            params["Duration"] = str(math.ceil((rec.duration or 0) / 60))
        self._webhook("status", self._absolute(rec.status_callback), params)

    # --- signed webhooks -----------------------------------------------------------------------

    def _absolute(self, url: str) -> str:
        return url if urlsplit(url).scheme else f"{self.webhook_base or ''}{url}"

    def _webhook(self, kind: str, url: str, params: dict[str, str]) -> tuple[int | None, str | None]:
        """POSTs `params` to `url`, signed over that exact URL as Twilio does."""
        signature = self._validator.compute_signature(url, params)
        cb = Callback(kind=kind, url=url, params=params, signature=signature, time=_now())
        try:
            resp = self._http.post(
                url, data=params, headers={"X-Twilio-Signature": signature, "User-Agent": "TwilioProxy/1.1"}
            )
            cb.status_code, text = resp.status_code, resp.text
        except httpx.HTTPError as exc:
            cb.error, text = f"{type(exc).__name__}: {exc}", None
            self._log("webhook.failed", url=url, error=cb.error)
        with self._cond:
            self._callbacks.append(cb)
            self._cond.notify_all()
        return cb.status_code, text

    def _log(self, event: str, **kw: Any) -> None:
        if self.verbose:
            print(json.dumps({"event": event, **kw}, ensure_ascii=False), file=sys.stderr, flush=True)

    def _record_request(self, method: str, path: str, to: str | None, status: int) -> None:
        with self._cond:
            self._requests.append(ApiRequest(time=_now(), method=method, path=path, to=to, status_code=status))
            self._cond.notify_all()


def _clone(obj: T) -> T:
    twin = copy.copy(obj)
    for f in dataclass_fields(twin):  # type: ignore[arg-type]
        value = getattr(twin, f.name)
        if isinstance(value, (list, dict)):
            setattr(twin, f.name, copy.copy(value))
    return twin


def _error_body(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _message_texts(twiml: str) -> list[str]:
    try:
        root = ET.fromstring(twiml)
    except ET.ParseError:
        return []
    return ["".join(m.itertext()).strip() for m in root.iter("Message")]


_ROUTE = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/(?P<what>Messages|Calls)(?:/(?P<sid>\w+))?\.json$")


class _Handler(BaseHTTPRequestHandler):
    disable_nagle_algorithm = True  # else every answer waits ~40 ms for Nagle's algorithm
    fake: FakeTwilio
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # http.server prints every request otherwise
        pass

    def _form(self) -> dict[str, list[str]]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        return parse_qs(raw, keep_blank_values=True)

    def _json_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def _reply(self, status: int, payload: Any) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (its timeout); nothing to tell

    def _authorised(self, account: str) -> bool:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        except ValueError:
            return False
        fake = self.fake
        return (
            user == account
            and (fake.account_sid is None or user == fake.account_sid)
            and secrets.compare_digest(password, fake.auth_token)
        )

    def _api(self, method: str) -> None:
        fake, path = self.fake, urlsplit(self.path).path
        m = _ROUTE.match(path)
        form = self._form() if method == "POST" else {}
        to = (form.get("To") or [None])[0]  # type: ignore[list-item]
        if m is None:
            status, body = 404, _error_body(404, 20404, "The requested resource was not found")
        elif not self._authorised(m["account"]):
            status, body = 401, _error_body(401, 20003, "Authenticate")
        elif method == "GET" and m["sid"]:
            status, body = fake.fetch(m["account"], "sms" if m["what"] == "Messages" else "call", m["sid"])
        elif method == "POST" and not m["sid"]:
            failure = fake._api_failure(to)
            if failure:
                status, body = failure
            elif m["what"] == "Messages":
                status, body = fake.create_message(m["account"], form)
            else:
                status, body = fake.create_call(m["account"], form)
        else:
            status, body = 405, _error_body(405, 20004, "Method not allowed")
        fake._record_request(method, path, to, status)
        self._reply(status, body)

    def _fake_api(self, method: str) -> None:
        fake, path = self.fake, urlsplit(self.path).path
        try:
            if method == "GET" and path == "/_fake/sent":
                return self._reply(200, fake.snapshot())
            if method == "GET" and path == "/_fake/behaviour":
                with fake._cond:
                    return self._reply(200, {str(k): v for k, v in fake._behaviours.items()})
            if method == "POST" and path == "/_fake/behaviour":
                fields = self._json_body()
                number = fields.pop("number", None)
                if fields.pop("reset", False):
                    fake.reset_behaviour(number)
                fake.set_behaviour(number, **fields)
                return self._reply(200, fake.behaviour(number))
            if method == "POST" and path == "/_fake/inbound":
                body = self._json_body()
                rec = fake.inbound_sms(body["from"], body["body"], to=body.get("to"))
                return self._reply(200, _jsonable(asdict(rec)))
            if method == "POST" and path == "/_fake/reset":
                fake.reset()
                return self._reply(200, {"ok": True})
            self._reply(404, {"error": "no such fake endpoint"})
        except (ValueError, KeyError, TypeError, RuntimeError) as exc:
            self._reply(400, {"error": str(exc)})

    def do_GET(self) -> None:
        self._fake_api("GET") if self.path.startswith("/_fake/") else self._api("GET")

    def do_POST(self) -> None:
        self._fake_api("POST") if self.path.startswith("/_fake/") else self._api("POST")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description="Fake Twilio API: records sends, plays the people who answer.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8089)
    p.add_argument(
        "--webhook-base",
        default="http://127.0.0.1:8000",
        help="where inbound SMS go ({base}/twilio/sms); JINQIAO_PUBLIC_URL of the app",
    )
    p.add_argument("--auth-token", required=True)
    p.add_argument("--account-sid", default=None, help="accept only this AC… SID (default: any)")
    p.add_argument("--speed", type=float, default=1.0, help="divide every delay by this")
    p.add_argument(
        "--behaviour",
        action="append",
        default=[],
        metavar="JSON",
        help='e.g. \'{"number": "+8613900000001", "sms_reply": "1"}\'; repeatable',
    )
    args = p.parse_args(argv)
    fake = FakeTwilio(
        auth_token=args.auth_token,
        account_sid=args.account_sid,
        webhook_base=args.webhook_base,
        host=args.host,
        port=args.port,
        speed=args.speed,
        verbose=True,
    )
    for raw in args.behaviour:
        fields = json.loads(raw)
        fake.set_behaviour(fields.pop("number", None), **fields)
    fake.start()
    print(
        f"fake twilio on {fake.url} (JINQIAO_TWILIO_API_URL={fake.url}); webhooks to {args.webhook_base}; "
        f"sent: {fake.url}/_fake/sent",
        file=sys.stderr,
        flush=True,
    )
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
