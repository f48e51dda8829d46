"""The service team (一支服务队) of a community: who can be asked for what, and when.

A member entry in the registry file, under its community:
    service_team:
      - {responder: pm-zhao, skills: [health, home_help], days: [mon, tue, wed, thu, fri], from: "09:00", to: "17:00"}
`days` are the weekdays a window starts on; a window whose end is before its start crosses midnight
(a Friday 20:00–08:00 ends on Saturday morning). Pure: `available` is a function of the member and
a local time; the names are the ones a street office writes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from registry.fields import Id, ShiftEnd, TimeOfDay, _minutes

Skill = Literal["health", "counselling", "repairs", "home_help", "legal", "errands"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SKILL_NAMES: dict[str, tuple[str, str]] = {  # zh, en
    "health": ("医疗保健", "health care"),
    "counselling": ("心理疏导", "counselling"),
    "repairs": ("维修", "repairs"),
    "home_help": ("家政助老", "home help"),
    "legal": ("法律咨询", "legal advice"),
    "errands": ("代购代办", "errands"),
}
DAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def _unique(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("at least one")
    if len(set(value)) != len(value):
        raise ValueError(f"listed twice in {value}")
    return value


class ServiceMemberEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    responder: Id
    skills: Annotated[list[Skill], AfterValidator(_unique)]
    days: Annotated[list[Day], AfterValidator(_unique)] = list(DAYS)
    start: TimeOfDay = Field("00:00", alias="from")
    end: ShiftEnd = Field("24:00", alias="to")

    @field_validator("end")
    @classmethod
    def _not_empty(cls, v: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and _minutes(start) == _minutes(v):
            raise ValueError(f"hours from {start} to {v} are empty (a whole day is 00:00 to 24:00)")
        return v


def available(days: list[str], start: str, end: str, local: datetime) -> bool:
    """Whether a member with these hours can be asked at `local` (a time in the community's zone)."""
    minute = local.hour * 60 + local.minute
    lo, hi = _minutes(start), _minutes(end)
    today, yesterday = DAYS[local.weekday()], DAYS[(local.weekday() - 1) % 7]
    if lo < hi:
        return today in days and lo <= minute < hi
    return (today in days and minute >= lo) or (yesterday in days and minute < hi)


def hours_text(days: list[str], start: str, end: str) -> str:
    """ "周一至周五 09:00–17:00", "每天 全天", "周六、周日 20:00–次日08:00"."""
    picked = [i for i, d in enumerate(DAYS) if d in days]
    if len(picked) == 7:
        when = "每天"
    elif len(picked) > 2 and picked == list(range(picked[0], picked[-1] + 1)):
        when = f"{DAY_NAMES[picked[0]]}至{DAY_NAMES[picked[-1]]}"
    else:
        when = "、".join(DAY_NAMES[i] for i in picked)
    if start == "00:00" and end == "24:00":
        return f"{when} 全天"
    return f"{when} {start}–{'次日' if _minutes(end) < _minutes(start) else ''}{end}"
