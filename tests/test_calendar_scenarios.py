"""Scenarios past the holiday library's last year (2026): the registry's calendar days decide who
is on hotline duty, and an import while the dispatcher runs takes effect without a restart."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from registry.store import import_registry
from registry.validation import read_yaml
from tests.support.dispatch import World

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = {"holidays": ["2027-01-01", "2027-02-06..2027-02-12"], "workdays": ["2027-02-14"]}


def cst(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI).astimezone(UTC)


@pytest.fixture
def registry(example_registry, tmp_path):
    """The example registry, with this `calendar:` section (None: without one)."""

    def _write(calendar, name="registry.yaml"):
        doc = read_yaml(example_registry.read_bytes())
        if calendar is not None:
            doc["calendar"] = calendar
        path = tmp_path / name
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
        return path

    return _write


def test_a_press_on_new_years_night_2027_reaches_the_holiday_duty(sessions, registry):
    # 22:00 on a Friday: on a plain workday night duty-he has the hotline, on a holiday duty-chen.
    world = World(sessions, registry(CALENDAR), cst(2027, 1, 1, 22, 0))
    world.press()
    world.tick()
    world.later(minutes=2)
    assert world.paged()[4:] == [("med-wang", "sms"), ("med-wang", "voice")]
    world.later(minutes=2)
    assert world.paged()[6:] == [("duty-chen", "sms"), ("duty-chen", "voice")]
    assert world.pages("duty-he") == []
    world.sms_from("duty-chen", "1")
    assert world.alert().state == "acknowledged" and world.alert().acknowledged_by == "陈静"


def test_an_adjusted_sunday_imported_while_the_alert_climbs_takes_the_workday_shift(sessions, registry):
    # Sunday 14 February 2027, 10:00: a weekend (duty-he) until the calendar says it is worked in lieu.
    world = World(sessions, registry(None), cst(2027, 2, 14, 10, 0))
    world.press()
    world.tick()
    world.later(minutes=2)
    world.later(minutes=2)
    assert world.paged()[6:] == [("duty-he", "sms"), ("duty-he", "voice")]

    import_registry(sessions, registry(CALENDAR, "with-calendar.yaml"))  # no restart
    world.later(minutes=2)  # the hotline's repeat, more than a minute after the days were last read

    assert world.paged()[8:] == [("duty-chen", "sms"), ("duty-chen", "voice")]
    assert world.alert().state == "triggered"
