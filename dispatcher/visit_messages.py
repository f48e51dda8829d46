"""What party members and mediators read about visits (走访), in Chinese and in English. A party member
replies `走访 <姓名>`, adding a need if there is one; every text says how."""

from __future__ import annotations

from datetime import date

from dispatcher.messages import SIGN, SIGN_EN, is_english
from dispatcher.sms_kinds import sms_text


def _where(address: str, english: bool) -> str:
    if not address:
        return ""
    return f" ({address})" if english else f"（{address}）"


def _day(d: date, english: bool) -> str:
    return d.strftime("%d %b") if english else f"{d.month}月{d.day}日"


@sms_text(
    "day", "resident", "address", "reply",
    shown=lambda **a: dict(
        day="今天" + (f"（已逾期{a['overdue_days']}天）" if a["overdue_days"] else ""),
        resident=a["resident"], address=a["address"] or "地址未登记", reply=f"走访 {a['resident']}",
    ),
)  # fmt: skip
def visit_due(*, resident: str, address: str, overdue_days: int, language: str | None = None) -> str:
    """To the party members on the morning a resident's visit falls due."""
    if is_english(language):
        late = f" (overdue {overdue_days} day{'s' if overdue_days > 1 else ''})" if overdue_days else ""
        return (
            f'{SIGN_EN} Please visit {resident}{_where(address, True)} today{late}. Afterwards reply "走访 {resident}"; '
            f'add a need if there is one, e.g. "走访 {resident} 需要买药".'
        )
    late = f"（已逾期{overdue_days}天）" if overdue_days else ""
    return (
        f"{SIGN}今天请走访{resident}{_where(address, False)}{late}。走访后回复“走访 {resident}”，"
        f"有需要请接着写，如“走访 {resident} 需要买药”。"
    )


@sms_text(
    "resident", "address", "due", "overdue_days", "visitors",
    shown=lambda **a: dict(resident=a["resident"], address=a["address"] or "地址未登记", due=_day(a["due"], False), overdue_days=str(a["overdue_days"]), visitors=a["visitors"] or "楼道党员"),
)  # fmt: skip
def visit_overdue(
    *, resident: str, address: str, due: date, overdue_days: int, visitors: str, language: str | None = None
) -> str:
    """To the community's mediator when a visit day passed without a visit."""
    if is_english(language):
        return (
            f"{SIGN_EN} {resident}{_where(address, True)} was due a visit on {_day(due, True)}, now {overdue_days} "
            f"day{'s' if overdue_days > 1 else ''} overdue; {visitors or 'no party member'} has not reported one. "
            "Please follow up."
        )
    return (
        f"{SIGN}{resident}{_where(address, False)}应于{_day(due, False)}走访，已逾期{overdue_days}天，"
        f"{visitors or '楼道党员'}尚未回报。请跟进。"
    )


@sms_text("resident", "visitor", "need")
def visit_need(*, resident: str, visitor: str, need: str, language: str | None = None) -> str:
    """To the mediator: a need a visitor saw, to follow up."""
    if is_english(language):
        return f"{SIGN_EN} {visitor} visited {resident} and noted a need: {need}. Please follow up."
    return f"{SIGN}{visitor}走访{resident}时记下需要：{need}。请跟进。"


@sms_text(
    "resident", "next_due", "need",
    shown=lambda **a: dict(resident=a["resident"], next_due=_day(a["next_due"], False), need="已转调解员跟进" if a["need"] else "无"),
)  # fmt: skip
def visit_recorded(*, resident: str, next_due: date, need: bool, language: str | None = None) -> str:
    """The answer to a visit reply that was recorded."""
    if is_english(language):
        passed = " The need you noted has gone to the mediator." if need else ""
        return (
            f"{SIGN_EN} Your visit to {resident} is recorded, thank you. Next visit by {_day(next_due, True)}.{passed}"
        )
    passed = "您记下的需要已转调解员跟进。" if need else ""
    return f"{SIGN}已记录您对{resident}的走访，谢谢。下次请在{_day(next_due, False)}前走访。{passed}"


@sms_text(
    "names", "reply", shown=lambda **a: dict(names="、".join(a["names"]), reply=f"走访 {(a['names'] or ['张秀英'])[0]}")
)
def visit_which(*, names: list[str], language: str | None = None) -> str:
    """The sender looks after several residents and named none, or one we do not know."""
    example = names[0] if names else "张秀英"
    if is_english(language):
        return f'{SIGN_EN} Whom did you visit? You look after {", ".join(names)}. Reply e.g. "走访 {example}".'
    return f"{SIGN}请说明走访了哪位居民。您负责走访：{'、'.join(names)}。请回复如“走访 {example}”。"


@sms_text()
def visit_unknown_sender(*, language: str | None = None) -> str:
    """A visit reply from a number that is no party member's."""
    if is_english(language):
        return f"{SIGN_EN} This number is not registered as a building volunteer, so the visit was not recorded. Please call the community office."
    return f"{SIGN}此号码未登记为楼道党员，走访未能记录。请联系社区。"


def _by_when(promised: date | None) -> str:
    return f"在{_day(promised, False)}前" if promised else "尽快"


@sms_text(
    "by", "resident", "address", "need", "promised",
    shown=lambda **a: dict(by=a["by"], resident=a["resident"], address=a["address"] or "地址未登记", need=a["need"], promised=_by_when(a["promised"])),
)  # fmt: skip
def follow_up_assigned(
    *, resident: str, address: str, need: str, promised: date | None, by: str, language: str | None = None
) -> str:
    """To a service-team volunteer the mediator gives a follow-up item to."""
    if is_english(language):
        when = f"by {_day(promised, True)}" if promised else "soon"
        return (
            f"{SIGN_EN} {by} asks you to follow up {resident}{_where(address, True)}: {need}, please {when}. Thank you."
        )
    return f"{SIGN}{by}请您跟进{resident}{_where(address, False)}：{need}，请{_by_when(promised)}办好。谢谢！"
