"""Supervision and the daily check-in as scenarios on a controllable clock (SQLite and PostgreSQL).

Times are literal, in Asia/Shanghai (the example registry's community). r-zhang has pgr-0001
(heartbeat 10m) and a check-in deadline of 10:00; r-liu has the Zigbee button z2m-sos-liu (2h).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select, update

from core.schema import Alert, CheckinMiss, Device, Event, MaintenanceItem, Resident, TimelineEntry
from dispatcher.passes import passes
from dispatcher.passes.supervision import Supervisor
from dispatcher.supervision import Rules
from registry.store import import_registry
from registry.validation import read_yaml
from tests.support.concurrency import run_together
from tests.support.dispatch import World

SH = ZoneInfo("Asia/Shanghai")
RULES = Rules(offline_grace_s=180, heartbeat_slack_s=30, battery_low=20)


class Supervised(World):
    def __init__(self, sessions, registry, start, set_up_at: datetime | None = None):
        # unless a test says otherwise, the check-ins were set up long before the first day it looks at
        super().__init__(sessions, registry, start, set_up_at or start - timedelta(days=30))
        self.supervisor = Supervisor(sessions, self.alerts, self.clock, RULES)
        self.passes = passes(self.alerts, self.outbox, self.supervisor)  # the same list, with these rules
        self.residents_check_in = False  # check-ins are what these tests are about
        self._n = 0

    def at(self, when: datetime) -> None:
        self.clock.t = when
        self.run()

    def run(self):
        result = self.supervisor.run()
        self.tick()
        return result

    def event(self, device: str, type_: str, battery: int | None = None) -> None:
        """What the gateway does for an event: store it and mark the device seen."""
        self._n += 1
        with self.sessions.begin() as s:
            s.add(
                Event(
                    device_id=device,
                    event_id=f"sv{self._n}",
                    type=type_,
                    received_at=self.clock(),
                    battery=battery,
                    payload="{}",
                )
            )
            s.execute(update(Device).where(Device.id == device).values(last_seen_at=self.clock()))

    def presence(self, device: str, status: str) -> None:
        with self.sessions.begin() as s:
            s.execute(update(Device).where(Device.id == device).values(status=status, status_at=self.clock()))

    def away(self, resident: str, start: datetime | None, end: datetime | None) -> None:
        with self.sessions.begin() as s:
            s.execute(update(Resident).where(Resident.id == resident).values(away_from=start, away_to=end))

    def alerts_of(self, kind: str) -> list[Alert]:
        with self.sessions() as s:
            return list(s.scalars(select(Alert).where(Alert.kind == kind).order_by(Alert.id)))

    def items(self) -> list[MaintenanceItem]:
        with self.sessions() as s:
            return list(s.scalars(select(MaintenanceItem).order_by(MaintenanceItem.id)))

    def entries(self, alert_id: int) -> list[TimelineEntry]:
        with self.sessions() as s:
            return list(
                s.scalars(select(TimelineEntry).where(TimelineEntry.alert_id == alert_id).order_by(TimelineEntry.id))
            )


@pytest.fixture
def world(sessions, example_registry) -> Supervised:
    return Supervised(sessions, example_registry, datetime(2026, 12, 1, 8, 0, tzinfo=SH))


# --- heartbeats and presence ---------------------------------------------------------------------


def test_a_silent_device_raises_one_device_alert_to_the_mediator_and_its_return_closes_it(world):
    world.event("pgr-0001", "heartbeat")  # 08:00:00
    world.event("pgr-0001", "checkin")
    world.at(datetime(2026, 12, 1, 8, 10, 30, tzinfo=SH))  # interval + slack: not yet
    assert world.alerts_of("device") == []
    world.at(datetime(2026, 12, 1, 8, 10, 31, tzinfo=SH))
    [alert] = world.alerts_of("device")
    assert (alert.resident_id, alert.device_id, alert.reason, alert.state) == (
        "r-zhang",
        "pgr-0001",
        "heartbeat_missed",
        "triggered",
    )
    assert world.paged() == [("med-wang", "sms"), ("med-wang", "voice")]  # the mediator only
    world.at(datetime(2026, 12, 1, 8, 15, tzinfo=SH))
    world.at(datetime(2026, 12, 1, 9, 0, tzinfo=SH))  # hours pass: never the building, never the hotline
    assert {who for who, _ in world.paged()} == {"med-wang"}
    assert len(world.alerts_of("device")) == 1
    world.event("pgr-0001", "heartbeat")  # it is back
    world.run()
    [alert] = world.alerts_of("device")
    assert alert.state == "resolved" and alert.acknowledged_by == "system"
    [closed] = [e for e in world.entries(alert.id) if e.what == "resolved"]
    assert (closed.actor, closed.channel) == ("system", "system")
    assert "pgr-0001 is back" in closed.detail["note"]
    assert world.sms_to("med-wang", "notice")  # the mediator is told it is over


def test_offline_past_the_grace_period_raises_and_online_closes(world):
    world.event("z2m-sos-liu", "heartbeat")
    world.presence("z2m-sos-liu", "offline")
    world.at(datetime(2026, 12, 1, 8, 3, tzinfo=SH))  # exactly the grace period
    assert world.alerts_of("device") == []
    world.at(datetime(2026, 12, 1, 8, 3, 1, tzinfo=SH))
    [alert] = world.alerts_of("device")
    assert (alert.device_id, alert.reason, alert.resident_id) == ("z2m-sos-liu", "offline", "r-liu")
    world.run()
    assert len(world.alerts_of("device")) == 1  # a second run opens nothing more
    world.presence("z2m-sos-liu", "online")
    world.run()
    assert world.alerts_of("device")[0].state == "resolved"
    world.presence("z2m-sos-liu", "offline")  # and again later: a new alert
    world.at(datetime(2026, 12, 1, 8, 10, tzinfo=SH))
    assert [a.state for a in world.alerts_of("device")] == ["resolved", "triggered"]


def test_an_acknowledged_device_alert_is_closed_when_the_device_returns_but_a_resolved_one_is_left_alone(world):
    world.event("pgr-0001", "heartbeat")
    world.at(datetime(2026, 12, 1, 8, 20, tzinfo=SH))
    [alert] = world.alerts_of("device")
    world.sms_from("med-wang", "1")
    assert world.alert(alert.id).state == "acknowledged"
    world.event("pgr-0001", "heartbeat")
    world.run()
    assert world.alert(alert.id).state == "resolved"
    assert [e.what for e in world.entries(alert.id)].count("resolved") == 1
    world.run()
    assert [e.what for e in world.entries(alert.id)].count("resolved") == 1


def test_a_device_never_heard_from_is_not_supervised(world):
    world.at(datetime(2026, 12, 2, 8, 0, tzinfo=SH))
    assert world.alerts_of("device") == []


def test_away_suppresses_device_alerts_but_never_an_emergency(world):
    world.away("r-zhang", datetime(2026, 12, 1, 0, 0, tzinfo=SH), datetime(2026, 12, 3, 0, 0, tzinfo=SH))
    world.event("pgr-0001", "heartbeat")
    world.at(datetime(2026, 12, 1, 9, 0, tzinfo=SH))
    assert world.alerts_of("device") == []
    world.press("pgr-0001", "alarm")
    world.tick()
    assert [a.reason for a in world.alerts_of("emergency")] == ["alarm"]
    assert ("pm-li", "sms") in world.paged()
    world.at(datetime(2026, 12, 3, 0, 0, tzinfo=SH))  # home again, and still silent
    assert [a.reason for a in world.alerts_of("device")] == ["heartbeat_missed"]


# --- batteries ---------------------------------------------------------------------------------------


def test_a_low_battery_is_a_maintenance_item_not_an_alert(world):
    world.event("pgr-0001", "heartbeat", battery=80)
    world.run()
    assert world.items() == []
    world.event("pgr-0001", "heartbeat", battery=15)
    world.event("pgr-0001", "heartbeat", battery=14)
    world.run()
    world.run()
    [item] = world.items()
    assert (item.device_id, item.resident_id, item.reason, item.battery, item.closed_at) == (
        "pgr-0001",
        "r-zhang",
        "battery_low",
        15,
        None,
    )
    assert world.alerts_count() == 0 and world.paged() == []
    with world.sessions() as s:
        assert s.get(Device, "pgr-0001").battery == 14
    # an operator closes it (new batteries); the readings already seen never reopen it
    with world.sessions.begin() as s:
        s.get(MaintenanceItem, item.id).closed_at = world.clock()
    world.run()
    assert len(world.items()) == 1
    world.clock.advance(seconds=30)
    world.event("pgr-0001", "battery_low")  # the device's own warning, later
    world.run()
    assert [(i.reason, i.battery, i.closed_at is None) for i in world.items()] == [
        ("battery_low", 15, False),
        ("battery_low", None, True),
    ]


# --- the daily check-in --------------------------------------------------------------------------------


def test_a_missed_checkin_raises_one_wellness_alert_to_the_building(world):
    world.at(datetime(2026, 12, 1, 9, 59, 59, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 1, 10, 0, tzinfo=SH))
    [alert] = world.alerts_of("wellness")
    assert (alert.resident_id, alert.reason, alert.device_id) == ("r-zhang", "checkin_missed", None)
    assert world.paged() == [("pm-li", "sms"), ("pm-zhao", "sms"), ("pm-li", "voice"), ("pm-zhao", "voice")]
    world.at(datetime(2026, 12, 1, 10, 0, 30, tzinfo=SH))
    world.event("pgr-0001", "checkin")  # a late check-in does not open another
    world.at(datetime(2026, 12, 1, 23, 59, tzinfo=SH))
    assert len(world.alerts_of("wellness")) == 1
    world.at(datetime(2026, 12, 1, 10, 2, 1, tzinfo=SH) + timedelta(hours=1))
    assert {who for who, _ in world.paged()} <= {"pm-li", "pm-zhao", "med-wang"}  # never the hotline
    with world.sessions() as s:
        [miss] = s.scalars(select(CheckinMiss)).all()
    assert (miss.day, miss.alert_id) == ("2026-12-01", alert.id)
    assert miss.deadline_at == datetime(2026, 12, 1, 2, 0, tzinfo=ZoneInfo("UTC"))


def test_a_checkin_before_the_deadline_raises_nothing_and_the_next_day_starts_afresh(world):
    world.clock.t = datetime(2026, 12, 1, 9, 30, tzinfo=SH)
    world.event("pgr-0001", "checkin")
    world.at(datetime(2026, 12, 1, 10, 0, tzinfo=SH))
    world.at(datetime(2026, 12, 1, 18, 0, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 2, 0, 5, tzinfo=SH))  # a new day: yesterday's check-in counts no more
    world.event("pgr-0001", "checkin")
    world.at(datetime(2026, 12, 2, 10, 0, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 3, 10, 0, tzinfo=SH))  # and the day after, nothing came
    assert [a.opened_at for a in world.alerts_of("wellness")] == [datetime(2026, 12, 3, 10, 0, tzinfo=SH)]


def test_away_suppresses_the_checkin_and_is_recorded(world):
    world.away("r-zhang", datetime(2026, 11, 30, 12, 0, tzinfo=SH), datetime(2026, 12, 2, 12, 0, tzinfo=SH))
    world.at(datetime(2026, 12, 1, 10, 0, tzinfo=SH))
    world.at(datetime(2026, 12, 2, 10, 0, tzinfo=SH))  # still away at this deadline
    assert world.alerts_of("wellness") == []
    with world.sessions() as s:
        assert [(m.day, m.alert_id) for m in s.scalars(select(CheckinMiss).order_by(CheckinMiss.day))] == [
            ("2026-12-01", None),
            ("2026-12-02", None),
        ]
    world.at(datetime(2026, 12, 3, 10, 0, tzinfo=SH))  # back
    assert len(world.alerts_of("wellness")) == 1


def test_day_one_a_resident_imported_after_the_deadline_raises_no_false_alarm(sessions, example_registry):
    imported = datetime(2026, 12, 1, 13, 40, tzinfo=SH)  # r-zhang's deadline is 10:00
    world = Supervised(sessions, example_registry, imported, set_up_at=imported)
    world.run()
    world.at(datetime(2026, 12, 1, 13, 40, 1, tzinfo=SH))
    world.at(datetime(2026, 12, 1, 23, 59, tzinfo=SH))
    assert world.alerts_of("wellness") == [] and world.paged() == []
    world.at(datetime(2026, 12, 2, 9, 59, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 2, 10, 1, tzinfo=SH))  # the next day counts
    [alert] = world.alerts_of("wellness")
    assert alert.opened_at == datetime(2026, 12, 2, 10, 1, tzinfo=SH) and alert.reason == "checkin_missed"


def test_a_deadline_set_up_before_the_day_began_is_supervised_that_day(sessions, example_registry):
    world = Supervised(
        sessions,
        example_registry,
        datetime(2026, 12, 1, 8, 0, tzinfo=SH),
        set_up_at=datetime(2026, 11, 30, 23, 59, tzinfo=SH),
    )
    world.at(datetime(2026, 12, 1, 10, 1, tzinfo=SH))
    assert [a.reason for a in world.alerts_of("wellness")] == ["checkin_missed"]


def test_back_from_away_mid_day_that_day_raises_no_alert_the_next_does(world):
    world.away("r-zhang", datetime(2026, 11, 28, 0, 0, tzinfo=SH), datetime(2026, 12, 1, 9, 0, tzinfo=SH))
    world.at(datetime(2026, 12, 1, 10, 1, tzinfo=SH))  # home since 09:00, before the deadline
    world.at(datetime(2026, 12, 1, 18, 0, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 2, 10, 1, tzinfo=SH))
    assert [a.opened_at for a in world.alerts_of("wellness")] == [datetime(2026, 12, 2, 10, 1, tzinfo=SH)]


def test_an_away_period_ended_early_by_an_import_restarts_the_checkin_the_next_day(world, example_registry, tmp_path):
    world.away("r-zhang", datetime(2026, 11, 28, 0, 0, tzinfo=SH), None)  # away until further notice
    world.at(datetime(2026, 12, 1, 10, 1, tzinfo=SH))
    doc = read_yaml(example_registry.read_bytes())
    next(r for r in doc["residents"] if r["id"] == "r-zhang")["away"] = None  # back home at 14:00
    path = tmp_path / "back.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    import_registry(world.sessions, path, now=datetime(2026, 12, 1, 14, 0, tzinfo=SH))
    with world.sessions() as s:
        assert s.get(Resident, "r-zhang").away_to is None  # nothing left of the period itself
    world.at(datetime(2026, 12, 1, 14, 1, tzinfo=SH))
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 2, 10, 1, tzinfo=SH))
    assert len(world.alerts_of("wellness")) == 1


def test_changing_the_deadline_counts_from_the_next_day_and_a_repeat_import_keeps_the_date(
    sessions, example_registry, tmp_path
):
    world = Supervised(sessions, example_registry, datetime(2026, 12, 1, 8, 0, tzinfo=SH))
    doc = read_yaml(example_registry.read_bytes())
    next(r for r in doc["residents"] if r["id"] == "r-zhang")["checkin"] = {"deadline": "07:00"}
    path = tmp_path / "earlier.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    changed_at = datetime(2026, 12, 1, 8, 0, tzinfo=SH)
    import_registry(sessions, path, now=changed_at)
    assert import_registry(sessions, path, now=changed_at + timedelta(days=5)).changed == 0
    with sessions() as s:
        assert s.get(Resident, "r-zhang").checkin_since == changed_at
    world.at(datetime(2026, 12, 1, 8, 1, tzinfo=SH))  # 07:00 has passed today, but was not yet the rule
    assert world.alerts_of("wellness") == []
    world.at(datetime(2026, 12, 2, 7, 1, tzinfo=SH))
    assert len(world.alerts_of("wellness")) == 1


def test_two_supervisors_at_once_open_each_alert_once(world, sessions):
    world.event("pgr-0001", "heartbeat")
    world.clock.t = datetime(2026, 12, 1, 10, 30, tzinfo=SH)  # device silent and check-in missed
    others = [Supervisor(sessions, world.alerts, world.clock, RULES) for _ in range(4)]
    run_together(*(sup.run for sup in others), timeout=30)  # fails on any error a pass raised
    world.run()
    assert [a.reason for a in world.alerts_of("device")] == ["heartbeat_missed"]
    assert [a.reason for a in world.alerts_of("wellness")] == ["checkin_missed"]


def test_a_sleeping_shelly_button_is_judged_by_its_heartbeat_not_its_online_topic(world):
    with world.sessions.begin() as s:
        s.add(
            Device(
                id="sh-1",
                resident_id="r-liu",
                adapter="shelly",
                source="shellybutton1-A4CF12F45301",
                heartbeat_s=6 * 3600,
            )
        )
    world.event("sh-1", "heartbeat", battery=90)
    world.presence("sh-1", "offline")  # it went back to sleep
    world.at(datetime(2026, 12, 1, 13, 0, tzinfo=SH))
    assert world.alerts_of("device") == []
    world.at(datetime(2026, 12, 1, 14, 1, tzinfo=SH))  # six hours and a minute without a word
    assert [(a.device_id, a.reason) for a in world.alerts_of("device")] == [("sh-1", "heartbeat_missed")]
