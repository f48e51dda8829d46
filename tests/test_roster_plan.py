"""The duty plan (registry/roster_plan.duty_plan) as tables of literal instants: who is on duty now
and next with the time of the change, each day's kind and shifts cut at midnight, holidays and 调休
workdays, days the calendar does not know, gaps, and inactive responders who page nobody."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from registry.china_calendar import ChinaCalendar
from registry.roster import Shift
from registry.roster_plan import DayFacts, duty_plan

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROSTER = [  # the example registry's hotline
    Shift("workday", "08:00", "20:00", "duty-chen"),
    Shift("workday", "20:00", "08:00", "duty-he"),
    Shift("weekend", "00:00", "24:00", "duty-he"),
    Shift("holiday", "00:00", "24:00", "duty-chen"),
]
EVERYONE = {"duty-chen", "duty-he"}


class TableCalendar:
    """Plain weekdays and weekends, known, except the days it is given."""

    def __init__(self, days: dict[dt.date, DayFacts] | None = None) -> None:
        self.days = days or {}

    def describe(self, day: dt.date) -> DayFacts:
        return self.days.get(day) or DayFacts("weekend" if day.weekday() >= 5 else "workday", known=True)

    def day_kind(self, day: dt.date) -> str:
        return self.describe(day).kind


def beijing(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=SHANGHAI).astimezone(dt.UTC)


@pytest.mark.parametrize(
    ("now", "on_duty", "change_at", "next_on_duty"),
    [
        (beijing(2026, 12, 3, 10, 0), ("duty-chen",), beijing(2026, 12, 3, 20, 0), ("duty-he",)),  # Thursday
        (beijing(2026, 12, 3, 7, 59), ("duty-he",), beijing(2026, 12, 3, 8, 0), ("duty-chen",)),
        (beijing(2026, 12, 3, 8, 0), ("duty-chen",), beijing(2026, 12, 3, 20, 0), ("duty-he",)),  # 08:00 is day's
        # Friday night runs into the weekend, all duty-he's: the next change is Monday 08:00
        (beijing(2026, 12, 4, 21, 0), ("duty-he",), beijing(2026, 12, 7, 8, 0), ("duty-chen",)),
        (beijing(2026, 12, 5, 12, 0), ("duty-he",), beijing(2026, 12, 7, 8, 0), ("duty-chen",)),
    ],
)
def test_now_and_next(now, on_duty, change_at, next_on_duty):
    plan = duty_plan(ROSTER, TableCalendar(), SHANGHAI, now, 7, EVERYONE)
    assert (plan.on_duty, plan.next_change_at, plan.next_on_duty) == (on_duty, change_at, next_on_duty)


def test_seven_days_from_today_with_their_kinds_and_shifts_cut_at_midnight():
    plan = duty_plan(ROSTER, TableCalendar(), SHANGHAI, beijing(2026, 12, 3, 23, 30), 7, EVERYONE)
    assert [(d.day.isoformat(), d.facts.kind, d.today) for d in plan.days] == [
        ("2026-12-03", "workday", True),  # 23:30 Beijing is 15:30 UTC: still the 3rd here
        ("2026-12-04", "workday", False),
        ("2026-12-05", "weekend", False),
        ("2026-12-06", "weekend", False),
        ("2026-12-07", "workday", False),
        ("2026-12-08", "workday", False),
        ("2026-12-09", "workday", False),
    ]
    thursday = plan.days[0]
    assert [(s.start, s.end, s.responder_ids, s.current) for s in thursday.segments] == [
        ("00:00", "08:00", ("duty-he",), False),
        ("08:00", "20:00", ("duty-chen",), False),
        ("20:00", "24:00", ("duty-he",), True),
    ]
    assert [(s.start, s.end, s.responder_ids) for s in plan.days[2].segments] == [("00:00", "24:00", ("duty-he",))]
    assert not any(s.current for d in plan.days[1:] for s in d.segments)
    assert plan.unknown_years == () and all(d.gaps == () for d in plan.days)


def test_a_holiday_and_an_adjusted_workday_take_their_own_shifts():
    days = {
        dt.date(2026, 12, 5): DayFacts("workday", True, "National Day", "国庆节", in_lieu=True),  # a Saturday worked
        dt.date(2026, 12, 7): DayFacts("holiday", True, "National Day", "国庆节"),  # a Monday off
    }
    plan = duty_plan(ROSTER, TableCalendar(days), SHANGHAI, beijing(2026, 12, 5, 9, 0), 3, EVERYONE)
    saturday, sunday, monday = plan.days
    assert saturday.facts.in_lieu and [s.responder_ids for s in saturday.segments] == [
        ("duty-he",),
        ("duty-chen",),
        ("duty-he",),
    ]
    assert plan.on_duty == ("duty-chen",)  # 09:00 on a worked Saturday: the day shift
    assert plan.next_change_at == beijing(2026, 12, 5, 20, 0)
    assert sunday.facts.kind == "weekend"
    assert monday.facts.holiday_zh == "国庆节" and [s.responder_ids for s in monday.segments] == [("duty-chen",)]


def test_a_day_the_calendar_does_not_know_is_planned_by_weekday_and_says_so():
    unknown = {
        dt.date(2027, 1, 1): DayFacts("workday", known=False),  # a Friday in a year with no data
        dt.date(2027, 1, 2): DayFacts("weekend", known=False),
    }
    plan = duty_plan(ROSTER, TableCalendar(unknown), SHANGHAI, beijing(2026, 12, 31, 12, 0), 3, EVERYONE)
    assert [(d.day.isoformat(), d.facts.known) for d in plan.days] == [
        ("2026-12-31", True),
        ("2027-01-01", False),
        ("2027-01-02", False),
    ]
    assert plan.unknown_years == (2027,)


# the first year the holiday library has no data for (2027 with chinesecalendar 1.11; later with a newer one)
UNKNOWN_YEAR = next(year for year in range(2026, 2200) if not ChinaCalendar().covers(dt.date(year, 1, 1)))


def test_with_chinas_calendar_new_years_day_of_an_unpublished_year_is_unknown_unless_the_office_entered_it():
    now = beijing(UNKNOWN_YEAR - 1, 12, 31, 12, 0)
    plan = duty_plan(ROSTER, ChinaCalendar(quiet=True), SHANGHAI, now, 2, EVERYONE)
    assert [d.facts.known for d in plan.days] == [True, False] and plan.unknown_years == (UNKNOWN_YEAR,)
    entered = ChinaCalendar({dt.date(UNKNOWN_YEAR, 1, 1): "holiday"}, quiet=True)
    plan = duty_plan(ROSTER, entered, SHANGHAI, now, 2, EVERYONE)
    new_year = plan.days[1].facts
    assert (new_year.kind, new_year.known, new_year.entered) == ("holiday", True, True)
    assert plan.unknown_years == ()


def test_chinas_calendar_names_holidays_and_adjusted_workdays():
    facts = ChinaCalendar().describe
    assert facts(dt.date(2026, 10, 1)) == DayFacts("holiday", True, "National Day", "国庆节")
    assert facts(dt.date(2026, 10, 10)) == DayFacts("workday", True, "National Day", "国庆节", in_lieu=True)
    assert facts(dt.date(2026, 12, 5)) == DayFacts("weekend", True)
    assert facts(dt.date(2026, 12, 7)) == DayFacts("workday", True)


def test_gaps_and_inactive_responders_page_nobody():
    roster = [*ROSTER[:1], Shift("workday", "20:00", "08:00", "duty-gone"), *ROSTER[2:]]
    plan = duty_plan(roster, TableCalendar(), SHANGHAI, beijing(2026, 12, 3, 21, 0), 2, EVERYONE)
    assert plan.on_duty == ()  # the night's responder is inactive: the hotline reaches nobody
    assert plan.next_change_at == beijing(2026, 12, 4, 8, 0) and plan.next_on_duty == ("duty-chen",)
    thursday = plan.days[0]
    assert [s.responder_ids for s in thursday.segments] == [("duty-gone",), ("duty-chen",), ("duty-gone",)]
    assert thursday.gaps == (("00:00", "08:00"), ("20:00", "24:00"))


def test_days_must_be_at_least_one():
    with pytest.raises(ValueError, match="days must be at least 1"):
        duty_plan(ROSTER, TableCalendar(), SHANGHAI, beijing(2026, 12, 3, 10, 0), 0, EVERYONE)


def test_a_quiet_calendar_logs_no_missing_year_and_a_loud_one_does():
    from structlog.testing import capture_logs

    with capture_logs() as logs:
        assert ChinaCalendar(quiet=True).describe(dt.date(2100, 1, 4)) == DayFacts("workday", known=False)
    assert logs == []
    with capture_logs() as logs:
        ChinaCalendar().describe(dt.date(2100, 1, 4))
    assert [e["event"] for e in logs] == ["roster.calendar_missing_year"]
