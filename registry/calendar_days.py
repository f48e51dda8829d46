"""China's calendar with the operators' calendar days (table `calendar_days`) as its overrides.

The days are registry data: `jinqiao import` or `PUT /api/v1/calendar` may change them while a
dispatcher runs. Reading them for every roster lookup would add a query to every hotline step of
every alert, so they are re-read at most once per `ttl` of the clock the caller passes in (the
pass's `now`): an import takes effect within a minute, without a restart.
"""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import CalendarDay
from registry.china_calendar import ChinaCalendar

TTL = dt.timedelta(seconds=60)


def load_calendar_days(s: Session) -> dict[dt.date, str]:
    return {day: kind for day, kind in s.execute(select(CalendarDay.day, CalendarDay.kind))}


class StoredCalendar:
    """A HolidayCalendar whose overrides are the stored calendar days, refreshed by `refresh`."""

    def __init__(self, calendar: ChinaCalendar | None = None, ttl: dt.timedelta = TTL) -> None:
        self.calendar = calendar if calendar is not None else ChinaCalendar()
        self.ttl = ttl
        self._loaded_at: dt.datetime | None = None

    def refresh(self, s: Session, now: dt.datetime) -> None:
        """Re-read the days when the last read is `ttl` old, or the clock went back by more than that.

        No lock: two threads that both find the copy stale each read it once, which is harmless,
        and a lock held across a query could wait on another transaction.
        """
        loaded = self._loaded_at
        if loaded is not None and abs(now - loaded) < self.ttl:
            return
        days = load_calendar_days(s)
        if self.calendar.set_overrides(days):
            structlog.get_logger().info(
                "roster.calendar_days_loaded", days=len(days), years=sorted({day.year for day in days})
            )
        self._loaded_at = now

    def day_kind(self, day: dt.date) -> str:
        return self.calendar.day_kind(day)

    def covers(self, day: dt.date) -> bool:
        return self.calendar.covers(day)
