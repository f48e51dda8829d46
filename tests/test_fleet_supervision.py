"""A thousand simulated pagers on a real Mosquitto, the real gateway and the real dispatcher:
ten of them stop their heartbeats, and exactly those ten raise device alerts."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import func, select

from core.schema import Alert, Device
from core.settings import load_settings
from dispatcher.service import build_dispatcher
from gateway.service import Gateway
from simulators.fleet import Fleet, device_ids
from tests.support.fleet import register_fleet

pytestmark = pytest.mark.slow  # a thousand devices for two minutes: scripts/test.sh runs it once, on the real clock

COUNT, SILENT = 1000, 10
HEARTBEAT_S = 4  # each device's interval in the registry, and how often the fleet sends
SLACK_S = 6.0  # supervision's allowance on top of it: a silent device is alerted 10 s after its last word


@pytest.fixture
def registry(engine, sessions):
    return register_fleet(engine, sessions, device_ids("pgr-", COUNT), heartbeat_s=HEARTBEAT_S)


def device_alerts(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(Alert.device_id).where(Alert.kind == "device")))


def test_exactly_the_devices_that_fall_silent_raise_device_alerts(engine, db_url, mosquitto, registry):
    settings = load_settings(database_url=db_url, mqtt_url=mosquitto.url, heartbeat_slack=SLACK_S)
    dispatcher = build_dispatcher(settings, engine)
    gateway = Gateway(engine, mosquitto.url, "jinqiao", "fleet")
    gateway.ingest.on_stored = dispatcher.engine.wake
    gateway.start()
    assert gateway.link.wait_connected(10)
    dispatcher.engine.start()
    fleet = Fleet(
        mosquitto.url,
        COUNT,
        heartbeat=HEARTBEAT_S,
        stop_heartbeats=SILENT,
        duration=120,
        drain=2,
        connect_rate=1000,
        seed=5,
        progress=False,
    )
    summary: dict = {}
    runner = threading.Thread(target=lambda: summary.update(fleet.run()), daemon=True)
    try:
        runner.start()
        deadline = time.monotonic() + 90  # a bound for a loaded machine, not a performance goal
        while len(device_alerts(engine)) < SILENT and time.monotonic() < deadline:
            time.sleep(0.2)
        alerted_at = time.monotonic()
        # one more full supervision period: a healthy device that had been missed would show up now
        while time.monotonic() < alerted_at + HEARTBEAT_S + SLACK_S + 1:
            time.sleep(0.2)
        alerted = device_alerts(engine)
        with engine.connect() as conn:
            seen = conn.scalar(select(func.count()).select_from(Device).where(Device.last_seen_at.is_not(None)))
            reasons = set(conn.scalars(select(Alert.reason).where(Alert.kind == "device")))
            kinds = set(conn.scalars(select(Alert.kind)))
    finally:
        dispatcher.engine.stop()  # before the fleet's end silences everyone
        fleet.stop()
        runner.join(60)
        gateway.stop()
    assert len(fleet.silent_devices) == SILENT
    # a silent device may have two: on a loaded machine its connection can drop and come back, which
    # is a sign of life that closes its alert ("device … is back"), and its silence opens another
    assert sorted(set(alerted)) == fleet.silent_devices
    assert reasons == {"heartbeat_missed"} and kinds == {"device"}
    assert seen == COUNT  # every device was heard from, so every one was supervised
    assert (
        summary["ever_connected"] == COUNT and summary["sent"]["heartbeat"] > COUNT * 3
    )  # the healthy ones kept at it
    assert dispatcher.engine.runner.errors["supervision"] == 0
