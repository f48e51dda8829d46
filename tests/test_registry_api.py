"""The registry over the API: admins create, edit and deactivate with the import's own checks;
every refusal is a clear 4xx that changes nothing. The resident's card and device health."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

from core.db import transaction
from core.schema import Device, Resident, Responder
from tests.support.web import Served, bearer, make_users, web_system


@pytest.fixture
def admin(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["admin"]), timeout=10) as http:
        yield http, dispatcher.alerts.sessions
    server.stop()


def test_responder_create_edit_deactivate(admin):
    http, sessions = admin
    new = {"id": "pm-qian", "name": "钱明", "phone": "+8613900000007"}
    assert http.post("/api/v1/responders", json=new).status_code == 201
    assert http.get("/api/v1/responders/pm-qian").json() == {**new, "language": "zh-CN"}
    r = http.post("/api/v1/responders", json=new)
    assert r.status_code == 409 and "exists already" in r.json()["detail"]
    assert http.put("/api/v1/responders/pm-qian", json={**new, "name": "钱明明"}).status_code == 200
    assert http.get("/api/v1/responders/pm-qian").json()["name"] == "钱明明"
    assert http.delete("/api/v1/responders/pm-qian").status_code == 200
    assert http.get("/api/v1/responders/pm-qian").status_code == 404
    with sessions() as s:
        assert s.get(Responder, "pm-qian").active is False  # deactivated, never deleted
    assert http.post("/api/v1/responders", json=new).status_code == 201  # and back again
    with sessions() as s:
        assert s.get(Responder, "pm-qian").active is True


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"id": "x", "name": "X", "phone": "12345"}, "not an E.164 number"),
        ({"id": "x y", "name": "X", "phone": "+8613900000007"}, "bad id"),
        ({"id": "x", "name": "X", "phone": "+8613900000007", "hearbeat": 1}, "Extra inputs"),
        ({"id": "x", "phone": "+8613900000007"}, "required"),
    ],
)
def test_field_errors_are_422_naming_the_field(admin, body, problem):
    http, _ = admin
    r = http.post("/api/v1/responders", json=body)
    assert r.status_code == 422
    assert problem.lower() in r.text.lower()


def test_cross_checks_are_the_imports(admin):
    http, sessions = admin
    r = http.post("/api/v1/responders", json={"id": "dup", "name": "X", "phone": "+8613900000001"})
    assert r.status_code == 422 and r.json()["problems"] == [
        "responders[dup].phone: '+8613900000001' is already responder 'pm-li'"
    ]
    r = http.delete("/api/v1/responders/pm-li")  # still a party member of wulin-3
    assert r.status_code == 422 and any("unknown responder 'pm-li'" in p for p in r.json()["problems"])
    r = http.post("/api/v1/residents", json={"id": "r-new", "name": "新", "building": "nowhere"})
    assert r.status_code == 422 and "residents[r-new].building: unknown building 'nowhere'" in r.json()["problems"]
    r = http.put(
        "/api/v1/roster",
        json={
            "workday": [{"from": "08:00", "to": "20:00", "responder": "duty-chen"}],
            "weekend": [{"from": "00:00", "to": "24:00", "responder": "duty-he"}],
            "holiday": [{"from": "00:00", "to": "24:00", "responder": "duty-he"}],
        },
    )
    assert r.status_code == 422 and "hotline.workday: roster gap 20:00–08:00 (nobody on duty)" in r.json()["problems"]
    with sessions() as s:
        assert s.get(Responder, "pm-li").active


def test_path_and_body_ids_must_agree_and_unknown_ids_are_404(admin):
    http, _ = admin
    body = {"id": "pm-li", "name": "李", "phone": "+8613900000001"}
    assert http.put("/api/v1/responders/pm-zhao", json=body).status_code == 422
    assert http.put("/api/v1/responders/ghost", json={**body, "id": "ghost"}).status_code == 404
    assert http.delete("/api/v1/devices/ghost").status_code == 404
    assert http.get("/api/v1/residents/ghost").status_code == 404
    assert http.get("/api/v1/residents/bad%20id").status_code == 422


def test_buildings_communities_devices_residents_policy(admin):
    http, _ = admin
    assert (
        http.post("/api/v1/communities", json={"id": "c2", "name": "湖滨社区", "mediator": "med-wang"}).status_code
        == 201
    )
    assert (
        http.post(
            "/api/v1/buildings", json={"id": "hb-1", "name": "湖滨1幢", "community": "c2", "party_members": ["pm-sun"]}
        ).status_code
        == 201
    )
    assert {"id": "hb-1", "name": "湖滨1幢", "party_members": ["pm-sun"], "community": "c2"} in http.get(
        "/api/v1/buildings"
    ).json()
    r = http.post(
        "/api/v1/residents",
        json={
            "id": "r-hu",
            "name": "胡奶奶",
            "building": "hb-1",
            "address": "湖滨1幢101",
            "medical_notes": "高血压",
            "conditions": "高血压",
            "allergies": "头孢类",
            "mobility": "wheelchair",
            "hospital": "西湖区人民医院",
            "contacts": [{"name": "胡军", "phone": "+8613800000009", "notify": True}],
        },
    )
    assert r.status_code == 201, r.text
    hu = http.get("/api/v1/residents/r-hu").json()
    assert (hu["allergies"], hu["mobility"], hu["hospital"], hu["medicines"], hu["needs"]) == (
        "头孢类",
        "wheelchair",
        "西湖区人民医院",
        "",
        "",
    )
    listed = next(e for e in http.get("/api/v1/residents").json() if e["id"] == "r-hu")
    assert not {"conditions", "allergies", "mobility", "hospital"} & set(listed)  # the index: no health fields
    refused = http.put("/api/v1/residents/r-hu", json={**hu_entry(hu), "mobility": "拄拐"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "mobility"]
    assert http.post("/api/v1/devices", json={"id": "pgr-9", "resident": "r-hu", "heartbeat": "10m"}).status_code == 201
    assert http.get("/api/v1/devices/pgr-9").json()["heartbeat"] == "600s"
    assert http.put("/api/v1/communities/c2", json={"id": "c2", "name": "湖滨新社区"}).status_code == 200
    community = http.get("/api/v1/communities/c2").json()
    assert community["name"] == "湖滨新社区" and community["buildings"][0]["id"] == "hb-1"  # buildings kept
    r = http.delete("/api/v1/buildings/hb-1")  # r-hu lives there
    assert r.status_code == 422 and "residents[r-hu].building: unknown building 'hb-1'" in r.json()["problems"]
    r = http.put(
        "/api/v1/policy",
        json={"tiers": [{"tier": "building", "channels": ["sms"], "timeout": "3m"}], "ack_expiry": "12h"},
    )
    assert r.status_code == 200
    assert http.get("/api/v1/policy").json() == {
        "tiers": [{"tier": "building", "channels": ["sms"], "timeout": "180s"}],
        "ack_expiry": "43200s",
    }
    r = http.put("/api/v1/policy", json={"tiers": []})
    assert r.status_code == 422


def hu_entry(card: dict) -> dict:
    """The resident entry of a card (what a PUT takes back)."""
    keep = ("id", "name", "building", "address", "medical_notes", "conditions", "allergies", "contacts")
    return {k: card[k] for k in keep}


def test_resident_card_and_device_health(admin):
    http, sessions = admin
    now = datetime.now(timezone.utc)
    with transaction(sessions) as s:
        d = s.get(Device, "pgr-0001")
        d.status, d.last_seen_at, d.battery = "offline", now - timedelta(hours=2), 12
    card = http.get("/api/v1/residents/r-zhang").json()
    assert card["address"] and card["medical_notes"] and card["contacts"]
    assert [v["id"] for v in card["volunteers"]] == ["pm-li", "pm-zhao"]
    assert card["mediator"]["id"] == "med-wang" and card["community"] == "tianshui-wulin"
    pager = [d for d in card["devices"] if d["id"] == "pgr-0001"][0]
    assert pager["offline"] and pager["heartbeat_overdue"] and pager["battery_low"] and pager["battery"] == 12
    devices = {d["id"]: d for d in http.get("/api/v1/devices").json()}
    assert devices["pgr-0001"]["offline"] and not devices["z2m-sos-liu"]["battery_low"]
    with sessions() as s:
        assert s.get(Resident, "r-zhang").active


def test_a_new_checkin_deadline_set_through_the_api_counts_from_the_next_day(admin):
    http, sessions = admin
    before = datetime.now(timezone.utc)
    with sessions() as s:
        assert s.get(Resident, "r-liu").checkin_deadline is None
    liu = {"id": "r-liu", "name": "刘德明", "building": "wulin-5", "checkin": {"deadline": "09:00"}}
    r = http.put("/api/v1/residents/r-liu", json=liu)
    assert r.status_code == 200, r.text
    with sessions() as s:
        row = s.get(Resident, "r-liu")
        assert row.checkin_deadline == "09:00" and before <= row.checkin_since <= datetime.now(timezone.utc)
        since = row.checkin_since
    assert http.put("/api/v1/residents/r-liu", json={**liu, "address": "幸福里5幢1单元102"}).status_code == 200
    with sessions() as s:
        assert s.get(Resident, "r-liu").checkin_since == since  # unchanged deadline: unchanged date
