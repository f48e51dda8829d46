"""Our one adapter over WeCom's server API (企业微信 服务端API, documented HTTP and JSON; WeCom ships
no Python library): the access token, a member's userid by mobile number, an app message with a
button card (template_card, button_interaction), the update of a card after a button press, and
the text of a group robot (群机器人 webhook).

Every answer carries `errcode` (0: done). An expired token (42001, 40014) is fetched again once;
-1 (busy) and 45009 (over a frequency limit) are worth retrying later; every other code is final
for this message. Everything leaves here as plain values or WeComError.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

TOKEN_EXPIRED = frozenset({42001, 40014, 40001})
TEMPORARY = frozenset({-1, 45009, 45033})
NOT_A_MEMBER = frozenset({46004, 60111, 60103})  # no member with this mobile number
CODE_USED = 40165  # a response code unknown, used or older than 72 hours: that card cannot change now


class WeComError(Exception):
    def __init__(self, message: str, *, temporary: bool, code: int | None = None):
        super().__init__(message)
        self.temporary, self.code = temporary, code


class WeComRobot:
    """A group robot of the community work group (群机器人): its webhook URL holds its key; one way,
    text only here, about 20 messages a minute (errcode 45009 beyond)."""

    def __init__(self, url: str):
        self.url = url
        self._http = httpx.Client(timeout=10)

    def close(self) -> None:
        self._http.close()

    def send_text(self, content: str) -> None:
        try:
            answer = self._http.post(self.url, json={"msgtype": "text", "text": {"content": content}}).json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeComError(f"wecom robot unreachable: {type(exc).__name__}: {exc}", temporary=True) from None
        code = int(answer.get("errcode", -1))
        if code != 0:
            raise WeComError(f"wecom robot {code}: {answer.get('errmsg')}", temporary=code in TEMPORARY, code=code)


class WeComApi:
    def __init__(self, corp_id: str, secret: str, agent_id: int, base_url: str = "https://qyapi.weixin.qq.com"):
        self.corp_id, self.agent_id = corp_id, agent_id
        self._secret = secret
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=10)
        self._lock = threading.Lock()
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)
        self._userids: dict[str, str] = {}  # mobile -> userid, for the life of the process

    def close(self) -> None:
        self._http.close()

    def userid_of(self, mobile: str) -> str:
        """The member whose mobile number this is (11 digits, without +86)."""
        if mobile not in self._userids:
            answer = self._call("/cgi-bin/user/getuserid", {"mobile": mobile})
            self._userids[mobile] = str(answer["userid"])
        return self._userids[mobile]

    def send_card(self, userid: str, card: dict[str, Any]) -> str:
        """An app message with `card` (a template_card) to one member; the response code with which
        the card may be updated once within 72 hours ("" when WeCom gave none)."""
        body = {"touser": userid, "msgtype": "template_card", "agentid": self.agent_id, "template_card": card}
        answer = self._call("/cgi-bin/message/send", body)
        if answer.get("invaliduser"):  # WeCom answers 0 and names whom it did not reach
            raise WeComError(f"wecom: {userid} cannot get the app's messages", temporary=False)
        return str(answer.get("response_code") or "")

    def update_card(self, userid: str, response_code: str, replace_name: str) -> None:
        """Turn a card's buttons into one unclickable line (e.g. "已由李建国接下")."""
        body = {
            "userids": [userid],
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        self._call("/cgi-bin/message/update_template_card", body)

    def _call(self, path: str, body: dict[str, Any], again: bool = True) -> dict[str, Any]:
        try:
            r = self._http.post(path, params={"access_token": self._access_token()}, json=body)
            answer = r.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise WeComError(f"wecom unreachable: {type(exc).__name__}: {exc}", temporary=True) from None
        code = int(answer.get("errcode", -1))
        if code in TOKEN_EXPIRED and again:
            with self._lock:
                self._token = None
            return self._call(path, body, again=False)
        if code != 0:
            raise WeComError(f"wecom {code}: {answer.get('errmsg')}", temporary=code in TEMPORARY, code=code)
        return answer

    def _access_token(self) -> str:
        with self._lock:
            if self._token and self._token[1] > time.monotonic():
                return self._token[0]
            try:
                r = self._http.get("/cgi-bin/gettoken", params={"corpid": self.corp_id, "corpsecret": self._secret})
                answer = r.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeComError(f"wecom unreachable: {type(exc).__name__}: {exc}", temporary=True) from None
            if int(answer.get("errcode", -1)) != 0:
                code = int(answer.get("errcode", -1))
                raise WeComError(f"wecom token {code}: {answer.get('errmsg')}", temporary=code in TEMPORARY, code=code)
            lifetime = float(answer.get("expires_in") or 7200)
            self._token = (str(answer["access_token"]), time.monotonic() + lifetime - 300)  # renewed early
            return self._token[0]
