"""Heartbeat rows (core/heartbeat.py) and migration 0008 that holds them."""

from __future__ import annotations

from datetime import datetime, timezone

from alembic import command
from sqlalchemy import inspect, select

from core.db import alembic_config, make_engine, upgrade
from core.heartbeat import Heartbeat, instance_name
from core.schema import ProcessHeartbeat
from tests.support.dispatch import FakeClock

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=timezone.utc)


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def rows(sessions) -> list[ProcessHeartbeat]:
    with sessions() as s:
        return list(s.scalars(select(ProcessHeartbeat).order_by(ProcessHeartbeat.id)))


def test_a_beat_is_written_every_interval_and_a_clean_stop_is_marked(sessions):
    clock, ticks = FakeClock(T0), Ticks()
    beat = Heartbeat(sessions, "dispatcher", "host-a:8000", clock, every=5.0, clock=ticks, detail=lambda: {"passes": 3})
    beat.beat()
    (row,) = rows(sessions)
    assert (row.kind, row.name, row.started_at, row.beat_at, row.stopped_at) == (
        "dispatcher",
        "host-a:8000",
        T0,
        T0,
        None,
    )
    assert row.detail == {"passes": 3} and row.pid > 0

    clock.advance(seconds=3)
    ticks.t += 3
    beat.beat()  # not yet due: nothing written
    assert rows(sessions)[0].beat_at == T0
    clock.advance(seconds=3)
    ticks.t += 3
    beat.beat()
    assert rows(sessions)[0].beat_at == datetime(2026, 3, 2, 6, 0, 6, tzinfo=timezone.utc)

    clock.advance(seconds=1)
    beat.stopped()
    assert rows(sessions)[0].stopped_at == datetime(2026, 3, 2, 6, 0, 7, tzinfo=timezone.utc)


def test_a_restart_under_the_same_name_takes_the_row_over(sessions):
    clock = FakeClock(T0)
    first = Heartbeat(sessions, "gateway", "main", clock)
    first.beat()
    first.pid = first.pid + 1  # what a process killed and started again looks like: same name, new pid
    clock.advance(minutes=5)
    restarted = Heartbeat(sessions, "gateway", "main", clock)
    restarted.beat()
    (row,) = rows(sessions)
    assert row.pid == restarted.pid and row.started_at == row.beat_at == clock()

    first.stopped()  # the old process's late stop must not mark the new one stopped
    assert rows(sessions)[0].stopped_at is None


def test_a_beat_after_a_stop_clears_it_and_instances_are_kept_apart(sessions):
    clock = FakeClock(T0)
    a = Heartbeat(sessions, "dispatcher", "a", clock, every=0)
    b = Heartbeat(sessions, "dispatcher", "b", clock, every=0)
    a.beat(), b.beat()
    a.stopped()
    clock.advance(seconds=10)
    a.beat()
    assert [(r.name, r.stopped_at, r.beat_at) for r in rows(sessions)] == [("a", None, clock()), ("b", None, T0)]


def test_the_dispatcher_instance_is_host_and_port_unless_named():
    assert instance_name("dispatcher-2", 8000) == "dispatcher-2"
    assert instance_name(None, 8001).endswith(":8001")


def test_migration_0008_matches_the_schema_and_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)
    command.downgrade(cfg, "0007")
    engine = make_engine(db_url)
    try:
        assert "process_heartbeats" not in inspect(engine).get_table_names()
        upgrade(db_url)
        assert {"process_heartbeats", "watchdog_findings"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_gateway_beats_while_it_runs_and_marks_a_clean_stop(engine, sessions, mosquitto):
    import time

    from gateway.service import Gateway

    gw = Gateway(engine, mosquitto.url, "jinqiao", "beating", heartbeat_every=0.2)
    gw.start()
    try:
        assert gw.link.wait_connected(10)
        deadline = time.monotonic() + 10
        while not (found := [r for r in rows(sessions) if r.kind == "gateway"]) or not found[0].detail.get("connected"):
            assert time.monotonic() < deadline, "no gateway heartbeat row within 10 s"
            time.sleep(0.05)
        first = found[0].beat_at
        while rows(sessions)[0].beat_at == first:
            assert time.monotonic() < deadline, "the gateway's heartbeat did not advance"
            time.sleep(0.05)
    finally:
        gw.stop()
    (row,) = rows(sessions)
    assert (row.name, row.detail["pending"]) == ("beating", 0) and row.stopped_at is not None
