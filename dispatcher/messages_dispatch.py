"""The texts of 派人前往 (an operator sends someone to the resident); pure, keyword-only arguments.

They are dispatcher/messages.py's texts (its signature, its language rule, its habit of naming the
alert's code); they live here because messages.py is at the size where a module holds more than one
thing. The one asked to go hears where, who, the resident's phone and how to close the call ("3 8150",
which dispatcher/replies.py reads as resolve); the one sent before is told they are no longer needed;
the others paged hear who is going, so that nobody else sets out.
"""

from __future__ import annotations

from dispatcher.messages import SIGN, SIGN_EN, is_english, reason_text
from dispatcher.sms_kinds import sms_text


def operator_of(actor_name: str) -> str:
    """The operator's own name from a board actor's ("值班员 王芳" -> "王芳")."""
    return actor_name.strip().removeprefix("值班员").strip()


def going_name(*, name: str, operator: bool) -> str:
    """Who is going, as the texts name them: a responder by name, an operator as 值班员王芳."""
    return f"值班员{name}" if operator else name


def _go_values(**a) -> dict[str, str]:
    where = a["address"].strip() or "老人家中（地址未登记）"
    phone = a.get("resident_phone") or "未登记"
    return dict(address=where, resident=a["resident"], what=reason_text(a["reason"]), code=a["code"], operator=a["operator"], phone=phone)  # fmt: skip


@sms_text("address", "resident", "what", "code", "operator", "phone", "close", shown=_go_values)
def dispatch_go(
    *,
    resident: str,
    address: str,
    reason: str,
    code: str,
    operator: str,
    resident_phone: str | None,
    language: str | None = None,
) -> str:
    """【金桥】请您前往幸福里3幢2单元201看望张秀英（按下呼叫器，编号8150），值班员王芳已接警。老人电话…"""
    en = is_english(language)
    what = reason_text(reason, language=language)
    if en:
        where = address.strip() or "the resident's home (address not on file)"
        phone = f" Resident's phone {resident_phone}." if resident_phone else ""
        return (
            f"{SIGN_EN} Please go to {where} to see {resident} ({what}, code {code}); "
            f"duty operator {operator} at the help centre has the call.{phone} "
            f'Reply "3 {code}" when it is handled.'
        )
    where = address.strip() or "老人家中（地址未登记）"
    phone = f"老人电话{resident_phone}。" if resident_phone else ""
    return (
        f"{SIGN}请您前往{where}看望{resident}（{what}，编号{code}），值班员{operator}已接警。"
        f"{phone}处理完毕后回复“3 {code}”。"
    )


@sms_text("resident", "code", "going")
def dispatch_stood_down(*, resident: str, code: str, going: str, language: str | None = None) -> str:
    """To the one sent before: someone else goes now."""
    if is_english(language):
        return (
            f"{SIGN_EN} {going} is now going to {resident}'s call (code {code}) instead. "
            "You no longer need to go. Thank you!"
        )
    return f"{SIGN}{resident}的呼叫（编号{code}）已改由{going}前往，您不用再去了。谢谢您！"


@sms_text("resident", "code", "going")
def notice_someone_going(*, resident: str, code: str, going: str, language: str | None = None) -> str:
    """To everyone else paged: who is going, so they need not."""
    if is_english(language):
        return f"{SIGN_EN} {resident}'s call (code {code}): {going} is on the way. No need for you to go."
    return f"{SIGN}{resident}的呼叫（编号{code}）：{going}已前往处理，您无需前往。"


@sms_text("resident", "code", "close")
def reply_you_are_sent(*, resident: str, code: str, language: str | None = None) -> str:
    """The answer to a "1" (or 收到) from the one an operator sent: the call is theirs, nothing was refused."""
    if is_english(language):
        return (
            f'{SIGN_EN} Noted: you are going to {resident}\'s call (code {code}). Reply "3 {code}" when it is handled.'
        )
    return f"{SIGN}收到：请您前往处理{resident}的呼叫（编号{code}）。处理完毕后回复“3 {code}”。"
