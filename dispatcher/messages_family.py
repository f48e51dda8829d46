"""What a resident's family reads: told when a call opens and how it ended, never asked to act.

dispatcher/messages.py's texts (its signature, its language rule); they live here because messages.py
is at the size where a module holds more than one thing.
"""

from __future__ import annotations

from dispatcher.messages import SIGN, SIGN_EN, is_english, reason_text
from dispatcher.sms_kinds import sms_text

# reason -> the family's sentence (None: not known), after "your family member": (zh, en)
FAMILY_WHAT = {
    "alarm": ("{who}于{at}按下了呼叫器", "{who} pressed the call button at {at}"),
    "fall": ("{who}于{at}触发了跌倒报警", "{who}'s fall detector went off at {at}"),
    "checkin_missed": ("{who}截至{at}未按时报平安", "{who} had not checked in by {at}"),
    "offline": ("{who}的呼叫器于{at}离线", "{who}'s call button went offline at {at}"),
    "heartbeat_missed": ("{who}的呼叫器于{at}失去联系", "{who}'s call button stopped reporting at {at}"),
    "battery_low": ("{who}的呼叫器于{at}电量低", "{who}'s call button ran low on battery at {at}"),
    None: ("{who}于{at}发出了紧急呼叫", "{who} made an emergency call at {at}"),
}
# the resolution's outcome, told to the family: (zh, en); "other" says nothing more than "handled"
OUTCOME = {
    "false_alarm": ("经核实为误报", "a false alarm"),
    "helped_at_home": ("已在家中得到帮助", "helped at home"),
    "family_came": ("家人已到场", "family came"),
    "ambulance_called": ("已呼叫救护车", "an ambulance was called"),
    "taken_to_hospital": ("已送医院", "taken to hospital"),
}

# --- family: informed, never asked to act -----------------------------------------------------


def their_time(hhmm: str, *, language: str | None = None) -> str:
    """A time in the family's own zone, said to be theirs (a part of the family's texts, not one itself):
    当地时间17:02 / 17:02 your time."""
    return f"{hhmm} your time" if is_english(language) else f"当地时间{hhmm}"


def family_sms(
    *,
    resident: str,
    at: str,
    opened: bool,
    reason: str | None = None,
    outcome: str | None = None,
    language: str | None = None,
) -> str:
    """The family's SMS when an alert opens (`opened`) or is resolved; see family_opened/family_resolved."""
    if opened:
        return family_opened(resident=resident, reason=reason, at_local=at, language=language)
    return family_resolved(resident=resident, at_local=at, outcome=outcome, language=language)


@sms_text(
    "resident",
    "at_local",
    "what",
    shown=lambda **a: dict(resident=a["resident"], at_local=a["at_local"], what=reason_text(a["reason"] or "alarm")),
)
def family_opened(*, resident: str, reason: str | None, at_local: str, language: str | None = None) -> str:
    """【金桥】您的家人张秀英于14:02按下了呼叫器，社区志愿者正在联系处理。此短信无需回复。

    Without a reason the text says "an emergency call" (发出了紧急呼叫).
    """
    en = is_english(language)
    if reason in FAMILY_WHAT:
        what = FAMILY_WHAT[reason][en].format(who=resident, at=at_local)
    else:
        what = (
            f"{resident} raised an alert ({reason}) at {at_local}"
            if en
            else f"{resident}于{at_local}发出报警（{reason}）"
        )
    if en:
        return f"{SIGN_EN} Your family member {what}. Community volunteers are on it. No need to reply."
    return f"{SIGN}您的家人{what}，社区志愿者正在联系处理。此短信无需回复。"


@sms_text(
    "resident",
    "at_local",
    "how",
    shown=lambda **a: dict(
        resident=a["resident"], at_local=a["at_local"], how=OUTCOME.get(a.get("outcome") or "", ("已妥善处理",))[0]
    ),
)
def family_resolved(*, resident: str, at_local: str, outcome: str | None = None, language: str | None = None) -> str:
    """The outcome (alerts.OUTCOMES) is told when it says more than "handled": the family wants to know."""
    en = is_english(language)
    told = OUTCOME.get(outcome or "")
    if en:
        how = f" ({told[1]})" if told else ""
        return f"{SIGN_EN} The call of your family member {resident} was handled at {at_local}{how}. No need to reply."
    how = f"（{told[0]}）" if told else ""
    return f"{SIGN}您的家人{resident}的呼叫已于{at_local}处理完毕{how}。此短信无需回复。"


@sms_text("resident", "at_local")
def family_cancelled(*, resident: str, at_local: str, language: str | None = None) -> str:
    if is_english(language):
        return f"{SIGN_EN} Your family member {resident} cancelled the call at {at_local}. No need to reply."
    return f"{SIGN}您的家人{resident}已于{at_local}取消呼叫。此短信无需回复。"
