"""The registry's scalar rules (ids, phones, durations, times of day, zones, day spans) and the one
error every registry problem becomes: `RegistryError`, naming each entry and field."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import BeforeValidator, StringConstraints, WithJsonSchema

DAY_KINDS = ("workday", "weekend", "holiday")
ACK_EXPIRY_KEY = "ack_expiry_s"
_MAX_SECONDS = 2**31 - 1  # the columns are 32-bit integers
# The calendar's lists and the kind of day each one gives (the roster's day kinds).
CALENDAR_KINDS = {"holidays": "holiday", "workdays": "workday", "weekends": "weekend"}
_MAX_RANGE_DAYS = 366  # a longer range of days off is a typo (and would be thousands of rows)


class RegistryError(Exception):
    """The registry file is wrong; `problems` names each entry and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        lines = "\n".join(f"  {p}" for p in self.problems)
        return f"{len(self.problems)} problem(s) in the registry, nothing was changed:\n{lines}"


# --- scalar types -------------------------------------------------------------------------------


def _id(value: Any) -> str:
    # A plain decimal id (`id: 17`) is read as an int; turning it back into text loses nothing.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        return value
    raise ValueError(f"bad id '{value}' (letters, digits, _ and -, at most 64)")


# A number written without its country code (13900000002, 010 6552 9988) is read as a number of
# the communities' country: China, whose holiday calendar and time zone the service is built on.
HOME_REGION = "CN"


def _phone(value: Any) -> str:
    """A phone number, stored as E.164 (+8613900000002); a national number is read in HOME_REGION."""
    if isinstance(value, int) and not isinstance(value, bool):  # YAML reads 13900000002 unquoted as a number
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= 40 and re.fullmatch(r"[+0-9 ()./-]+", value.strip()):
        try:
            number = phonenumbers.parse(value.strip(), HOME_REGION)
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    raise ValueError(f"not an E.164 number '{value}'")


def parse_duration(value: Any) -> int:
    """ "90s", "2m", "24h", "1h30m" → seconds (> 0)."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value) if isinstance(value, str) else None
    if not m or not value:
        raise ValueError(f"bad duration '{value}'")
    h, mins, s = (int(g or 0) for g in m.groups())
    seconds = h * 3600 + mins * 60 + s
    if not 0 < seconds <= _MAX_SECONDS:
        raise ValueError(f"bad duration '{value}' (must be more than 0s and fit in 68 years)")
    return seconds


def _time_of_day(value: Any, allow_2400: bool = False) -> str:
    if isinstance(value, str) and (
        re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) or (allow_2400 and value == "24:00")
    ):
        return value
    raise ValueError(f"bad time '{value}' (HH:MM)")


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone '{value}'") from None
    return value


def _language(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}", value):
        return value
    raise ValueError(f"bad language tag '{value}' (like zh-CN)")


def _source(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= 200:
        return value
    raise ValueError(f"bad source '{value}'")


def _away_time(value: Any) -> date | datetime:
    """A day (`2026-12-10`) or an instant with its zone (`2026-12-10T08:00:00+08:00`)."""
    if isinstance(value, str):
        try:
            value = (
                datetime.fromisoformat(value.replace("Z", "+00:00"))
                if "T" in value or " " in value
                else date.fromisoformat(value)
            )
        except ValueError:
            pass
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"'{value.isoformat()}' has no time zone (write +08:00, or give a plain date)")
        return value
    if isinstance(value, date):
        return value
    raise ValueError(f"bad date or time '{value}' (2026-12-10, or 2026-12-10T08:00:00+08:00)")


def away_bounds(start: date | datetime, end: date | datetime | None, tz: str) -> tuple[datetime, datetime | None]:
    """UTC bounds of an away period: a plain day counts whole, in the community's zone (`to` included)."""
    zone = ZoneInfo(tz)

    def utc(v: date | datetime, next_day: bool) -> datetime:
        if not isinstance(v, datetime):
            v = datetime.combine(v + timedelta(days=1) if next_day else v, dtime(0, 0), zone)
        return v.astimezone(timezone.utc)

    return utc(start, False), (None if end is None else utc(end, True))


def _day_span(value: Any) -> str:
    """A day (`2027-01-01`) or a range of days, both ends included (`2027-02-06..2027-02-12`).

    Kept as text, normalised (YAML reads an unquoted day as a date), so the file and the API agree.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    form = "(a day like 2027-01-01, or a range like 2027-02-06..2027-02-12)"
    if not isinstance(value, str):
        raise ValueError(f"bad day '{value}' {form}")
    parts = value.strip().split("..")
    if len(parts) > 2 or not all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.strip()) for p in parts):
        raise ValueError(f"bad day '{value}' {form}")
    days = []
    for p in parts:
        try:
            days.append(date.fromisoformat(p.strip()))
        except ValueError:
            within = f" in '{value}'" if len(parts) > 1 else ""
            raise ValueError(f"no such day '{p.strip()}'{within}") from None
    first, last = days[0], days[-1]
    if last < first:
        raise ValueError(f"range '{value}' ends before it starts")
    if (last - first).days + 1 > _MAX_RANGE_DAYS:
        raise ValueError(f"range '{value}' is {(last - first).days + 1} days long (at most {_MAX_RANGE_DAYS})")
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def span_days(span: str) -> list[date]:
    """Every day of a validated day span, in order."""
    first, _, last = span.partition("..")
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_spans(days: Iterable[date]) -> list[str]:
    """Days as the fewest spans: runs of consecutive days become ranges."""
    spans: list[list[date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in spans]


# GB 11643: the 18th character checks the first 17 (weights 2^(17-i) mod 11; the sum mod 11 picks it)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_id_number(value: str | None) -> str | None:
    """An ID number as a change log or a message may show it: ***1234."""
    return None if value is None else "***" + value[-4:]


def _id_number(value: Any) -> str:
    """A resident identity card number (身份证号): 18 characters, 17 digits and a check digit (0-9 or X)."""
    text = str(value).strip().upper() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not re.fullmatch(r"\d{17}[\dX]", text):
        raise ValueError("an ID number has 18 characters: 17 digits, then a digit or X")
    check = _ID_CHECK[sum(int(d) * w for d, w in zip(text[:17], _ID_WEIGHTS, strict=True)) % 11]
    if text[17] != check:
        # the right check digit is not told: "fixing" the last one would hide a wrong digit elsewhere
        raise ValueError(
            f"the ID number {mask_id_number(text)} does not add up (GB 11643 check digit): check it against the card"
        )
    return text


Id = Annotated[str, BeforeValidator(_id)]
IdNumber = Annotated[str, BeforeValidator(_id_number)]
Phone = Annotated[str, BeforeValidator(_phone)]
# Text in the file and the API ("2m"), seconds once validated; the JSON schema says what to send.
Duration = Annotated[
    int,
    BeforeValidator(parse_duration),
    WithJsonSchema({"type": "string", "pattern": r"^(\d+h)?(\d+m)?(\d+s)?$", "examples": ["2m", "1h30m"]}),
]
TimeOfDay = Annotated[str, BeforeValidator(_time_of_day)]
DaySpan = Annotated[
    str,
    BeforeValidator(_day_span),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$",
            "examples": ["2027-01-01", "2027-02-06..2027-02-12"],
        }
    ),
]
ShiftEnd = Annotated[str, BeforeValidator(lambda v: _time_of_day(v, allow_2400=True))]
TimeZone = Annotated[str, BeforeValidator(_timezone)]
Language = Annotated[str, BeforeValidator(_language)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)
