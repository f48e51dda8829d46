"""The mediator's daily summary (调解员日报) as an SMS, pure: yesterday's calls and outcomes, missed
check-ins, the follow-up items open and late, residents overdue for a visit, devices to fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from dispatcher.messages import SIGN, SIGN_EN, is_english
from dispatcher.sms_kinds import sms_text

KINDS = {"emergency": ("紧急呼叫", "emergency"), "wellness": ("平安关怀", "wellness"), "device": ("设备告警", "device")}
OUTCOMES = {
    "false_alarm": ("误报", "false alarm"),
    "helped_at_home": ("上门帮助", "helped at home"),
    "family_came": ("家属到场", "family came"),
    "ambulance_called": ("叫了救护车", "ambulance called"),
    "taken_to_hospital": ("送医", "taken to hospital"),
    "other": ("其他", "other"),
}
NAMES_SHOWN = 5  # an SMS names the first few overdue residents and counts the rest


@dataclass(frozen=True)
class DayFacts:
    community: str  # its name
    day: date  # the day summed up (yesterday, in the community's days)
    calls: dict[str, int] = field(default_factory=dict)  # by kind
    outcomes: dict[str, int] = field(default_factory=dict)  # of the calls closed among them
    still_open: int = 0
    checkins_missed: int = 0
    follow_ups_open: int = 0
    follow_ups_late: int = 0
    visits_overdue: tuple[str, ...] = ()  # residents' names, the most overdue first
    devices_to_fix: int = 0


def _summary_values(f: DayFacts, language: str | None = None) -> dict[str, str]:
    """The summary's values for a template, in Chinese: each a count or a short list."""
    kinds = [f"{KINDS.get(k, (k, k))[0]}{n}" for k, n in sorted(f.calls.items()) if n]
    outcomes = [f"{OUTCOMES.get(k, (k, k))[0]}{n}" for k, n in sorted(f.outcomes.items()) if n]
    names = list(f.visits_overdue[:NAMES_SHOWN])
    more = f"等{len(f.visits_overdue)}人" if len(f.visits_overdue) > len(names) else ""
    return dict(
        community=f.community,
        day=f"{f.day.month}月{f.day.day}日",
        calls=f"{sum(f.calls.values())}次" + (f"（{'，'.join(kinds)}）" if kinds else ""),
        outcomes="，".join(outcomes) or "无",
        still_open=str(f.still_open),
        checkins_missed=str(f.checkins_missed),
        follow_ups_open=str(f.follow_ups_open),
        follow_ups_late=str(f.follow_ups_late),
        visits_overdue="、".join(names) + more if names else "无",
        devices_to_fix=str(f.devices_to_fix),
    )


@sms_text(
    "community", "day", "calls", "outcomes", "still_open", "checkins_missed", "follow_ups_open",
    "follow_ups_late", "visits_overdue", "devices_to_fix", shown=_summary_values,
)  # fmt: skip
def summary_sms(f: DayFacts, language: str | None = None) -> str:
    en = is_english(language)
    i = 1 if en else 0
    total = sum(f.calls.values())
    kinds = [f"{KINDS.get(k, (k, k))[i]} {n}" for k, n in sorted(f.calls.items()) if n]
    outcomes = [f"{OUTCOMES.get(k, (k, k))[i]} {n}" for k, n in sorted(f.outcomes.items()) if n]
    names = list(f.visits_overdue[:NAMES_SHOWN])
    more = len(f.visits_overdue) - len(names)
    if en:
        calls = f"{total} call{'s' if total != 1 else ''}" + (f" ({', '.join(kinds)})" if kinds else "")
        parts = [
            f"{SIGN_EN} {f.community}, {f.day.strftime('%d %b')}: {calls}",
            f"outcomes: {', '.join(outcomes)}" if outcomes else "",
            f"{f.still_open} still open" if f.still_open else "",
            f"{f.checkins_missed} check-in{'s' if f.checkins_missed != 1 else ''} missed",
            f"follow-ups open {f.follow_ups_open}, late {f.follow_ups_late}",
            "visits overdue: " + (", ".join(names) + (f" and {more} more" if more else "") if names else "none"),
            f"{f.devices_to_fix} device{'s' if f.devices_to_fix != 1 else ''} to fix",
        ]
        return "; ".join(p for p in parts if p) + "."
    calls = f"呼叫{total}次" + (f"（{'，'.join(kinds)}）" if kinds else "")
    parts = [
        f"{SIGN}{f.community} {f.day.month}月{f.day.day}日：{calls}",
        f"结果：{'，'.join(outcomes)}" if outcomes else "",
        f"未结案{f.still_open}次" if f.still_open else "",
        f"未按时报平安{f.checkins_missed}人次",
        f"跟进事项未办{f.follow_ups_open}件，其中逾期{f.follow_ups_late}件",
        "逾期未走访：" + ("、".join(names) + (f"等{len(f.visits_overdue)}人" if more else "") if names else "无"),
        f"待修设备{f.devices_to_fix}台",
    ]
    return "；".join(p for p in parts if p) + "。"
