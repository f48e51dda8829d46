"""The pager simulator acting as Zigbee2MQTT, Shelly and Tasmota buttons, through the real gateway."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from core.schema import Device, Event
from gateway.service import Gateway
from simulators.buttons import CommodityButton

ROOT = Path(__file__).resolve().parents[1]
PAGER = ROOT / "simulators" / "pager.py"


@pytest.fixture
def gateway(engine, sessions, mosquitto):
    with sessions.begin() as s:
        s.add_all(
            [
                Device(id="z-1", adapter="zigbee2mqtt", source="sos-liu"),
                Device(id="sh-1", adapter="shelly", source="shellybutton1-A4CF12F45301"),
                Device(id="ta-1", adapter="tasmota", source="tasmota_5A1B2C"),
            ]
        )
    gw = Gateway(engine, mosquitto.url, "jinqiao", "buttons")
    gw.start()
    assert gw.link.wait_connected(10)
    yield gw
    gw.stop()


def stored(engine, n: int, timeout: float = 10.0) -> list[tuple[str, str, int | None]]:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            rows = [(r.device_id, r.type, r.battery) for r in conn.execute(select(Event).order_by(Event.id))]
        if len(rows) >= n or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def status_of(engine, device: str, want: str, timeout: float = 10.0) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            status = conn.scalar(select(Device.status).where(Device.id == device))
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.05)


@pytest.mark.parametrize(
    "kind,source,device",
    [
        ("zigbee2mqtt", "sos-liu", "z-1"),
        ("shelly", "shellybutton1-A4CF12F45301", "sh-1"),
        ("tasmota", "tasmota_5A1B2C", "ta-1"),
    ],
)
def test_each_simulated_button_is_understood(gateway, engine, mosquitto, kind, source, device):
    with CommodityButton("127.0.0.1", mosquitto.port, kind, source, user=device, password=None) as button:
        assert status_of(engine, device, "online") == "online"
        assert button.send("press") and button.send("checkin") and button.send("cancel")
        assert button.send("battery-low")
        # Zigbee2MQTT clears the action after each one: a state report, stored once (a heartbeat)
        expected = (
            ["alarm", "heartbeat", "checkin", "cancel", "heartbeat"]
            if kind == "zigbee2mqtt"
            else ["alarm", "checkin", "cancel", "heartbeat"]
        )
        rows = stored(engine, len(expected))
        assert [t for _, t, _ in rows] == expected
        assert {d for d, _, _ in rows} == {device}
        if kind != "tasmota":  # Tasmota's telemetry carries no battery level
            assert rows[-1][2] == 10
        button.go_offline()
    assert status_of(engine, device, "offline") == "offline"  # the will, as the project sets it


def test_the_script_acts_as_a_button_over_mqtt5_by_default(gateway, engine, mosquitto):
    def run(*args):
        return subprocess.run(
            [sys.executable, str(PAGER), "--url", mosquitto.url, *args],
            capture_output=True,
            text=True,
            timeout=30,
            cwd=ROOT,
        )

    done = run("--as", "zigbee2mqtt", "--source", "sos-liu", "--device", "z-1", "--action", "emergency", "press")
    assert done.returncode == 0, done.stderr
    assert "no feedback" in done.stdout
    assert run("--as", "shelly", "--source", "shellybutton1-A4CF12F45301", "--device", "sh-1", "press").returncode == 0
    assert run("--as", "tasmota", "--source", "tasmota_5A1B2C", "--device", "ta-1", "heartbeat").returncode == 0
    assert [(d, t) for d, t, _ in stored(engine, 4)] == [
        ("z-1", "alarm"),
        ("z-1", "heartbeat"),
        ("sh-1", "alarm"),
        ("ta-1", "heartbeat"),
    ]
    assert run("--as", "shelly", "--device", "sh-1", "press").returncode == 1  # no --source
    assert run("--as", "tasmota", "--source", "t", "--device", "t", "fall").returncode == 1  # not a thing it can do
    log = (mosquitto.workdir / "mosquitto.log").read_text()
    assert "as shellybutton1-A4CF12F45301 (p5" in log  # MQTT 5 unless told otherwise
