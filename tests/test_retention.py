"""Retention of the events table (dispatcher/passes/retention.py): heartbeats older than the kept
days become one `device_days` row per device and day and are deleted, in short batches; presses,
events an alert names and unprocessed events are never pruned; a repeat counts nothing twice. On a
fake clock, so no verdict depends on today."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from core.db import transaction
from core.schema import Alert, Building, Community, DeviceDay, Event, Resident
from dispatcher.passes.retention import Retention, compacted
from tests.support.dispatch import FakeClock

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=20)


def event(n: int, type_: str, at: datetime, device: str = "pgr-1", battery: int | None = None, processed: bool = True):
    return Event(
        device_id=device,
        event_id=f"e{n}",
        type=type_,
        received_at=at,
        battery=battery,
        payload="{}",
        processed_at=at if processed else None,
    )


def test_heartbeats_compact_into_one_row_per_device_and_day():
    t = datetime(2026, 11, 1, 23, 0, tzinfo=timezone.utc)
    days = compacted(
        [("a", t, 80), ("a", t + timedelta(minutes=30), None), ("a", t + timedelta(hours=2), 70), ("b", t, None)]
    )
    assert days[("a", date(2026, 11, 1))] | {} == {
        "device_id": "a",
        "day": date(2026, 11, 1),
        "heartbeats": 2,
        "first_at": t,
        "last_at": t + timedelta(minutes=30),
        "battery_min": 80,
    }
    assert days[("a", date(2026, 11, 2))]["heartbeats"] == 1 and days[("b", date(2026, 11, 1))]["battery_min"] is None


def test_old_heartbeats_go_and_everything_else_stays(sessions):
    with transaction(sessions) as s:
        s.add(Community(id="c", name="社区"))
        s.flush()
        s.add(Building(id="b", community_id="c", name="1幢"))
        s.flush()
        s.add(Resident(id="r-x", name="张秀英", building_id="b"))
        s.flush()
        s.add_all(
            [event(i, "heartbeat", OLD + timedelta(minutes=i), battery=90 - i) for i in range(5)]
            + [
                event(10, "alarm", OLD),  # a press: kept for ever
                event(11, "heartbeat", OLD, processed=False),  # not yet read by the dispatcher
                event(12, "heartbeat", OLD, device="pgr-2"),  # named by an alert below
                event(13, "heartbeat", NOW - timedelta(days=3)),  # recent
            ]
        )
        s.add(
            Alert(code="1234", resident_id="r-x", device_id="pgr-2", kind="device", reason="offline", state="resolved",
                  opened_at=OLD, updated_at=OLD, source_event_id="e12")
        )  # fmt: skip
    retention = Retention(sessions, FakeClock(NOW), keep_days=14, batch=2)
    runs = [retention.run() for _ in range(4)]
    assert runs == [True, True, False, False]  # 2 + 2 + 1 rows, then idle until RUN_EVERY has passed
    with sessions() as s:
        left = sorted(s.scalars(select(Event.event_id)))
        (day,) = s.scalars(select(DeviceDay)).all()
    assert left == ["e10", "e11", "e12", "e13"]
    assert (day.device_id, day.day, day.heartbeats, day.battery_min) == ("pgr-1", OLD.date(), 5, 86)
    assert (day.first_at, day.last_at) == (OLD, OLD + timedelta(minutes=4))


def test_a_later_run_adds_to_the_days_row_and_zero_keeps_everything(sessions):
    clock = FakeClock(NOW)
    with transaction(sessions) as s:
        s.add_all([event(1, "heartbeat", OLD, battery=60), event(2, "heartbeat", OLD + timedelta(hours=1))])
    Retention(sessions, clock, keep_days=14).run()
    with transaction(sessions) as s:  # a heartbeat of the same day that arrived late, stored since
        s.add(event(3, "heartbeat", OLD - timedelta(hours=1), battery=40))
    assert Retention(sessions, clock, keep_days=0).run() is False  # 0: keep for ever
    with sessions() as s:
        assert len(s.scalars(select(Event)).all()) == 1
    Retention(sessions, clock, keep_days=14).run()
    with sessions() as s:
        (day,) = s.scalars(select(DeviceDay)).all()
        assert s.scalars(select(Event)).all() == []
    assert (day.heartbeats, day.battery_min, day.first_at, day.last_at) == (
        3,
        40,
        OLD - timedelta(hours=1),
        OLD + timedelta(hours=1),
    )


def test_the_dispatcher_runs_it_with_the_kept_days_of_its_settings(engine, db_url):
    from core.settings import load_settings
    from dispatcher.service import build_dispatcher

    dispatcher = build_dispatcher(load_settings(database_url=db_url, events_keep_days=3), engine)
    (retention,) = [p for p in dispatcher.engine.passes if p.name == "retention"]
    assert retention.run.__self__.keep_days == 3  # type: ignore[attr-defined]
