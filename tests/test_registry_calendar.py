"""The registry's `calendar:` section: official days off and adjusted working days for years the
holiday library does not know, stored one row a day; a second import writes nothing, a file without
the section leaves the days alone, and every mistake is named by entry and field."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from core import schema
from registry.fields import RegistryError, day_spans, span_days
from registry.store import import_registry
from registry.validation import read_yaml

CALENDAR = {"holidays": ["2027-01-01", "2027-02-06..2027-02-12"], "workdays": ["2027-02-14"]}
SPRING_FESTIVAL = {date(2027, 2, 6) + timedelta(days=i): "holiday" for i in range(7)}
STORED = {date(2027, 1, 1): "holiday", **SPRING_FESTIVAL, date(2027, 2, 14): "workday"}


@pytest.fixture
def example(example_registry) -> dict[str, Any]:
    return read_yaml(example_registry.read_bytes())


@pytest.fixture
def write(tmp_path):
    def _write(raw: Any):
        path = tmp_path / "registry.yaml"
        path.write_text(
            raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        return path

    return _write


def stored(sessions) -> dict[date, str]:
    with sessions() as s:
        return {row.day: row.kind for row in s.scalars(select(schema.CalendarDay))}


def counts(report) -> dict[str, int]:
    return {k: n for k, n in vars(report.tables["calendar_days"]).items() if n}


def test_calendar_days_are_imported_one_row_a_day_and_a_second_import_changes_nothing(sessions, example, write):
    example["calendar"] = CALENDAR
    path = write(example)

    report = import_registry(sessions, path)

    assert counts(report) == {"created": 9}
    assert stored(sessions) == STORED
    again = import_registry(sessions, path)
    assert again.changed == 0 and str(again) == "no changes"
    assert stored(sessions) == STORED


def test_unquoted_days_and_rest_days_are_read(sessions, example_registry, write):
    # YAML reads an unquoted 2027-01-01 as a date; a range stays text. `weekends` makes a day an
    # ordinary rest day, e.g. against an adjusted working day of the library.
    text = example_registry.read_text(encoding="utf-8") + (
        "\ncalendar:\n  holidays:\n    - 2027-01-01\n    - 2027-02-06..2027-02-12\n"
        "  workdays: [2027-02-14]\n  weekends: [2026-10-10]\n"
    )

    import_registry(sessions, write(text))

    assert stored(sessions) == {**STORED, date(2026, 10, 10): "weekend"}


def test_a_file_without_calendar_leaves_the_days_alone_and_a_given_one_replaces_them(sessions, example, write):
    import_registry(sessions, write({**example, "calendar": CALENDAR}))

    # Like a resident's `away:`: days entered through the API survive a routine import of a file
    # that does not speak of them.
    without = import_registry(sessions, write(example))
    assert "calendar_days" not in without.tables
    assert stored(sessions) == STORED

    moved = {"holidays": ["2027-01-01", "2027-02-14"], "workdays": ["2027-02-06"]}
    report = import_registry(sessions, write({**example, "calendar": moved}))
    assert counts(report) == {"updated": 2, "deleted": 6}
    assert stored(sessions) == {date(2027, 1, 1): "holiday", date(2027, 2, 14): "holiday", date(2027, 2, 6): "workday"}

    for empty in ({}, None, {"holidays": []}):  # an empty section (`calendar:` alone too) clears them
        import_registry(sessions, write({**example, "calendar": moved}))
        report = import_registry(sessions, write({**example, "calendar": empty}))
        assert counts(report) == {"deleted": 3}
        assert stored(sessions) == {}


def test_day_spans_round_trip():
    days = [date(2027, 2, 6) + timedelta(days=i) for i in range(7)] + [date(2027, 1, 1), date(2027, 2, 14)]
    assert day_spans(days) == ["2027-01-01", "2027-02-06..2027-02-12", "2027-02-14"]
    assert sorted(d for span in day_spans(days) for d in span_days(span)) == sorted(days)
    assert day_spans([]) == []
    assert span_days("2026-12-31..2027-01-01") == [date(2026, 12, 31), date(2027, 1, 1)]


HINT = "(a day like 2027-01-01, or a range like 2027-02-06..2027-02-12)"
MISTAKES = [
    ("not a day", {"holidays": ["2027-01-01", "next friday"]}, [f"calendar.holidays[1]: bad day 'next friday' {HINT}"]),
    ("no such day", {"holidays": ["2027-02-30"]}, ["calendar.holidays[0]: no such day '2027-02-30'"]),
    (
        "no such day in a range",
        {"workdays": ["2027-02-28..2027-02-29"]},
        ["calendar.workdays[0]: no such day '2027-02-29' in '2027-02-28..2027-02-29'"],
    ),
    (
        "reversed range",
        {"holidays": ["2027-02-12..2027-02-06"]},
        ["calendar.holidays[0]: range '2027-02-12..2027-02-06' ends before it starts"],
    ),
    (
        "a holiday and a workday at once",
        {"holidays": ["2027-01-01", "2027-02-06..2027-02-14"], "workdays": ["2027-02-14"]},
        [
            "calendar.workdays[0]: '2027-02-14' overlaps holidays[1] '2027-02-06..2027-02-14' "
            "(a day is a workday or a holiday, not both)"
        ],
    ),
    (
        "a workday and a rest day at once",
        {"workdays": ["2027-02-14"], "weekends": ["2027-02-13..2027-02-14"]},
        [
            "calendar.weekends[0]: '2027-02-13..2027-02-14' overlaps workdays[0] '2027-02-14' "
            "(a day is a weekend or a workday, not both)"
        ],
    ),
    (
        "a time, not a day",
        {"holidays": [datetime(2027, 1, 1, 8, 0)]},
        [f"calendar.holidays[0]: bad day '2027-01-01 08:00:00' {HINT}"],
    ),
    ("a number", {"holidays": [20270101]}, [f"calendar.holidays[0]: bad day '20270101' {HINT}"]),
    (
        "three dots",
        {"holidays": ["2027-01-01...2027-01-03"]},
        [f"calendar.holidays[0]: bad day '2027-01-01...2027-01-03' {HINT}"],
    ),
    (
        "range of years",
        {"holidays": ["2027-01-01..2028-12-31"]},
        ["calendar.holidays[0]: range '2027-01-01..2028-12-31' is 731 days long (at most 366)"],
    ),
    ("misspelt list", {"holiday": ["2027-01-01"]}, ["calendar.holiday: unknown field"]),
    ("a day where a list belongs", {"holidays": "2027-01-01"}, ["calendar.holidays: input should be a valid list"]),
    ("a list where the mapping belongs", ["2027-01-01"], ["calendar: expected a mapping, got a list"]),
]


@pytest.mark.parametrize("calendar, expected", [pytest.param(c, e, id=name) for name, c, e in MISTAKES])
def test_a_calendar_mistake_is_named_and_nothing_changes(sessions, example, write, calendar, expected):
    import_registry(sessions, write({**example, "calendar": CALENDAR}))

    with pytest.raises(RegistryError) as caught:
        import_registry(sessions, write({**example, "calendar": calendar}))

    assert caught.value.problems == expected
    assert stored(sessions) == STORED
