"""Supervision that costs what changes (issue 14): `devices.supervise_at` is moved by the gateway's own
writes, and the pass reads only the devices whose instant has come and the residents whose
check-in deadline just passed. The pass says how many rows it examined (PassResult), which is what
these tests count. SQLite and PostgreSQL; times are literal, Asia/Shanghai (the example registry).

r-zhang has pgr-0001 (heartbeat 10 min) and a check-in deadline of 10:00; r-liu has the Zigbee
button z2m-sos-liu (heartbeat 2 h).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from core.schema import Alert, Device, Resident
from devices.health import LOOK_NOW, supervise_at
from devices.protocol import Topics
from dispatcher.passes.supervision import Supervisor
from dispatcher.supervision import RECHECK_S, DeviceView, ResidentView, Rules, checkin_window, look_again_at
from gateway.ingest import Ingest
from gateway.mqtt_link import Inbound
from tests.support.dispatch import World

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=SH)
RULES = Rules(offline_grace_s=180, heartbeat_slack_s=30, battery_low=20)
T = Topics("jinqiao")


class NoLink:
    def publish(self, topic, payload, qos=1, retain=False, reply_to=None):
        pass

    def ack(self, message):
        pass


class Fleet(World):
    """The example registry, its messages stored by the real gateway writer on the world's clock."""

    def __init__(self, engine, sessions, registry):
        super().__init__(sessions, registry, T0, T0 - timedelta(days=30))
        self.residents_check_in = False
        self.supervisor = Supervisor(sessions, self.alerts, self.clock, RULES)
        self.ingest = Ingest(engine, T, NoLink(), now=self.clock)
        self._n = 0

    def send(self, device: str, kind: str = "heartbeat") -> None:
        self._n += 1
        payload = f'{{"id": "h{self._n}", "type": "{kind}"}}'.encode()
        self.ingest.process([Inbound(T.event(device), payload, False, 1, self._n, 0)])

    def status(self, device: str, status: str) -> None:
        self._n += 1
        self.ingest.process([Inbound(T.status(device), status.encode(), False, 1, self._n, 0)])

    def due(self, device: str) -> datetime | None:
        with self.sessions() as s:
            return s.scalar(select(Device.supervise_at).where(Device.id == device))

    def at(self, when: datetime):
        self.clock.t = when
        return self.supervisor.run()

    def device_alerts(self) -> list[tuple[str | None, str]]:
        with self.sessions() as s:
            return [(a.device_id, a.state) for a in s.scalars(select(Alert).where(Alert.kind == "device"))]


@pytest.fixture
def fleet(engine, sessions, example_registry) -> Fleet:
    return Fleet(engine, sessions, example_registry)


# --- the gateway's writes move it ------------------------------------------------------------------


def test_each_message_the_gateway_stores_moves_the_devices_due_time(fleet):
    assert fleet.due("pgr-0001") is None  # never heard from: nothing to watch
    fleet.send("pgr-0001")
    assert fleet.due("pgr-0001") == T0 + timedelta(minutes=10)  # its heartbeat interval, no rule added
    fleet.clock.advance(seconds=90)
    fleet.send("pgr-0001", "checkin")  # any message counts, not only heartbeats
    assert fleet.due("pgr-0001") == T0 + timedelta(seconds=90, minutes=10)


def test_an_offline_status_brings_the_due_time_forward_and_online_puts_it_back(fleet):
    fleet.send("z2m-sos-liu")
    assert fleet.due("z2m-sos-liu") == T0 + timedelta(hours=2)
    fleet.clock.advance(seconds=20)
    fleet.status("z2m-sos-liu", "offline")
    assert fleet.due("z2m-sos-liu") == T0 + timedelta(seconds=20)  # the grace is the pass's to add
    fleet.clock.advance(seconds=20)
    fleet.send("z2m-sos-liu")  # a message from a device said offline: still offline, still due
    assert fleet.due("z2m-sos-liu") == T0 + timedelta(seconds=20)
    fleet.status("z2m-sos-liu", "online")
    assert fleet.due("z2m-sos-liu") == T0 + timedelta(seconds=40, hours=2)


def test_the_pure_rule_and_the_gateways_sql_agree(fleet):
    with fleet.sessions.begin() as s:  # a sleeping Shelly button, offline between presses by design
        s.execute(update(Device).where(Device.id == "z2m-sos-liu").values(adapter="shelly", source="shelly-1"))
    fleet.status("z2m-sos-liu", "offline")
    fleet.send("z2m-sos-liu")
    assert fleet.due("z2m-sos-liu") == fleet.clock() + timedelta(hours=2)
    with fleet.sessions.begin() as s:  # no heartbeat interval, online: nothing due
        s.execute(update(Device).where(Device.id == "pgr-0001").values(heartbeat_s=None))
    fleet.send("pgr-0001")
    assert fleet.due("pgr-0001") is None


def test_supervise_at_table():
    seen = datetime(2026, 12, 1, tzinfo=UTC)
    off = seen + timedelta(seconds=5)
    assert supervise_at(600, seen, None, None, False) == seen + timedelta(minutes=10)
    assert supervise_at(600, seen, "offline", off, False) == off
    assert supervise_at(600, seen, "offline", off, True) == seen + timedelta(minutes=10)  # sleeps
    assert supervise_at(None, seen, "online", off, False) is None
    assert supervise_at(None, None, "offline", off, False) == off
    assert supervise_at(600, None, None, None, False) is None  # never heard from


# --- the pass reads only what is due ---------------------------------------------------------------


def test_a_healthy_fleet_costs_the_pass_no_device_reads_and_a_due_device_is_read_and_alerted(fleet):
    fleet.send("pgr-0001")
    fleet.send("z2m-sos-liu")
    assert fleet.at(T0 + timedelta(seconds=1)).devices_examined == 0
    assert fleet.at(T0 + timedelta(minutes=10, seconds=29)).devices_examined == 0  # the slack not yet over
    result = fleet.at(T0 + timedelta(minutes=10, seconds=31))
    assert (result.devices_examined, result.opened) == (1, 1)  # pgr-0001 alone; the 2 h button is not read
    assert fleet.device_alerts() == [("pgr-0001", "triggered")]
    assert fleet.at(T0 + timedelta(minutes=11)).devices_examined == 1  # read while its alert is open
    fleet.send("pgr-0001")  # back
    result = fleet.at(T0 + timedelta(minutes=11, seconds=1))
    assert (result.devices_examined, result.closed) == (1, 1)
    assert fleet.device_alerts() == [("pgr-0001", "resolved")]
    assert fleet.at(T0 + timedelta(minutes=12)).devices_examined == 0


def test_a_write_that_does_not_set_the_due_time_makes_the_next_pass_look(fleet):
    fleet.send("pgr-0001")
    assert fleet.at(T0 + timedelta(seconds=1)).devices_examined == 0
    with fleet.sessions.begin() as s:  # the registry shortens its heartbeat to a minute
        s.execute(update(Device).where(Device.id == "pgr-0001").values(heartbeat_s=60))
    assert fleet.due("pgr-0001") == LOOK_NOW
    assert fleet.at(T0 + timedelta(seconds=2)).devices_examined == 1
    assert fleet.due("pgr-0001") == T0 + timedelta(minutes=1)  # the pass stored the new instant
    assert fleet.at(T0 + timedelta(seconds=3)).devices_examined == 0
    assert fleet.at(T0 + timedelta(seconds=91)).opened == 1  # a minute and the slack


def test_a_device_held_back_by_an_away_period_is_read_again_when_it_ends_not_every_second(fleet):
    away_to = T0 + timedelta(hours=1)
    with fleet.sessions.begin() as s:
        s.execute(update(Resident).where(Resident.id == "r-zhang").values(away_from=T0, away_to=away_to))
    fleet.send("pgr-0001")
    assert fleet.at(T0 + timedelta(minutes=11)).devices_examined == 1  # due, in trouble, but away
    assert fleet.at(T0 + timedelta(minutes=11, seconds=1)).devices_examined == 0
    assert fleet.at(T0 + timedelta(minutes=11, seconds=RECHECK_S - 1)).devices_examined == 0
    assert fleet.at(T0 + timedelta(minutes=11, seconds=RECHECK_S)).devices_examined == 1  # once a minute
    assert fleet.at(away_to).opened == 1  # home again and still silent


# --- the check-in: only the residents whose deadline just passed -----------------------------------


def test_the_pass_reads_a_resident_only_when_the_deadline_passes(fleet):
    assert fleet.at(datetime(2026, 12, 1, 9, 0, tzinfo=SH)).residents_examined == 0  # first run: since midnight
    assert fleet.at(datetime(2026, 12, 1, 9, 59, 59, tzinfo=SH)).residents_examined == 0
    result = fleet.at(datetime(2026, 12, 1, 10, 0, tzinfo=SH))
    assert (result.residents_examined, result.opened) == (1, 1)  # r-zhang, her 10:00 deadline
    assert fleet.at(datetime(2026, 12, 1, 10, 0, 1, tzinfo=SH)).residents_examined == 0  # marked for today
    assert fleet.at(datetime(2026, 12, 1, 10, 1, tzinfo=SH)).residents_examined == 0


def test_checkin_window_table():
    now = datetime(2026, 12, 1, 10, 0, 30, tzinfo=SH)
    w = checkin_window("Asia/Shanghai", now, datetime(2026, 12, 1, 9, 58, 5, tzinfo=SH))
    assert (w.day.isoformat(), w.after, w.until) == ("2026-12-01", "09:58", "10:00")
    assert w.day_start == datetime(2026, 12, 1, 0, 0, tzinfo=SH)
    assert checkin_window("Asia/Shanghai", now, None).after is None  # a first run: from midnight
    assert checkin_window("Asia/Shanghai", now, now - timedelta(days=1)).after is None  # a new day
    assert checkin_window("Asia/Shanghai", now, now + timedelta(hours=1)).after is None  # the clock went back
    ny = ZoneInfo("America/New_York")  # 2026-11-01: the clocks go back at 02:00, the wall clock repeats
    fold = checkin_window("America/New_York", datetime(2026, 11, 1, 6, 10, tzinfo=UTC), None)  # 01:10 again
    assert (fold.after, fold.until) == (None, "02:10")  # the first 01:30 has passed: an hour's margin
    late = checkin_window("America/New_York", datetime(2026, 11, 2, 4, 30, tzinfo=UTC), None)  # 23:30 local
    assert (late.after, late.until) == (None, None)  # the margin runs past midnight: the whole day
    plain = checkin_window("America/New_York", datetime(2026, 11, 2, 15, 0, tzinfo=ny), None)
    assert plain.until == "15:00"


def test_look_again_at_table():
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    silent = DeviceView("d", "r", 600, now - timedelta(hours=1), None, None)
    home = ResidentView("r", "Asia/Shanghai", None, None, None, None)
    away = ResidentView("r", "Asia/Shanghai", None, now - timedelta(days=1), now + timedelta(seconds=10), None)
    away_long = ResidentView("r", "Asia/Shanghai", None, now - timedelta(days=1), None, None)
    assert look_again_at(silent, home, True, RULES, now) == now - timedelta(minutes=50)  # alerted: as it is
    # stored less the slack, which the pass's query takes off `now`: so read at the instant itself
    assert look_again_at(silent, away, False, RULES, now) == now + timedelta(seconds=10 - 30)  # the away ends
    assert look_again_at(silent, away_long, False, RULES, now) == now + timedelta(seconds=RECHECK_S - 30)
    assert look_again_at(silent, None, False, RULES, now) == now + timedelta(seconds=RECHECK_S - 30)  # nobody's
    well = DeviceView("d", "r", 600, now, None, None)
    assert look_again_at(well, home, False, RULES, now) == now + timedelta(minutes=10)


def test_a_device_taken_out_of_service_is_not_supervised_and_not_read_again(fleet):
    fleet.send("pgr-0001")
    with fleet.sessions.begin() as s:
        s.execute(update(Device).where(Device.id == "pgr-0001").values(active=False))
    assert fleet.due("pgr-0001") == LOOK_NOW
    assert fleet.at(T0 + timedelta(hours=1)).devices_examined == 0  # silent for an hour: no alert
    assert fleet.due("pgr-0001") is None and fleet.device_alerts() == []
