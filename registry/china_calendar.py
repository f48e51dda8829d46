"""China's official calendar (the chinesecalendar library) as a `HolidayCalendar` for the roster.

The one module that reads the holiday library. For a year the library has no data for it falls
back to plain weekday/weekend and logs that year once, so the roster itself stays pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import chinese_calendar
import structlog

from registry.roster import DAY_KINDS
from registry.roster_plan import DayFacts


def _weekday_kind(day: dt.date) -> str:
    return "weekend" if day.weekday() >= 5 else "workday"


@dataclass
class ChinaCalendar:
    """China's official calendar (chinesecalendar), with operator overrides that win over it.

    For a year the library has no data for, days fall back to plain weekday/weekend; the first
    such day of each year logs `roster.calendar_missing_year`. `covers` tells whether the
    library knows a day's year (overrides do not count: they may be incomplete).
    """

    overrides: Mapping[dt.date, str] = field(default_factory=dict)
    # no log line for a missing year: the board's roster shows such days as unknown itself, and it
    # builds a calendar for each look (the dispatcher's one calendar logs each year once)
    quiet: bool = False
    _warned_years: set[int] = field(default_factory=set, init=False, repr=False)

    def __post_init__(self) -> None:
        self.overrides = _checked_overrides(self.overrides)

    def set_overrides(self, overrides: Mapping[dt.date, str]) -> bool:
        """Replace the overrides (the dispatcher re-reads them from the registry); True if they changed.

        A change forgets which missing years were reported, so the next report counts the new overrides.
        """
        checked = _checked_overrides(overrides)
        if checked == self.overrides:
            return False
        self.overrides = checked  # one assignment: a reader in another thread sees the old or the new set
        self._warned_years = set()
        return True

    def covers(self, day: dt.date) -> bool:
        try:
            chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return False
        return True

    def describe(self, day: dt.date) -> DayFacts:
        """The day's kind and what the calendar knows of it: the holiday's name, 调休, entered by the office."""
        kind = self.day_kind(day)
        entered = day in self.overrides
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            return DayFacts(kind, known=entered, entered=entered)
        holiday = chinese_calendar.Holiday(name) if name is not None else None
        # a named workday is a weekend worked for that holiday; a named rest day is the holiday itself
        named = holiday is not None and (kind == "holiday" or (kind == "workday" and not is_holiday))
        return DayFacts(
            kind,
            known=True,
            holiday_en=holiday.value if named and holiday else None,
            holiday_zh=holiday.chinese if named and holiday else None,
            in_lieu=kind == "workday" and day.weekday() >= 5,
            entered=entered,
        )

    def day_kind(self, day: dt.date) -> str:
        if day in self.overrides:
            return self.overrides[day]
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            self._warn_missing_year(day.year)
            return _weekday_kind(day)
        if not is_holiday:
            return "workday"  # includes 调休: a Saturday or Sunday worked in lieu
        # The library calls every rest day a holiday; only a named one is official.
        return "holiday" if name is not None else "weekend"

    def _warn_missing_year(self, year: int) -> None:
        if self.quiet or year in self._warned_years:
            return
        self._warned_years.add(year)
        structlog.get_logger().warning(
            "roster.calendar_missing_year",
            year=year,
            overrides=sum(1 for day in self.overrides if day.year == year),
        )


def _checked_overrides(overrides: Mapping[dt.date, str]) -> dict[dt.date, str]:
    bad = {day: kind for day, kind in overrides.items() if kind not in DAY_KINDS}
    if bad:
        raise ValueError(f"calendar overrides with unknown day kinds: {bad}")
    return dict(overrides)
