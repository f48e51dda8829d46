"""The voice half of the fake Aliyun (simulators/fake_aliyun.py): actions SingleCallByTts and
IvrCall of dyvmsapi, which the REAL alibabacloud-dyvmsapi20170525 library calls at the same fake
endpoint, signed as the SMS actions are.

It refuses a caller number (CalledShowNumber) the account does not rent, a callee outside the
mainland, an unknown TTS template or values that do not fit it, and a call over Aliyun's limits for
one callee and template: 1 a minute, 5 an hour, 20 a day, failed calls included (HTTP 200, Code
isv.BUSINESS_LIMIT_CONTROL). Then it plays the callee, by their behaviour: they answer (status
200000), are busy (200002), do not answer (200003) or are switched off (200010); in an IVR call
they press `keys`, which it pushes at once as a VoiceCallReport (status 300000, dtmf) and again in
the call's VoiceReport at the end, each push sent `repeat` times. Aliyun never redials.

    fake.voice.set_behaviour("+8613900000001", keys="1")
    fake.wait_for(lambda: fake.voice.calls)
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from simulators.fake_aliyun import FakeAliyun

LIMITS = ((timedelta(minutes=1), 1, "分钟"), (timedelta(hours=1), 5, "小时"), (timedelta(days=1), 20, "天"))
ANSWERED = "200000"


@dataclass
class Call:
    action: str  # IvrCall | SingleCallByTts
    callee: str  # as Aliyun got it: 13900000001
    show_number: str
    code: str  # the spoken template
    params: dict[str, str]
    menu: dict[str, str]  # key -> the template it plays (IvrCall)
    out_id: str | None
    call_id: str
    said: str  # the template filled in, then what the key pressed played
    status_code: str
    dtmf: str | None
    at: datetime


@dataclass
class CallBehaviour:
    status_code: str = ANSWERED  # 200002 busy, 200003 no answer, 200010 switched off …
    keys: str | None = None  # pressed in an IVR call, e.g. "1"
    repeat: int = 1  # every push about this callee is sent this many times


@dataclass
class FakeVoice:
    fake: FakeAliyun
    show_numbers: tuple[str, ...] = ("02160000000",)
    limits: tuple[tuple[timedelta, int, str], ...] = LIMITS
    calls: list[Call] = field(default_factory=list)
    _behaviour: dict[str, CallBehaviour] = field(default_factory=dict)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def set_behaviour(self, number: str, **fields: Any) -> None:
        with self.fake._lock:
            self._behaviour[self.fake._digits(number)] = CallBehaviour(**fields)

    def calls_to(self, number: str) -> list[Call]:
        digits = self.fake._digits(number)
        return [c for c in self.calls if c.callee == digits]

    def call(self, action: str, q: dict[str, str]) -> tuple[int, dict[str, Any]]:
        callee, show = q.get("CalledNumber", ""), q.get("CalledShowNumber", "")
        code = q.get("StartCode" if action == "IvrCall" else "TtsCode", "")
        raw = q.get("StartTtsParams" if action == "IvrCall" else "TtsParam") or "{}"
        menu = {
            q[f"MenuKeyMap.{n}.Key"]: q.get(f"MenuKeyMap.{n}.Code", "")
            for n in sorted({int(m) for m in re.findall(r"MenuKeyMap\.(\d+)\.Key", " ".join(q))})
        }
        try:
            params = json.loads(raw)
        except ValueError:
            params = None
        if not re.fullmatch(r"1[0-9]{10}|0[0-9]{9,11}", callee):
            return self._refuse(callee, "isv.MOBILE_NUMBER_ILLEGAL", "被叫号码不合法")
        if show not in self.show_numbers:
            return self._refuse(callee, "isv.DISPLAY_NUMBER_ILLEGAL", "主叫号码不属于该账号")
        templates = self.fake.templates
        for used in (code, *menu.values()):
            if templates is not None and used not in templates:
                return self._refuse(callee, "isv.TTS_TEMPLATE_ILLEGAL", f"该账号下找不到对应模板 {used}")
        wanted = set(re.findall(r"\$\{(\w+)\}", (templates or {}).get(code, "")))
        if not isinstance(params, dict) or (templates is not None and set(params) != wanted):
            return self._refuse(callee, "isv.TEMPLATE_MISSING_PARAMETERS", "模板变量缺少对应参数值")
        now = self.fake.clock()
        with self.fake._lock:
            earlier = [c.at for c in self.calls if (c.callee, c.code) == (callee, code)]
            behaviour = self._behaviour.get(callee, CallBehaviour())
        for window, permits, unit in self.limits:
            if len([at for at in earlier if now - at < window]) >= permits:
                return self._refuse(callee, "isv.BUSINESS_LIMIT_CONTROL", f"触发{unit}级流控Permits:{permits}")
        said = re.sub(r"\$\{(\w+)\}", lambda g: str(params.get(g.group(1), "")), (templates or {}).get(code, ""))
        answered = behaviour.status_code == ANSWERED
        dtmf = behaviour.keys if action == "IvrCall" and answered and behaviour.keys else None
        pressed = next((k for k in dtmf or "" if k in menu), None)
        if pressed:
            said += (templates or {}).get(menu[pressed], "")
        made = Call(
            action, callee, show, code, params, menu, q.get("OutId"), f"{next(self._ids)}^{uuid.uuid4().int % 10**11}",
            said, behaviour.status_code, dtmf, now,
        )  # fmt: skip
        with self.fake._lock:
            self.calls.append(made)
        self._after_call(made, behaviour)
        return 200, {"RequestId": str(uuid.uuid4()).upper(), "CallId": made.call_id, "Code": "OK", "Message": "OK"}

    def _refuse(self, callee: str, code: str, message: str) -> tuple[int, dict[str, Any]]:
        return self.fake._refuse(callee, code, message)

    def _after_call(self, call: Call, behaviour: CallBehaviour) -> None:
        at = call.at.strftime("%Y-%m-%d %H:%M:%S")
        base = {"call_id": call.call_id, "out_id": call.out_id}
        for _ in range(behaviour.repeat):
            if call.dtmf:
                self.fake._outbox.put(
                    ("VoiceCallReport", [{**base, "status_code": "300000", "dtmf": call.dtmf, "status_time": at}])
                )
            record = {
                **base,
                "status_code": call.status_code,
                "status_msg": "执行完成" if call.status_code == ANSWERED else "呼叫失败",
                "callee": call.callee,
                "caller": call.show_number,
                "duration": "20" if call.status_code == ANSWERED else "0",
                "originate_time": at,
                "start_time": at if call.status_code == ANSWERED else "",
                "end_time": at,
                "hangup_direction": "用户",
                "voice_type": "voice",
                **({"dtmf": call.dtmf} if call.dtmf else {}),
            }
            self.fake._outbox.put(("VoiceReport", [record]))
