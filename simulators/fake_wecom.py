"""A fake WeCom server API (qyapi.weixin.qq.com) for tests and the demo, which our adapter
(dispatcher/wecom_api.py) talks to when JINQIAO_WECOM_API_URL points here, and which plays the
members: a button pressed on a card is posted to our callback as WeCom posts it, encrypted with the
app's EncodingAESKey and signed with its Token (dispatcher/wecom_crypto.py).

What it checks and refuses as WeCom does (errcode): the corp id and secret (40013, 40001), the
access token (40014, 42001 once expired), the agent id (40056), a mobile number of no member
(46004), a card that is no button_interaction card or a task id used before (40058), a response
code unknown or used (40165: each may update a card once). About 30 messages a minute reach one
member; more are answered errcode 0 and dropped silently, as WeCom drops them (see `dropped`). The
group robot (`robot_url`) takes 20 texts a minute and refuses more with 45009.

    with FakeWeCom("ww-corp", "secret", 1000002, members={"+8613900000001": "lijianguo"},
                   callback_url=..., token=..., aes_key=...) as fake:
        fake.set_behaviour("+8613900000001", press="ack")
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

import httpx
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from simulators.fake_server import FakeServer

T = TypeVar("T")
PER_MINUTE = 30  # messages one member gets in a minute; the rest are dropped without a word
ROBOT_PER_MINUTE = 20  # messages a group robot takes in a minute; the rest are refused (45009)


@dataclass
class Card:
    userid: str
    card: dict[str, Any]
    msgid: str
    response_code: str
    at: datetime
    updates: list[str] = field(default_factory=list)  # what its buttons became

    @property
    def task_id(self) -> str:
        return str(self.card.get("task_id"))


@dataclass
class RobotMessage:
    content: str
    at: datetime


@dataclass
class Press:
    userid: str
    task_id: str
    key: str
    status: int | None  # our callback's answer


@dataclass
class Behaviour:
    press: str | None = None  # the button this member presses on each card: ack | pass
    repeat: int = 1  # each press is posted this many times


def _utcnow() -> datetime:
    return datetime.now(UTC)


# WeCom's encryption, written here from its documentation and apart from ours (dispatcher/wecom_crypto.py),
# so that a mistake in ours shows as a refused callback rather than being made twice
def wecom_encrypt(encoding_aes_key: str, message: str, corp_id: str) -> str:
    key = base64.b64decode(encoding_aes_key + "=")
    data = message.encode("utf-8")
    plain = secrets.token_bytes(16) + len(data).to_bytes(4, "big") + data + corp_id.encode("utf-8")
    padder = padding.PKCS7(256).padder()  # WeCom pads to 32 bytes
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode("ascii")


def wecom_signature(token: str, timestamp: str, nonce: str, encrypted: str) -> str:
    return hashlib.sha1("".join(sorted((token, timestamp, nonce, encrypted))).encode("utf-8")).hexdigest()


class FakeWeCom(FakeServer):
    name = "fake wecom"

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        members: dict[str, str],  # mobile (+86…) -> userid
        callback_url: str | None = None,
        token: str = "",
        aes_key: str = "",
        clock: Callable[[], datetime] = _utcnow,
        press_delay: float = 0.3,
        robot_key: str = "robot-key-0001",
        port: int = 0,
    ):
        self.corp_id, self.secret, self.agent_id = corp_id, secret, agent_id
        self.members = {mobile.removeprefix("+86"): userid for mobile, userid in members.items()}
        self.callback_url, self.token, self.aes_key = callback_url, token, aes_key
        self.clock, self.press_delay = clock, press_delay
        self.cards: list[Card] = []
        self.dropped: list[Card] = []
        self.presses: list[Press] = []
        self.errors: list[tuple[str, int]] = []  # (path, errcode) of each refusal
        self.robot_key = robot_key
        self.robot: list[RobotMessage] = []  # what the work group read
        self.tokens: dict[str, datetime] = {}  # access token -> expiry
        self._behaviour: dict[str, Behaviour] = {}
        self._codes: dict[str, Card] = {}  # unused response codes
        self._ids = itertools.count(1)
        self._serve(port, self._handler(), threading.RLock())  # a refusal is recorded under the lock it was found in

    def set_behaviour(self, mobile: str, **fields: Any) -> None:
        with self._lock:
            self._behaviour[self.members[mobile.removeprefix("+86")]] = Behaviour(**fields)

    def cards_to(self, mobile: str) -> list[Card]:
        userid = self.members.get(mobile.removeprefix("+86"))
        return [c for c in self.cards if c.userid == userid]

    def press(self, card: Card, key: str, repeat: int = 1) -> None:
        """The member presses a button of the card: WeCom posts the event to our callback."""
        for _ in range(repeat):
            self._outbox.put((card, key, 0))

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens = {t: self.clock() - timedelta(seconds=1) for t in self.tokens}

    # --- the API --------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _answer(self, answer: dict[str, Any]) -> None:
                out = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(200)  # WeCom answers 200 and says what is wrong in errcode
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                self._answer(fake.handle(parts.path, dict(parse_qsl(parts.query)), None))

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    body = None
                self._answer(fake.handle(parts.path, dict(parse_qsl(parts.query)), body))

        return Handler

    @property
    def robot_url(self) -> str:
        return f"{self.url}/cgi-bin/webhook/send?key={self.robot_key}"

    def handle(self, path: str, query: dict[str, str], body: Any) -> dict[str, Any]:
        if path == "/cgi-bin/gettoken":
            return self._gettoken(query)
        if path == "/cgi-bin/webhook/send":
            return self._robot(query, body)
        expiry = self.tokens.get(query.get("access_token", ""))
        if expiry is None:
            return self._error(path, 40014, "invalid access_token")
        if expiry <= self.clock():
            return self._error(path, 42001, "access_token expired")
        if not isinstance(body, dict):
            return self._error(path, 47001, "data format error")
        routes = {
            "/cgi-bin/user/getuserid": self._getuserid,
            "/cgi-bin/message/send": self._send,
            "/cgi-bin/message/update_template_card": self._update,
        }
        if path not in routes:
            return self._error(path, 48001, "api unauthorized")
        return routes[path](body)

    def _error(self, path: str, code: int, message: str) -> dict[str, Any]:
        with self._lock:
            self.errors.append((path, code))
        return {"errcode": code, "errmsg": message}

    def _robot(self, q: dict[str, str], body: Any) -> dict[str, Any]:
        path = "/cgi-bin/webhook/send"
        if q.get("key") != self.robot_key:
            return self._error(path, 93000, "invalid webhook url")
        if not isinstance(body, dict) or body.get("msgtype") != "text" or not (body.get("text") or {}).get("content"):
            return self._error(path, 40008, "invalid message type")
        now = self.clock()
        with self._lock:
            if len([m for m in self.robot if now - m.at < timedelta(minutes=1)]) >= ROBOT_PER_MINUTE:
                return self._error(path, 45009, "api freq out of limit")
            self.robot.append(RobotMessage(str(body["text"]["content"]), now))
        return {"errcode": 0, "errmsg": "ok"}

    def _gettoken(self, q: dict[str, str]) -> dict[str, Any]:
        if q.get("corpid") != self.corp_id:
            return self._error("/cgi-bin/gettoken", 40013, "invalid corpid")
        if q.get("corpsecret") != self.secret:
            return self._error("/cgi-bin/gettoken", 40001, "invalid credential")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self.tokens[token] = self.clock() + timedelta(seconds=7200)
        return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}

    def _getuserid(self, body: dict[str, Any]) -> dict[str, Any]:
        userid = self.members.get(str(body.get("mobile", "")))
        if userid is None:
            return self._error("/cgi-bin/user/getuserid", 46004, "user no exist")
        return {"errcode": 0, "errmsg": "ok", "userid": userid}

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        path = "/cgi-bin/message/send"
        card = body.get("template_card")
        if body.get("agentid") != self.agent_id:
            return self._error(path, 40056, "invalid agentid")
        if body.get("msgtype") != "template_card" or not isinstance(card, dict):
            return self._error(path, 40058, "template_card required")
        if card.get("card_type") != "button_interaction" or not card.get("button_list") or not card.get("task_id"):
            return self._error(path, 40058, "a button card needs its buttons and a task_id")
        userid = str(body.get("touser", ""))
        if userid not in self.members.values():
            return {"errcode": 0, "errmsg": "ok", "invaliduser": userid}
        now = self.clock()
        with self._lock:
            if any(c.task_id == card["task_id"] for c in [*self.cards, *self.dropped]):
                return self._error(path, 40058, "task_id used before")
            made = Card(userid, card, f"msg{next(self._ids)}", secrets.token_urlsafe(24), now)
            recent = [c for c in self.cards if c.userid == userid and now - c.at < timedelta(minutes=1)]
            if len(recent) >= PER_MINUTE:
                self.dropped.append(made)  # answered as sent, never shown
                return {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": made.msgid}
            self.cards.append(made)
            self._codes[made.response_code] = made
            behaviour = self._behaviour.get(userid)
        if behaviour and behaviour.press:
            self.press(made, behaviour.press, behaviour.repeat)
        answer = {"errcode": 0, "errmsg": "ok", "invaliduser": "", "msgid": made.msgid}
        return answer | {"response_code": made.response_code}

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            card = self._codes.pop(str(body.get("response_code", "")), None)
            if card is None or body.get("agentid") != self.agent_id:
                return self._error("/cgi-bin/message/update_template_card", 40165, "invalid response_code")
            card.updates.append(str((body.get("button") or {}).get("replace_name", "")))
        return {"errcode": 0, "errmsg": "ok", "invaliduser": []}

    # --- the members press buttons: events to our callback ------------------------------------

    def _world(self) -> None:
        with httpx.Client(timeout=10) as http:
            while (job := self._outbox.get()) is not None:
                card, key, _ = job
                time.sleep(self.press_delay)  # the member's thumb, not a wait for an outcome
                code = secrets.token_urlsafe(24)
                with self._lock:
                    self._codes[code] = card
                event = (
                    f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
                    f"<FromUserName><![CDATA[{card.userid}]]></FromUserName>"
                    f"<CreateTime>{int(self.clock().timestamp())}</CreateTime>"
                    "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[template_card_event]]></Event>"
                    f"<EventKey><![CDATA[{key}]]></EventKey><TaskId><![CDATA[{card.task_id}]]></TaskId>"
                    "<CardType><![CDATA[button_interaction]]></CardType>"
                    f"<ResponseCode><![CDATA[{code}]]></ResponseCode><AgentID>{self.agent_id}</AgentID></xml>"
                )
                status = self.post_event(http, event)
                with self._lock:
                    self.presses.append(Press(card.userid, card.task_id, key, status))

    def post_event(self, http: httpx.Client, event: str) -> int | None:
        """Post one event to the callback, encrypted and signed as WeCom does; our answer's status."""
        if not self.callback_url:
            return None
        encrypted = wecom_encrypt(self.aes_key, event, self.corp_id)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(5)
        body = (
            f"<xml><ToUserName><![CDATA[{self.corp_id}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[{self.agent_id}]]></AgentID></xml>"
        )
        sig = wecom_signature(self.token, timestamp, nonce, encrypted)
        params = {"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}
        try:
            return http.post(self.callback_url, params=params, content=body.encode()).status_code
        except httpx.HTTPError:
            return None


def main(argv: list[str] | None = None) -> None:
    """Out of process (the demo): python -m simulators.fake_wecom --port 8091 --callback-url URL …"""
    import argparse

    parser = argparse.ArgumentParser(description="A fake WeCom: app cards with buttons, their callbacks, a robot.")
    parser.add_argument("--port", type=int, default=8091)
    parser.add_argument("--corp-id", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--agent-id", type=int, required=True)
    parser.add_argument("--callback-url", help="our /wecom/callback (no presses without it)")
    parser.add_argument("--token", default="", help="the app's callback Token")
    parser.add_argument("--aes-key", default="", help="the app's EncodingAESKey (43 characters)")
    parser.add_argument("--robot-key", default="robot-key-0001")
    parser.add_argument(
        "--member", action="append", default=[], help='JSON: {"number": "+86…", "userid": "…", "press": "ack"}'
    )
    args = parser.parse_args(argv)
    people = [json.loads(raw) for raw in args.member]
    fake = FakeWeCom(
        args.corp_id, args.secret, args.agent_id,
        members={p["number"]: p["userid"] for p in people},
        callback_url=args.callback_url, token=args.token, aes_key=args.aes_key,
        robot_key=args.robot_key, press_delay=5.0, port=args.port,
    ).start()  # fmt: skip
    for p in people:
        if p.get("press"):
            fake.set_behaviour(p["number"], press=p["press"])
    print(f"fake wecom on {fake.url}; robot {fake.robot_url}", flush=True)
    seen = 0
    try:
        while True:  # the work group's robot, as the group reads it
            time.sleep(1)
            with fake._lock:
                new, seen = fake.robot[seen:], len(fake.robot)
            for m in new:
                print(f"work group: {m.content}", flush=True)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
