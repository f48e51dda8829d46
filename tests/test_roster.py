"""Duty roster: who is on hotline duty at an instant, with China's calendar and with DST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from structlog.testing import capture_logs

from registry.china_calendar import ChinaCalendar
from registry.roster import InvalidShift, Shift, coverage_gaps, next_change, on_duty

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

# The `hotline` section of registry.example.yaml.
EXAMPLE = [
    Shift("workday", "08:00", "20:00", "duty-chen"),
    Shift("workday", "20:00", "08:00", "duty-he"),
    Shift("weekend", "00:00", "24:00", "duty-he"),
    Shift("holiday", "00:00", "24:00", "duty-chen"),
]


def cst(*parts: int) -> datetime:
    """A wall-clock time in Shanghai, as the aware UTC instant the service would pass."""
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


class WeekdayCalendar:
    """A fake calendar: Saturday and Sunday are the weekend, no holidays."""

    def day_kind(self, day: date) -> str:
        return "weekend" if day.weekday() >= 5 else "workday"


def test_library_facts_the_tables_rely_on():
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 1)) == (True, "National Day")
    assert date(2026, 10, 10).weekday() == 5 and chinese_calendar.is_workday(date(2026, 10, 10))  # 调休
    assert date(2026, 9, 20).weekday() == 6 and chinese_calendar.is_workday(date(2026, 9, 20))  # 调休
    assert chinese_calendar.get_holiday_detail(date(2026, 10, 17)) == (True, None)  # a plain Saturday


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (date(2026, 10, 1), "holiday"),  # National Day, a Thursday
        (date(2026, 10, 4), "holiday"),  # National Day on a Sunday
        (date(2026, 1, 3), "holiday"),  # New Year's Day holiday on a Saturday
        (date(2026, 10, 10), "workday"),  # Saturday worked in lieu
        (date(2026, 9, 20), "workday"),  # Sunday worked in lieu
        (date(2026, 10, 17), "weekend"),
        (date(2026, 11, 22), "weekend"),
        (date(2026, 11, 18), "workday"),
    ],
)
def test_china_calendar_day_kinds(day, kind):
    assert ChinaCalendar().day_kind(day) == kind


@pytest.mark.parametrize(
    ("label", "at", "expected"),
    [
        ("National Day morning", cst(2026, 10, 1, 10, 0), ["duty-chen"]),
        ("National Day late night", cst(2026, 10, 1, 23, 30), ["duty-chen"]),
        ("eve of National Day, last minute of the workday night", cst(2026, 9, 30, 23, 59), ["duty-he"]),
        ("National Day starts at local midnight", datetime(2026, 9, 30, 16, 0, tzinfo=UTC), ["duty-chen"]),
        ("early morning after the holiday is a workday's", cst(2026, 10, 8, 0, 30), ["duty-he"]),
        ("adjusted Saturday, day", cst(2026, 10, 10, 10, 0), ["duty-chen"]),
        ("adjusted Saturday, night", cst(2026, 10, 10, 21, 0), ["duty-he"]),
        ("adjusted Saturday, early morning", datetime(2026, 10, 9, 16, 30, tzinfo=UTC), ["duty-he"]),
        ("adjusted Sunday, day", cst(2026, 9, 20, 14, 0), ["duty-chen"]),
        ("ordinary Saturday, day", cst(2026, 10, 17, 10, 0), ["duty-he"]),
        ("ordinary Saturday 03:00 after a Friday night", cst(2026, 11, 21, 3, 0), ["duty-he"]),
        ("ordinary weekday, day", cst(2026, 11, 18, 10, 0), ["duty-chen"]),
        ("ordinary weekday, night", cst(2026, 11, 18, 23, 0), ["duty-he"]),
        ("ordinary weekday, early morning", cst(2026, 11, 18, 3, 0), ["duty-he"]),
        ("day shift starts at 08:00 sharp", cst(2026, 11, 18, 8, 0), ["duty-chen"]),
        ("night shift still on at 07:59", cst(2026, 11, 18, 7, 59, 59), ["duty-he"]),
        ("night shift starts at 20:00 sharp", cst(2026, 11, 18, 20, 0), ["duty-he"]),
        ("day shift still on at 19:59", cst(2026, 11, 18, 19, 59), ["duty-chen"]),
        ("Monday 03:00 after a weekend Sunday", cst(2026, 11, 23, 3, 0), ["duty-he"]),
        ("Sunday 17:00 UTC is Monday 01:00 in Shanghai", datetime(2026, 11, 22, 17, 0, tzinfo=UTC), ["duty-he"]),
        ("Monday 00:30 UTC is 08:30 in Shanghai", datetime(2026, 11, 23, 0, 30, tzinfo=UTC), ["duty-chen"]),
    ],
)
def test_on_duty_with_the_example_roster(label, at, expected):
    assert on_duty(EXAMPLE, ChinaCalendar(), SHANGHAI, at) == expected, label


def test_overlapping_shifts_all_answer_once_each_in_roster_order():
    roster = [
        Shift("weekend", "00:00", "24:00", "duty-he"),
        Shift("weekend", "22:00", "06:00", "duty-chen"),
        Shift("weekend", "02:00", "04:00", "duty-he"),
        Shift("workday", "00:00", "24:00", "duty-li"),
    ]
    assert on_duty(roster, ChinaCalendar(), SHANGHAI, cst(2026, 11, 21, 3, 0)) == ["duty-he", "duty-chen"]
    assert on_duty(roster, ChinaCalendar(), SHANGHAI, cst(2026, 11, 21, 12, 0)) == ["duty-he"]
    assert on_duty([], ChinaCalendar(), SHANGHAI, cst(2026, 11, 21, 12, 0)) == []


@pytest.mark.parametrize(
    ("label", "at", "expected"),
    [
        ("summer weekday 08:00 CEST", datetime(2026, 7, 15, 6, 0, tzinfo=UTC), ["duty-chen"]),
        ("summer weekday 07:59 CEST", datetime(2026, 7, 15, 5, 59, tzinfo=UTC), ["duty-he"]),
        ("winter weekday 08:00 CET", datetime(2026, 1, 14, 7, 0, tzinfo=UTC), ["duty-chen"]),
        ("winter weekday 07:59 CET", datetime(2026, 1, 14, 6, 59, tzinfo=UTC), ["duty-he"]),
        ("Monday 00:30 CET is still Sunday in UTC", datetime(2026, 1, 11, 23, 30, tzinfo=UTC), ["duty-he"]),
        ("Friday 20:00 CEST", datetime(2026, 7, 17, 18, 0, tzinfo=UTC), ["duty-he"]),
    ],
)
def test_on_duty_in_a_zone_with_dst(label, at, expected):
    assert on_duty(EXAMPLE, WeekdayCalendar(), BERLIN, at) == expected, label


# Berlin, 2026: clocks go 02:00 -> 03:00 at 01:00 UTC on 29 March and 03:00 -> 02:00 at 01:00 UTC
# on 25 October, both Sundays. The 02:30 boundary falls in the spring gap and in the autumn repeat.
DST_ROSTER = [
    Shift("weekend", "00:00", "02:30", "night-a"),
    Shift("weekend", "02:30", "24:00", "day-b"),
    Shift("workday", "00:00", "24:00", "desk"),
]


@pytest.mark.parametrize(
    ("label", "at", "expected"),
    [
        ("spring, 01:59 CET", datetime(2026, 3, 29, 0, 59, tzinfo=UTC), ["night-a"]),
        ("spring, 03:00 CEST right after the jump", datetime(2026, 3, 29, 1, 0, tzinfo=UTC), ["day-b"]),
        ("autumn, first 02:30 CEST", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), ["day-b"]),
        ("autumn, 02:00 CET after the clocks go back", datetime(2026, 10, 25, 1, 0, tzinfo=UTC), ["night-a"]),
        ("autumn, second 02:30 CET", datetime(2026, 10, 25, 1, 30, tzinfo=UTC), ["day-b"]),
    ],
)
def test_on_duty_across_dst_transitions(label, at, expected):
    assert on_duty(DST_ROSTER, WeekdayCalendar(), BERLIN, at) == expected, label


@pytest.mark.parametrize(
    ("label", "roster", "tz", "at", "expected"),
    [
        ("weekday day shift ends at 20:00", EXAMPLE, SHANGHAI, cst(2026, 11, 18, 10, 0), cst(2026, 11, 18, 20, 0)),
        ("from a boundary, the next one", EXAMPLE, SHANGHAI, cst(2026, 11, 18, 20, 0), cst(2026, 11, 19, 8, 0)),
        (
            "Friday night runs through the weekend to Monday 08:00",
            EXAMPLE,
            SHANGHAI,
            cst(2026, 11, 20, 21, 0),
            cst(2026, 11, 23, 8, 0),
        ),
        ("National Day starts at midnight", EXAMPLE, SHANGHAI, cst(2026, 9, 30, 21, 0), cst(2026, 10, 1, 0, 0)),
        (
            "holiday ends into a workday early morning",
            EXAMPLE,
            SHANGHAI,
            cst(2026, 10, 7, 12, 0),
            cst(2026, 10, 8, 0, 0),
        ),
        (
            "spring gap: the change is the jump itself",
            DST_ROSTER,
            BERLIN,
            datetime(2026, 3, 29, 0, 0, tzinfo=UTC),
            datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        ),
        (
            "autumn: first 02:30",
            DST_ROSTER,
            BERLIN,
            datetime(2026, 10, 24, 23, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        ),
        (
            "autumn: clocks going back bring night-a back",
            DST_ROSTER,
            BERLIN,
            datetime(2026, 10, 25, 0, 40, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        ),
        (
            "autumn: second 02:30",
            DST_ROSTER,
            BERLIN,
            datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
    ],
)
def test_next_change(label, roster, tz, at, expected):
    changed = next_change(roster, WeekdayCalendar() if tz is BERLIN else ChinaCalendar(), tz, at)
    assert changed == expected, label
    assert changed.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    "roster",
    [
        [],
        [Shift(kind, "00:00", "24:00", "duty-he") for kind in ("workday", "weekend", "holiday")],
        [Shift(kind, "20:00", "20:00", "duty-he") for kind in ("workday", "weekend", "holiday")],
    ],
)
def test_next_change_is_none_when_nothing_changes_within_eight_days(roster):
    assert next_change(roster, ChinaCalendar(), SHANGHAI, cst(2026, 11, 18, 10, 0)) is None


def test_naive_instants_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        on_duty(EXAMPLE, ChinaCalendar(), SHANGHAI, datetime(2026, 11, 18, 10, 0))
    with pytest.raises(ValueError, match="time zone"):
        next_change(EXAMPLE, ChinaCalendar(), SHANGHAI, datetime(2026, 11, 18, 10, 0))


@pytest.mark.parametrize(
    ("roster", "gaps"),
    [
        (EXAMPLE, []),
        (EXAMPLE[:2], [("weekend", "00:00", "24:00"), ("holiday", "00:00", "24:00")]),
        (EXAMPLE[1:], [("workday", "08:00", "20:00")]),
        (
            [
                Shift("workday", "22:00", "06:00", "duty-he"),
                Shift("workday", "09:00", "17:00", "duty-chen"),
                Shift("workday", "08:00", "12:00", "duty-li"),
                Shift("weekend", "07:30", "07:30", "duty-he"),
                Shift("holiday", "00:00", "23:59", "duty-chen"),
            ],
            [("workday", "06:00", "08:00"), ("workday", "17:00", "22:00"), ("holiday", "23:59", "24:00")],
        ),
    ],
)
def test_coverage_gaps(roster, gaps):
    assert coverage_gaps(roster) == gaps


@pytest.mark.parametrize(
    ("kind", "start", "end", "responder"),
    [
        ("weekday", "08:00", "20:00", "duty-chen"),
        ("workday", "8:00", "20:00", "duty-chen"),
        ("workday", "24:00", "08:00", "duty-chen"),
        ("workday", "08:00", "24:30", "duty-chen"),
        ("workday", "08:60", "20:00", "duty-chen"),
        ("workday", "08:00", "20:00", ""),
    ],
)
def test_invalid_shifts_are_refused(kind, start, end, responder):
    with pytest.raises(InvalidShift):
        Shift(kind, start, end, responder)


LIBRARY_HAS_2027 = ChinaCalendar().covers(date(2027, 1, 1))


@pytest.mark.skipif(LIBRARY_HAS_2027, reason="chinesecalendar now has 2027; the 2100 test keeps the fallback tested")
def test_2027_falls_back_to_weekdays_and_warns_once():
    calendar = ChinaCalendar()
    assert calendar.covers(date(2026, 12, 31))
    with capture_logs() as logs:
        assert not calendar.covers(date(2027, 1, 4))
        assert calendar.day_kind(date(2027, 1, 4)) == "workday"  # a Monday
        assert calendar.day_kind(date(2027, 1, 2)) == "weekend"  # a Saturday
        assert on_duty(EXAMPLE, calendar, SHANGHAI, cst(2027, 1, 4, 10, 0)) == ["duty-chen"]
        assert on_duty(EXAMPLE, calendar, SHANGHAI, cst(2027, 1, 2, 10, 0)) == ["duty-he"]
    assert logs == [{"event": "roster.calendar_missing_year", "log_level": "warning", "year": 2027, "overrides": 0}]


def test_each_uncovered_year_warns_once():
    calendar = ChinaCalendar()
    with capture_logs() as logs:
        assert not calendar.covers(date(2100, 1, 4))
        assert calendar.day_kind(date(2100, 1, 4)) == "workday"  # a Monday
        assert calendar.day_kind(date(2100, 1, 2)) == "weekend"  # a Saturday
        assert calendar.day_kind(date(2003, 1, 4)) == "weekend"  # a Saturday, before the library's data
    assert logs == [
        {"event": "roster.calendar_missing_year", "log_level": "warning", "year": 2100, "overrides": 0},
        {"event": "roster.calendar_missing_year", "log_level": "warning", "year": 2003, "overrides": 0},
    ]


def test_overrides_win_over_the_library_and_the_fallback():
    calendar = ChinaCalendar(
        overrides={
            date(2027, 1, 1): "holiday",  # entered by an operator before the library knows 2027
            date(2026, 10, 10): "weekend",  # against the library's adjusted working day
        }
    )
    assert calendar.covers(date(2027, 1, 1)) == LIBRARY_HAS_2027  # overrides may be incomplete: not "covered"
    assert calendar.day_kind(date(2026, 10, 10)) == "weekend"
    assert on_duty(EXAMPLE, calendar, SHANGHAI, cst(2026, 10, 10, 10, 0)) == ["duty-he"]
    with capture_logs() as logs:
        assert on_duty(EXAMPLE, calendar, SHANGHAI, cst(2027, 1, 1, 10, 0)) == ["duty-chen"]
        assert calendar.day_kind(date(2027, 1, 4)) == "workday"
    expected = (
        []
        if LIBRARY_HAS_2027
        else [{"event": "roster.calendar_missing_year", "log_level": "warning", "year": 2027, "overrides": 1}]
    )
    assert logs == expected


def test_overrides_with_unknown_kinds_are_refused():
    with pytest.raises(ValueError, match="unknown day kinds"):
        ChinaCalendar(overrides={date(2027, 1, 1): "festival"})


# --- 2027: the library's data ends with 2026; the operators' calendar days fill in -----------------


def calendar_2027() -> ChinaCalendar:
    """The days a `calendar:` section like deploy/demo/registry.yaml's comment would store."""
    return ChinaCalendar(
        overrides={
            date(2027, 1, 1): "holiday",  # New Year's Day, a Friday
            **{date(2027, 2, day): "holiday" for day in range(6, 13)},  # Spring Festival, Saturday to Friday
            date(2027, 2, 14): "workday",  # a Sunday worked in lieu (调休)
        }
    )


@pytest.mark.parametrize(
    ("at", "expected", "label"),
    [
        (cst(2027, 1, 1, 22, 0), ["duty-chen"], "New Year's Day: the holiday shift, not the workday night's duty-he"),
        (cst(2027, 1, 1, 3, 0), ["duty-chen"], "New Year's Day early morning: still the holiday shift"),
        (cst(2027, 2, 6, 10, 0), ["duty-chen"], "Spring Festival on a Saturday: the holiday shift, not the weekend's"),
        (cst(2027, 2, 10, 23, 0), ["duty-chen"], "Spring Festival on a Wednesday night"),
        (
            cst(2027, 2, 14, 10, 0),
            ["duty-chen"],
            "the adjusted Sunday: the workday day shift, not the weekend's duty-he",
        ),
        (cst(2027, 2, 14, 21, 0), ["duty-he"], "the adjusted Sunday night: the workday night shift"),
        (cst(2027, 1, 4, 10, 0), ["duty-chen"], "a Monday without override: a plain workday"),
        (cst(2027, 1, 4, 22, 0), ["duty-he"], "a Monday night without override: a plain workday night"),
        (cst(2027, 1, 9, 10, 0), ["duty-he"], "a Saturday without override: a plain weekend"),
        (cst(2027, 2, 13, 10, 0), ["duty-he"], "the Saturday after the festival, not overridden: a weekend"),
    ],
)
def test_2027_overrides_pick_the_shift(at, expected, label):
    assert on_duty(EXAMPLE, calendar_2027(), SHANGHAI, at) == expected, label


def test_2027_day_kinds_with_overrides():
    calendar = calendar_2027()
    assert [calendar.day_kind(date(2027, 1, d)) for d in (1, 2, 3, 4)] == ["holiday", "weekend", "weekend", "workday"]
    assert calendar.day_kind(date(2027, 2, 14)) == "workday" and date(2027, 2, 14).weekday() == 6
    # Within 8 days of New Year's Eve 20:00, the first change is midnight, when the holiday shift begins.
    assert next_change(EXAMPLE, calendar, SHANGHAI, cst(2026, 12, 31, 21, 0)) == cst(2027, 1, 1, 0, 0)


def test_set_overrides_replaces_them_and_reports_the_new_count_once():
    calendar = ChinaCalendar()
    with capture_logs() as logs:
        calendar.day_kind(date(2100, 1, 4))
        assert calendar.set_overrides({date(2100, 1, 1): "holiday"}) is True
        assert calendar.day_kind(date(2100, 1, 1)) == "holiday"
        calendar.day_kind(date(2100, 1, 4))
        calendar.day_kind(date(2100, 1, 5))
        assert calendar.set_overrides({date(2100, 1, 1): "holiday"}) is False  # the same: nothing to do
        calendar.day_kind(date(2100, 1, 6))
    assert [log["overrides"] for log in logs] == [0, 1]
    with pytest.raises(ValueError, match="unknown day kinds"):
        calendar.set_overrides({date(2100, 1, 1): "festival"})
    assert calendar.day_kind(date(2100, 1, 1)) == "holiday"  # a refused set leaves the old one
