"""The supervision API: device health, a resident's check-in and devices, the maintenance list."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core.schema import Device, Event, Resident
from dispatcher.alerts import Alerts
from dispatcher.passes.supervision import Supervisor
from dispatcher.supervision import Rules
from registry.store import import_registry
from tests.support.dispatch import FakeClock
from tests.support.web import bearer, make_users
from web.app import Readiness
from web.board import web_app
from web.deps import Web

SH = ZoneInfo("Asia/Shanghai")
RULES = Rules(offline_grace_s=180, heartbeat_slack_s=30, battery_low=20)


@pytest.fixture
def setup(sessions, engine, example_registry):
    import_registry(sessions, example_registry)
    clock = FakeClock(datetime(2026, 12, 1, 9, 0, tzinfo=SH))
    alerts = Alerts(sessions, clock)
    supervisor = Supervisor(sessions, alerts, clock, RULES)
    app = web_app(Readiness(engine), Web.of(sessions, alerts, now=clock, secure_cookies=False, supervision=RULES))
    tokens = make_users(sessions)
    client = TestClient(app, headers=bearer(tokens["operator"]))
    client.tokens = tokens  # type: ignore[attr-defined]
    return client, clock, supervisor


def test_device_health_shows_what_is_wrong_and_which_buttons_cannot_show_feedback(setup, sessions):
    client, clock, supervisor = setup
    with sessions.begin() as s:
        s.add(
            Event(device_id="pgr-0001", event_id="b1", type="heartbeat", battery=12, received_at=clock(), payload="{}")
        )
        s.execute(update(Device).where(Device.id == "pgr-0001").values(last_seen_at=clock()))
        s.execute(
            update(Device)
            .where(Device.id == "z2m-sos-liu")
            .values(status="offline", status_at=clock(), last_seen_at=clock())
        )
    clock.advance(minutes=11)
    supervisor.run()
    rows = {d["id"]: d for d in client.get("/api/v1/supervision/devices").json()}
    pager, zigbee = rows["pgr-0001"], rows["z2m-sos-liu"]
    assert (pager["can_show_feedback"], pager["heartbeat_overdue"], pager["battery_low"], pager["battery"]) == (
        True,
        True,
        True,
        12,
    )
    assert pager["open_alert_id"] is not None and not pager["offline"]
    assert (zigbee["adapter"], zigbee["can_show_feedback"], zigbee["offline"], zigbee["heartbeat_overdue"]) == (
        "zigbee2mqtt",
        False,
        True,
        False,
    )
    assert len(client.get("/api/v1/supervision/devices", params={"problems": True}).json()) == 2


def test_each_device_has_one_word_that_does_not_mislead_with_its_residents_name(setup, sessions):
    client, clock, supervisor = setup

    def words() -> dict[str, tuple]:
        rows = client.get("/api/v1/supervision/devices").json()
        return {
            d["id"]: (d["resident_name"], d["condition"], d["condition_since"], d["offline_since"], d["silent_since"])
            for d in rows
        }

    # neither device has said anything yet: never seen, not 正常
    assert words() == {
        "pgr-0001": ("张秀英", "never_seen", None, None, None),
        "z2m-sos-liu": ("刘德明", "never_seen", None, None, None),
    }
    seen = clock()
    with sessions.begin() as s:
        s.execute(update(Device).where(Device.id == "pgr-0001").values(last_seen_at=seen, battery=90))
        s.execute(
            update(Device).where(Device.id == "z2m-sos-liu").values(status="offline", status_at=seen, last_seen_at=seen)
        )
    got = words()
    assert got["pgr-0001"][1:3] == ("online", None)
    assert got["z2m-sos-liu"][1] == "offline"  # at once, as it said, before the alert's grace period
    assert datetime.fromisoformat(got["z2m-sos-liu"][3]) == seen == datetime.fromisoformat(got["z2m-sos-liu"][2])

    # a low-battery item stays low battery until someone closes it, whatever the battery says now
    with sessions.begin() as s:
        s.add(Event(device_id="pgr-0001", event_id="lb", type="battery_low", received_at=clock(), payload="{}"))
    supervisor.run()
    [pager] = [d for d in client.get("/api/v1/supervision/devices").json() if d["id"] == "pgr-0001"]
    assert (pager["condition"], pager["battery_low"], pager["maintenance_open"], pager["battery"]) == (
        "low_battery",
        True,
        True,
        90,
    )
    registry_view = {d["id"]: d for d in client.get("/api/v1/devices").json()}  # the registry's view says the same
    assert registry_view["pgr-0001"]["condition"] == "low_battery" and registry_view["pgr-0001"]["maintenance_open"]
    card = client.get("/api/v1/residents/r-zhang").json()
    assert [d["condition"] for d in card["devices"]] == ["low_battery"]
    [item] = client.get("/api/v1/supervision/maintenance").json()
    client.post(f"/api/v1/supervision/maintenance/{item['id']}/close", json={})
    assert words()["pgr-0001"][1] == "online"

    clock.advance(minutes=11)  # past its 10-minute heartbeat and the slack: silent since its last message
    got = words()
    assert got["pgr-0001"][1] == "silent"
    assert datetime.fromisoformat(got["pgr-0001"][4]) == seen == datetime.fromisoformat(got["pgr-0001"][2])
    assert client.get("/api/v1/devices/pgr-0001").json()["condition"] == "silent"


def test_a_residents_supervision_view(setup, sessions):
    client, clock, supervisor = setup
    with sessions.begin() as s:
        s.add(Event(device_id="pgr-0001", event_id="c1", type="checkin", received_at=clock(), payload="{}"))
        s.execute(
            update(Resident)
            .where(Resident.id == "r-liu")
            .values(away_from=clock() - timedelta(days=1), away_to=clock() + timedelta(days=1))
        )
    supervisor.run()
    zhang = client.get("/api/v1/supervision/residents/r-zhang").json()
    assert (zhang["checkin_deadline"], zhang["can_show_feedback"], zhang["away_now"]) == ("10:00", True, False)
    assert datetime.fromisoformat(zhang["last_checkin_at"]) == clock()
    liu = client.get("/api/v1/supervision/residents/r-liu").json()
    assert (liu["can_show_feedback"], liu["away_now"], [d["id"] for d in liu["devices"]]) == (
        False,
        True,
        ["z2m-sos-liu"],
    )  # the board must say a Zigbee button shows nothing to her
    assert client.get("/api/v1/supervision/residents/nobody").status_code == 404


def test_maintenance_items_are_listed_and_closed_once_by_an_operator_under_their_name(setup, sessions):
    client, clock, supervisor = setup
    with sessions.begin() as s:
        s.add(Event(device_id="pgr-0001", event_id="lb", type="battery_low", received_at=clock(), payload="{}"))
    supervisor.run()
    [item] = client.get("/api/v1/supervision/maintenance").json()
    assert (item["device_id"], item["resident_id"], item["resident_name"], item["reason"]) == (
        "pgr-0001",
        "r-zhang",
        "张秀英",
        "battery_low",
    )
    done = client.post(f"/api/v1/supervision/maintenance/{item['id']}/close", json={"note": "换了电池"})
    assert done.json()["changed"] is True and done.json()["closed_by"] == "operator"  # the signed-in account
    admin = {"Authorization": f"Bearer {client.tokens['admin']}"}
    again = client.post(f"/api/v1/supervision/maintenance/{item['id']}/close", json={}, headers=admin)
    assert again.json() == {**done.json(), "changed": False}
    assert client.get("/api/v1/supervision/maintenance").json() == []
    [closed] = client.get("/api/v1/supervision/maintenance", params={"state": "closed"}).json()
    assert closed["note"] == "换了电池"
    assert client.post("/api/v1/supervision/maintenance/999/close", json={}).status_code == 404
    assert client.post(f"/api/v1/supervision/maintenance/{item['id']}/close", json={"note": 5}).status_code == 422
    assert client.get("/api/v1/supervision/maintenance", params={"state": "weird"}).status_code == 422


def test_a_viewer_reads_but_may_not_close_and_nobody_reads_without_signing_in(setup, sessions):
    client, clock, supervisor = setup
    with sessions.begin() as s:
        s.add(Event(device_id="pgr-0001", event_id="lb", type="battery_low", received_at=clock(), payload="{}"))
    supervisor.run()
    viewer = {"Authorization": f"Bearer {client.tokens['viewer']}"}
    [item] = client.get("/api/v1/supervision/maintenance", headers=viewer).json()
    assert (
        client.post(f"/api/v1/supervision/maintenance/{item['id']}/close", json={}, headers=viewer).status_code == 403
    )
    anonymous = TestClient(client.app)
    assert anonymous.get("/api/v1/supervision/devices").status_code == 401


def test_an_id_past_the_columns_range_is_refused_not_a_crash(setup):
    client, *_ = setup
    assert (
        client.post("/api/v1/supervision/maintenance/81222999298150874482258022628327424/close", json={}).status_code
        == 422
    )
    assert client.post("/api/v1/supervision/maintenance/0/close", json={}).status_code == 422
    assert client.get("/api/v1/supervision/residents/" + "x" * 65).status_code == 422
