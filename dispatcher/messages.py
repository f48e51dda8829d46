"""Every text a person reads or hears from Jinqiao; pure functions, keyword-only arguments.

Chinese (zh-CN) unless the recipient's language starts with `en`. Times arrive formatted in the
community's zone ("14:02"): no clock and no time zone here. A Chinese SMS segment holds 70
characters, so pages aim at one segment, but who, where and what are never cut to get there.
Every SMS starts with the 【金桥】 signature, as Chinese carriers require of messages sent by an
application; spoken texts do not. Answers name the alert's code, and the acknowledgement
confirmation asks for "3 4821" rather than a bare 3: a bare reply goes to the newest alert sent
to that number, which may by then be another one.
"""

from __future__ import annotations

from dispatcher.escalation import CLOSED_STATES, State
from dispatcher.sms_kinds import sms_text, voice_text

SIGN = "【金桥】"
SIGN_EN = "[Jinqiao]"
EMERGENCY_REASONS = frozenset({"alarm", "fall"})

# reason -> what happened, after "who where": (zh, en)
_WHAT = {
    "alarm": ("按下呼叫器", "pressed the call button"),
    "fall": ("跌倒报警", "fall detected"),
    "checkin_missed": ("未按时报平安", "missed the daily check-in"),
    "offline": ("呼叫器离线", "call button offline"),
    "heartbeat_missed": ("呼叫器失联", "call button not heard from"),
    "battery_low": ("呼叫器电量低", "call button battery low"),
}
# tier -> who the recipient is for this alert: (zh, en)
_TIER = {
    "building": ("您是楼道党员。", "You are the building volunteer."),
    "mediator": ("您是调解员。", "You are the community mediator."),
    "hotline": ("您是求援热线值班员。", "You are on hotline duty."),
}


def is_english(language: str | None) -> bool:
    return language is not None and language.strip().lower().startswith("en")


def reason_text(reason: str, *, language: str | None = None) -> str:
    """What happened, as a short phrase ("跌倒报警"); an unknown reason is shown as it is."""
    en = is_english(language)
    if reason in _WHAT:
        return _WHAT[reason][en]
    return f"alert ({reason})" if en else f"报警（{reason}）"


# --- pages: asking a responder to act -----------------------------------------------------------


@sms_text(
    "resident", "address", "what", "tier", "code",
    shown=lambda **a: dict(
        resident=a["resident"], address=_where(a["address"], False), tier=_tier(a["tier"], False), code=a["code"],
        what=reason_text(a["reason"]) + _times(a.get("repeats", 0), False),
    ),
)  # fmt: skip
def page_sms(
    *, resident: str, address: str, reason: str, tier: str, code: str, repeats: int = 0, language: str | None = None
) -> str:
    """【金桥紧急呼叫】张秀英 幸福里3幢2单元201 按下呼叫器。您是楼道党员。回复1确认前往，2转下一级，3已处理。编号4821"""
    en = is_english(language)
    where, what = _where(address, en), reason_text(reason, language=language)
    times, tier_line = _times(repeats, en), _tier(tier, en)
    if en:
        head = "[Jinqiao SOS]" if reason in EMERGENCY_REASONS else SIGN_EN
        return (
            f"{head} {resident}, {where}: {what}{times}. {tier_line} "
            f"Reply 1 to go, 2 to pass on, 3 when handled. Code {code}"
        )
    head = "【金桥紧急呼叫】" if reason in EMERGENCY_REASONS else SIGN
    return f"{head}{resident} {where} {what}{times}。{tier_line}回复1确认前往，2转下一级，3已处理。编号{code}"


@voice_text(
    "resident", "address", "what", "tier",
    shown=lambda **a: dict(
        resident=a["resident"], address=_where(a["address"], False), tier=_tier(a["tier"], False),
        what=reason_text(a["reason"]) + _times(a.get("repeats", 0), False),
    ),
)  # fmt: skip
def page_voice(
    *, resident: str, address: str, reason: str, tier: str, repeats: int = 0, language: str | None = None
) -> str:
    """The spoken page; the call gathers one key: 1 acknowledges, 2 passes, * repeats."""
    en = is_english(language)
    where, what = _where(address, en), reason_text(reason, language=language)
    times, tier_line = _times(repeats, en), _tier(tier, en)
    if en:
        head = "Jinqiao emergency call." if reason in EMERGENCY_REASONS else "Jinqiao community alert."
        return (
            f"{head} {resident}, at {where}: {what}{times}. {tier_line} "
            "Press 1 to accept and go. Press 2 to pass it to the next tier. Press star to hear this again."
        )
    head = "金桥紧急呼叫。" if reason in EMERGENCY_REASONS else "金桥社区提醒。"
    return f"{head}{resident}，住址{where}，{what}{times}。{tier_line}按1确认前往，按2转给下一级，按星号重听。"


# --- spoken answers to a keypress -------------------------------------------------------------


def voice_acknowledged(*, language: str | None = None) -> str:
    return (
        "Confirmed, thank you. Please go as soon as you can."
        if is_english(language)
        else "已确认，谢谢您。请尽快前往。"
    )


@voice_text()
def ivr_key_accept(*, language: str | None = None) -> str:
    """What an IVR call (Aliyun's) says to key 1: it cannot know whether the call is still free, so a
    text message follows with the outcome, as the answer to a reply 1 would."""
    if is_english(language):
        return "Key 1 received, thank you. A text message will confirm that the call is yours."
    return "已收到您的按键1，谢谢您。稍后短信会告诉您是否由您前往。"


@voice_text()
def ivr_key_pass(*, language: str | None = None) -> str:
    """What an IVR call says to key 2; a text message follows with the outcome."""
    if is_english(language):
        return "Key 2 received. The call goes to the next tier; a text message will confirm it."
    return "已收到您的按键2，呼叫将转给下一级，稍后短信确认。"


def voice_machine(*, language: str | None = None) -> str:
    """Left on an answering machine, which never acknowledges: the SMS carries the details."""
    if is_english(language):
        return "This is a Jinqiao emergency call. Please read the text message we sent you."
    return "这里是金桥紧急呼叫，请查看我们发给您的短信。"


def voice_passed(*, language: str | None = None) -> str:
    return "Passed to the next tier." if is_english(language) else "已转给下一级。"


def voice_already_moved_on(*, language: str | None = None) -> str:
    """A key 2 for a step the alert has left: somebody passed it, or its time ran out. Nothing was passed now."""
    if is_english(language):
        return "This call has already gone on to the next tier. If you can still go, press 1."
    return "该呼叫已经转到下一级，无需再转。如仍可前往，请按1。"


def voice_cannot_pass_own(*, language: str | None = None) -> str:
    """A key 2 from the person who took the call: it stays theirs."""
    if is_english(language):
        return "You accepted this call, so it cannot be passed on. Please go, or call the community hotline."
    return "您已接下该呼叫，不能再转给下一级。请前往，或致电社区求援热线。"


def voice_invalid_key(*, language: str | None = None) -> str:
    return "Invalid key." if is_english(language) else "无效按键。"


def voice_already_acknowledged(*, by_name: str, at_local: str, language: str | None = None) -> str:
    if is_english(language):
        return f"This call was already accepted by {by_name} at {at_local}. No need to go."
    return f"该呼叫已由{by_name}于{at_local}确认，无需前往。"


def voice_already_closed(*, resident: str, state: str, language: str | None = None) -> str:
    """The alert was resolved or cancelled before the key was pressed."""
    en = is_english(language)
    if state == State.RESOLVED:
        return "This call has already been handled. No need to go." if en else "该呼叫已处理完毕，无需前往。"
    if state == State.CANCELLED:
        return f"{resident} cancelled the call. No need to go." if en else f"{resident}已取消呼叫，无需前往。"
    raise ValueError(f"not a closed state: {state!r}")


# --- SMS answers to a reply -------------------------------------------------------------------


@sms_text("resident", "code", "close")
def reply_acknowledged(*, resident: str, code: str, language: str | None = None) -> str:
    if is_english(language):
        return f'{SIGN_EN} Confirmed: you took {resident}\'s call (code {code}). Reply "3 {code}" when it is handled.'
    return f"{SIGN}已确认：您接下了{resident}的呼叫（编号{code}）。完成后回复“3 {code}”。"


@sms_text("resident", "code", "by_name", "at_local")
def reply_already_acknowledged(
    *, resident: str, code: str, by_name: str, at_local: str, language: str | None = None
) -> str:
    """A late acknowledgement: somebody else was first."""
    if is_english(language):
        return (
            f"{SIGN_EN} {resident}'s call (code {code}) was already accepted by {by_name} at {at_local}. No need to go."
        )
    return f"{SIGN}{resident}的呼叫（编号{code}）已由{by_name}于{at_local}确认，无需前往。"


def reply_already_closed(*, resident: str, code: str, state: str, language: str | None = None) -> str:
    """A reply about an alert that is resolved or cancelled."""
    if state not in CLOSED_STATES:
        raise ValueError(f"not a closed state: {state!r}")
    return (notice_resolved if state == State.RESOLVED else notice_cancelled)(
        resident=resident, code=code, language=language
    )


@sms_text("resident", "code", "accept")
def reply_passed(*, resident: str, code: str, language: str | None = None) -> str:
    if is_english(language):
        return f'{SIGN_EN} Passed on: {resident}\'s call (code {code}). If you can go after all, reply "1 {code}".'
    return f"{SIGN}已转下一级：{resident}的呼叫（编号{code}）。如仍可前往，回复“1 {code}”。"


@sms_text("resident", "code", "accept")
def reply_already_moved_on(*, resident: str, code: str, language: str | None = None) -> str:
    """A `2` for a step the alert has left (another passed it, or its time ran out): nothing passed now."""
    if is_english(language):
        return (
            f"{SIGN_EN} {resident}'s call (code {code}) has already gone on to the next tier. "
            f'If you can still go, reply "1 {code}".'
        )
    return f"{SIGN}{resident}的呼叫（编号{code}）已经转到下一级，无需再转。如仍可前往，回复“1 {code}”。"


@sms_text("resident", "code", "close")
def reply_cannot_pass_own(*, resident: str, code: str, language: str | None = None) -> str:
    """A `2` from the person who took the call: it stays theirs, and it is still open."""
    if is_english(language):
        return (
            f"{SIGN_EN} You accepted {resident}'s call (code {code}); it cannot be passed on. "
            f'Reply "3 {code}" when it is handled.'
        )
    return f"{SIGN}您已接下{resident}的呼叫（编号{code}），不能再转下一级。完成后回复“3 {code}”。"


@sms_text("resident", "code")
def reply_resolved(*, resident: str, code: str, language: str | None = None) -> str:
    if is_english(language):
        return f"{SIGN_EN} Recorded: {resident}'s call (code {code}) is handled. Thank you!"
    return f"{SIGN}已记录：{resident}的呼叫（编号{code}）已处理完毕。谢谢您！"


@sms_text()
def reply_no_open_alert(*, language: str | None = None) -> str:
    return f"{SIGN_EN} You have no open call right now." if is_english(language) else f"{SIGN}您目前没有待处理的呼叫。"


@sms_text("code")
def reply_unknown_code(*, code: str, language: str | None = None) -> str:
    if is_english(language):
        return f"{SIGN_EN} No call with code {code}. Please check the code."
    return f"{SIGN}没有编号为{code}的呼叫，请核对编号。"


@sms_text()
def reply_help(*, language: str | None = None) -> str:
    if is_english(language):
        return f'{SIGN_EN} Reply 1 to accept, 2 to pass on, 3 when handled; with several calls add the code, e.g. "1 4821".'
    return f"{SIGN}回复1确认，2转下一级，3已处理；多个呼叫时在数字后加编号，如“1 4821”。"


# --- notices to everyone already paged --------------------------------------------------------


def notice_sms(*, what: str, resident: str, code: str, by: str | None = None, language: str | None = None) -> str:
    """The notice for `what` (acknowledged | resolved | cancelled); `by` is ignored for a cancel (the resident)."""
    if what == "acknowledged":
        return notice_acknowledged(resident=resident, code=code, by_name=by, language=language)
    if what == "taken_by_centre":
        return notice_taken_by_centre(resident=resident, code=code, by_name=by, language=language)
    if what == "resolved":
        return notice_resolved(resident=resident, code=code, by_name=by, language=language)
    if what == "cancelled":
        return notice_cancelled(resident=resident, code=code, language=language)
    raise ValueError(f"no notice for {what!r}")


@sms_text(
    "resident",
    "code",
    "by_name",
    shown=lambda **a: dict(resident=a["resident"], code=a["code"], by_name=a["by_name"] or "他人"),
)
def notice_acknowledged(*, resident: str, code: str, by_name: str | None, language: str | None = None) -> str:
    if is_english(language):
        return f"{SIGN_EN} {resident}'s call (code {code}) was accepted by {by_name or 'someone else'}. No need to go."
    return f"{SIGN}{resident}的呼叫（编号{code}）已由{by_name or '他人'}接下，无需前往。"


@sms_text(
    "resident", "code", "who", shown=lambda **a: dict(resident=a["resident"], code=a["code"], who=_centre(a["by_name"]))
)
def notice_taken_by_centre(*, resident: str, code: str, by_name: str | None, language: str | None = None) -> str:
    """An operator took the call at the centre: nobody is sent yet, so nobody is told not to go."""
    operator = _operator_name(by_name)
    if is_english(language):
        who = f"Duty operator {operator} at the help centre" if operator else "The help centre"
        return (
            f"{SIGN_EN} {who} has taken {resident}'s call (code {code}) and is arranging a visit. "
            "We will tell you whether you are needed."
        )
    who = _centre(by_name)
    return f"{SIGN}{resident}的呼叫（编号{code}）已由{who}接警，正在安排人员上门。是否需要您前往，将另行通知。"


def _centre(by_name: str | None) -> str:
    operator = _operator_name(by_name)
    return f"求援中心值班员{operator}" if operator else "求援中心"


def _operator_name(by_name: str | None) -> str:
    """The operator's own name from a board actor's ("值班员 王芳" -> "王芳")."""
    name = (by_name or "").strip()
    return name.removeprefix("值班员").strip()


@sms_text(
    "resident",
    "code",
    "by_name",
    shown=lambda **a: dict(resident=a["resident"], code=a["code"], by_name=a["by_name"] or "他人"),
)
def notice_resolved(*, resident: str, code: str, by_name: str | None = None, language: str | None = None) -> str:
    if is_english(language):
        by = f" by {by_name}" if by_name else ""
        return f"{SIGN_EN} {resident}'s call (code {code}) was handled{by}. No need to go."
    by = f"由{by_name}" if by_name else ""
    return f"{SIGN}{resident}的呼叫（编号{code}）已{by}处理完毕，无需前往。"


@sms_text("resident", "code")
def notice_cancelled(*, resident: str, code: str, language: str | None = None) -> str:
    if is_english(language):
        return f"{SIGN_EN} {resident} cancelled the call (code {code}). No need to go."
    return f"{SIGN}{resident}已取消呼叫（编号{code}），无需前往。"


# --- pieces -----------------------------------------------------------------------------------


def _where(address: str, en: bool) -> str:
    # an empty address must still read as a place, not vanish between name and event
    return address.strip() or ("address not on file" if en else "地址未登记")


def _times(repeats: int, en: bool) -> str:
    if repeats <= 0:
        return ""
    total = repeats + 1  # the first press plus the repeats
    return f" ({total} times)" if en else f"（共{total}次）"


def _tier(tier: str, en: bool) -> str:
    if tier in _TIER:
        return _TIER[tier][en]
    return f"Your tier: {tier}." if en else f"您所在级别：{tier}。"
