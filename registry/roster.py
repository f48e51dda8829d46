"""Hotline duty roster: who is on duty at a given instant (pure; no database, no clock).

A roster is a list of shifts, each for one kind of day (`workday`, `weekend`, `holiday`) and a
wall-clock span in the community's time zone. The kind of a calendar day comes from a
`HolidayCalendar`; `registry/china_calendar.py`'s `ChinaCalendar` uses China's official calendar,
where an adjusted working day (调休, a Saturday or Sunday worked in lieu) is a workday and an official
holiday is a holiday whatever day of the week it falls on. This module imports only the standard
library.

The rule: a shift covers its span on every calendar day of its kind, cut at midnight.
A shift whose end is not after its start (workday 20:00–08:00) therefore covers [20:00, 24:00)
and [00:00, 08:00) of each workday, judged by the kind of the day the instant falls on, not the
kind of the day the night began. Why: a roster written as "workday 08–20 chen, 20–08 he;
weekend 00–24 he" means "workday nights and workday early mornings are he's". Judging by the
day a night shift starts would leave Monday 00:00–08:00 uncovered (Sunday is a weekend, so no
workday night started then, and Sunday's 00–24 shift ended at midnight) and would let Friday's
night shift run into Saturday on top of the weekend shift. With per-day segments a roster either
covers every minute of every kind of day or `coverage_gaps` names the holes, without looking at
any calendar. Intervals are half-open: 08:00 belongs to the shift that starts at 08:00.

Wall-clock times are read in the community's zone with zoneinfo, so a DST jump moves the
instants at which the on-duty set changes but never the wall-clock times on the roster.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

DAY_KINDS = ("workday", "weekend", "holiday")
_DAY = 24 * 60  # minutes
_HHMM = re.compile(r"^(\d{2}):(\d{2})$")
_LOOKAHEAD = dt.timedelta(days=8)


class InvalidShift(ValueError):
    """A shift that cannot be on a roster; the message names the shift's responder and field."""


def _minutes(value: str, *, responder_id: str, name: str, allow_24: bool) -> int:
    match = _HHMM.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidShift(f"shift of {responder_id}: {name} {value!r} is not HH:MM")
    hours, minutes = int(match[1]), int(match[2])
    if (hours, minutes) == (24, 0) and allow_24:
        return _DAY
    if hours > 23 or minutes > 59:
        raise InvalidShift(f"shift of {responder_id}: {name} {value!r} is not a time of day")
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Shift:
    day_kind: str  # 'workday' | 'weekend' | 'holiday'
    start: str  # 'HH:MM'
    end: str  # 'HH:MM' or '24:00'; end <= start: runs past midnight (see the module docstring)
    responder_id: str

    def __post_init__(self) -> None:
        if self.day_kind not in DAY_KINDS:
            raise InvalidShift(f"shift of {self.responder_id}: day kind {self.day_kind!r} is not one of {DAY_KINDS}")
        if not self.responder_id:
            raise InvalidShift(f"shift {self.day_kind} {self.start}-{self.end}: no responder")
        _minutes(self.start, responder_id=self.responder_id, name="start", allow_24=False)
        _minutes(self.end, responder_id=self.responder_id, name="end", allow_24=True)

    def segments(self) -> tuple[tuple[int, int], ...]:
        """The half-open minute-of-day spans this shift covers on each day of its kind."""
        start = _minutes(self.start, responder_id=self.responder_id, name="start", allow_24=False)
        end = _minutes(self.end, responder_id=self.responder_id, name="end", allow_24=True)
        if end > start:
            return ((start, end),)
        return tuple(span for span in ((start, _DAY), (0, end)) if span[0] < span[1])


class HolidayCalendar(Protocol):
    def day_kind(self, day: dt.date) -> str: ...


def _require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"instant {at!r} has no time zone; pass an aware UTC datetime")


def on_duty(shifts: Sequence[Shift], calendar: HolidayCalendar, tz: ZoneInfo, at: dt.datetime) -> list[str]:
    """Responder ids on duty at `at`, in roster order, each once."""
    _require_aware(at)
    local = at.astimezone(tz)
    kind = calendar.day_kind(local.date())
    # Boundaries are whole minutes, so flooring to the minute keeps [start, end) exact.
    minute = local.hour * 60 + local.minute
    found: dict[str, None] = {}
    for shift in shifts:
        if shift.day_kind == kind and any(lo <= minute < hi for lo, hi in shift.segments()):
            found.setdefault(shift.responder_id)
    return list(found)


def next_change(
    shifts: Sequence[Shift], calendar: HolidayCalendar, tz: ZoneInfo, at: dt.datetime
) -> dt.datetime | None:
    """The first instant after `at` (UTC) at which the on-duty set differs, within 8 days; else None.

    The set can change only where the local wall clock reaches a shift boundary or midnight, or
    where it jumps (a DST transition), so those instants are the only candidates.
    """
    _require_aware(at)
    at = at.astimezone(dt.UTC)
    horizon = at + _LOOKAHEAD
    minutes = sorted({0} | {edge % _DAY for shift in shifts for span in shift.segments() for edge in span})
    first_day = at.astimezone(tz).date() - dt.timedelta(days=1)
    near = {
        instant
        for offset in range(_LOOKAHEAD.days + 3)
        for minute in minutes
        for instant in _instants(first_day + dt.timedelta(days=offset), minute, tz)
    }
    candidates = sorted(c for c in near if at < c <= horizon)
    candidates = sorted({*candidates, *_transitions([at, *candidates], tz)})
    current = on_duty(shifts, calendar, tz, at)
    for instant in candidates:
        if on_duty(shifts, calendar, tz, instant) != current:
            return instant
    return None


def _instants(day: dt.date, minute: int, tz: ZoneInfo) -> set[dt.datetime]:
    """The UTC instants at which wall time `minute` on `day` is read under either offset."""
    naive = dt.datetime.combine(day, dt.time(minute // 60, minute % 60))
    return {naive.replace(tzinfo=tz, fold=fold).astimezone(dt.UTC) for fold in (0, 1)}


def _transitions(instants: Iterable[dt.datetime], tz: ZoneInfo) -> list[dt.datetime]:
    """UTC offset changes between consecutive sorted instants (at least one candidate a day)."""
    found = []
    ordered = list(instants)
    for lo, hi in zip(ordered, ordered[1:], strict=False):
        if lo.astimezone(tz).utcoffset() == hi.astimezone(tz).utcoffset():
            continue
        # Bisect on whole seconds (zone transitions fall on them) to the first instant under hi's offset.
        target = hi.astimezone(tz).utcoffset()
        lo_s, hi_s = math.floor(lo.timestamp()), math.ceil(hi.timestamp())
        while hi_s - lo_s > 1:
            mid_s = (lo_s + hi_s) // 2
            if dt.datetime.fromtimestamp(mid_s, tz).utcoffset() == target:
                hi_s = mid_s
            else:
                lo_s = mid_s
        found.append(dt.datetime.fromtimestamp(hi_s, dt.UTC))
    return found


def coverage_gaps(shifts: Iterable[Shift]) -> list[tuple[str, str, str]]:
    """(day_kind, 'HH:MM', 'HH:MM') spans of each kind of day that no shift covers."""
    shifts = list(shifts)
    gaps = []
    for kind in DAY_KINDS:
        spans = sorted(span for shift in shifts if shift.day_kind == kind for span in shift.segments())
        covered_to = 0
        for lo, hi in spans:
            if lo > covered_to:
                gaps.append((kind, _hhmm(covered_to), _hhmm(lo)))
            covered_to = max(covered_to, hi)
        if covered_to < _DAY:
            gaps.append((kind, _hhmm(covered_to), _hhmm(_DAY)))
    return gaps
