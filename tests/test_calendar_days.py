"""The dispatcher reads the stored calendar days as overrides of China's calendar: at most once a
minute of the clock it is given, so an import takes effect within a minute without a restart."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import event
from structlog.testing import capture_logs

from dispatcher.recipients import Recipients, load_place
from registry.calendar_days import StoredCalendar
from registry.store import import_registry
from registry.validation import read_yaml

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YEAR_NIGHT = datetime(2027, 1, 1, 22, 0, tzinfo=SHANGHAI).astimezone(UTC)  # a Friday


@pytest.fixture
def example(example_registry):
    return read_yaml(example_registry.read_bytes())


@pytest.fixture
def load(sessions, example, tmp_path):
    """Import the example registry with this `calendar:` section (None: without the section)."""

    def _load(calendar):
        doc = dict(example) if calendar is None else {**example, "calendar": calendar}
        path = tmp_path / "registry.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        import_registry(sessions, path)

    return _load


@pytest.fixture
def calendar_queries(engine):
    """The SQL statements that read calendar_days, as the database driver sees them."""
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        if "calendar_days" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_the_days_are_read_once_a_minute_and_an_import_shows_within_it(sessions, load, calendar_queries):
    load({"holidays": ["2027-01-01"]})
    calendar_queries.clear()  # the import's own
    calendar = StoredCalendar()
    t0 = datetime(2026, 12, 31, 16, 0, tzinfo=UTC)

    with sessions() as s, capture_logs() as logs:
        calendar.refresh(s, t0)
        assert calendar.day_kind(date(2027, 1, 1)) == "holiday"
        for seconds in (1, 30, 59):
            calendar.refresh(s, t0 + timedelta(seconds=seconds))
    assert len(calendar_queries) == 1  # one read for the whole minute, however many lookups
    assert [log["event"] for log in logs] == ["roster.calendar_days_loaded"]
    assert (logs[0]["days"], logs[0]["years"]) == (1, [2027])

    load({"holidays": ["2027-01-01..2027-01-03"], "workdays": ["2027-02-14"]})  # while the dispatcher runs
    calendar_queries.clear()
    with sessions() as s:
        calendar.refresh(s, t0 + timedelta(seconds=59, microseconds=999999))
        assert calendar.day_kind(date(2027, 1, 2)) == "weekend"  # the old copy, for under a minute
        calendar.refresh(s, t0 + timedelta(seconds=60))
        assert calendar.day_kind(date(2027, 1, 2)) == "holiday"
        assert calendar.day_kind(date(2027, 2, 14)) == "workday"
    assert len(calendar_queries) == 1

    load({})  # the section emptied: back to the library and the weekday fallback
    calendar_queries.clear()
    with sessions() as s:
        calendar.refresh(s, t0 + timedelta(seconds=60) - timedelta(minutes=5))  # a clock set back reads at once
        assert calendar.day_kind(date(2027, 1, 1)) == "workday"
    assert len(calendar_queries) == 1


def test_an_override_wins_inside_the_librarys_years_too(sessions, load):
    load({"workdays": ["2026-10-01"], "weekends": ["2026-10-10"]})  # National Day; a Saturday worked in lieu
    calendar = StoredCalendar()
    with sessions() as s:
        calendar.refresh(s, datetime(2026, 9, 1, tzinfo=UTC))
    assert calendar.covers(date(2026, 10, 1))
    assert calendar.day_kind(date(2026, 10, 1)) == "workday"
    assert calendar.day_kind(date(2026, 10, 10)) == "weekend"
    assert calendar.day_kind(date(2026, 10, 2)) == "holiday"  # not overridden: the library's


def test_recipients_page_the_holiday_duty_on_a_stored_2027_holiday(sessions, load):
    recipients = Recipients()  # what Alerts builds by default
    load(None)
    with sessions() as s:
        place = load_place(s, "r-zhang")
        assert [p.responder_id for p in recipients.tier(s, "hotline", place, NEW_YEAR_NIGHT)] == ["duty-he"]
    load({"holidays": ["2027-01-01"]})
    with sessions() as s:
        later = NEW_YEAR_NIGHT + timedelta(minutes=1)
        assert [p.responder_id for p in recipients.tier(s, "hotline", place, later)] == ["duty-chen"]


def test_a_calendar_passed_in_is_used_as_it_is(sessions, load):
    class AlwaysHoliday:
        def day_kind(self, day: date) -> str:
            return "holiday"

    load({"workdays": ["2027-01-01"]})
    with sessions() as s:
        place = load_place(s, "r-zhang")
        people = Recipients(AlwaysHoliday()).tier(s, "hotline", place, NEW_YEAR_NIGHT)
    assert [p.responder_id for p in people] == ["duty-chen"]
