"""The duty roster as the board shows it: who is on duty now and next, and each of the coming days
with its kind, its shifts and its people, and what the calendar does not know (pure; no database,
no clock: the shell passes the shifts, a calendar, the zone and now). It imports only the
standard library and registry/roster.py.

A day's shifts are listed as `registry/roster.py` applies them: each shift of the day's kind cut at
midnight, so a workday's 20:00–08:00 shows as 00:00–08:00 and 20:00–24:00 of that workday. Shifts of
inactive responders are listed (marked by the shell) but page nobody, so now, next and the gaps
count only the active ones, as `dispatcher/recipients.py` does when it pages the hotline.

A day in a year China's calendar has no data for (the State Council publishes the next year's
holidays in November) is planned as the dispatcher will page it, by plain weekday and weekend,
and says so (`known` is False): it never passes for a checked workday.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol
from zoneinfo import ZoneInfo

from registry.roster import Shift, coverage_gaps, next_change, on_duty

_DAY = 24 * 60


@dataclass(frozen=True)
class DayFacts:
    """What the calendar says of one day, beyond the kind the roster uses."""

    kind: str  # workday | weekend | holiday: what the roster applies
    known: bool  # China's calendar knows the day's year, or the office entered the day; else a weekday guess
    holiday_en: str | None = None  # the official holiday (on a holiday) or the one a 调休 workday makes up for
    holiday_zh: str | None = None
    in_lieu: bool = False  # 调休: a Saturday or Sunday worked in lieu
    entered: bool = False  # the office's calendar day, over the official calendar


class DescribedCalendar(Protocol):
    def day_kind(self, day: dt.date) -> str: ...

    def describe(self, day: dt.date) -> DayFacts: ...


@dataclass(frozen=True)
class Segment:
    start: str  # 'HH:MM', local
    end: str  # 'HH:MM' or '24:00'
    responder_ids: tuple[str, ...]  # roster order, each once
    current: bool  # the span now falls in


@dataclass(frozen=True)
class DayPlan:
    day: dt.date
    facts: DayFacts
    today: bool
    segments: tuple[Segment, ...]
    gaps: tuple[tuple[str, str], ...]  # spans of the day no active responder covers


@dataclass(frozen=True)
class DutyPlan:
    on_duty: tuple[str, ...]  # active responders on duty now
    next_change_at: dt.datetime | None  # UTC; None: no change within 8 days
    next_on_duty: tuple[str, ...]  # who is on duty from next_change_at
    days: tuple[DayPlan, ...]
    unknown_years: tuple[int, ...]  # years of the days the calendar does not know


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def duty_plan(
    shifts: Sequence[Shift],
    calendar: DescribedCalendar,
    tz: ZoneInfo,
    now: dt.datetime,
    days: int,
    active: Collection[str],
) -> DutyPlan:
    """Now, next and `days` calendar days from today (in `tz`) of the hotline roster."""
    if days < 1:
        raise ValueError(f"days must be at least 1, not {days}")
    live = [shift for shift in shifts if shift.responder_id in active]
    change = next_change(live, calendar, tz, now)
    local = now.astimezone(tz)
    minute = local.hour * 60 + local.minute
    gaps_by_kind: dict[str, list[tuple[str, str]]] = {}
    for kind, start, end in coverage_gaps(live):
        gaps_by_kind.setdefault(kind, []).append((start, end))
    planned = []
    for offset in range(days):
        day = local.date() + dt.timedelta(days=offset)
        facts = calendar.describe(day)
        spans: dict[tuple[int, int], dict[str, None]] = {}
        for shift in shifts:
            if shift.day_kind == facts.kind:
                for span in shift.segments():
                    spans.setdefault(span, {}).setdefault(shift.responder_id)
        segments = tuple(
            Segment(_hhmm(lo), _hhmm(hi), tuple(ids), offset == 0 and lo <= minute < hi)
            for (lo, hi), ids in sorted(spans.items())
        )
        planned.append(DayPlan(day, facts, offset == 0, segments, tuple(gaps_by_kind.get(facts.kind, ()))))
    return DutyPlan(
        tuple(on_duty(live, calendar, tz, now)),
        change,
        tuple(on_duty(live, calendar, tz, change)) if change is not None else (),
        tuple(planned),
        tuple(sorted({p.day.year for p in planned if not p.facts.known})),
    )
