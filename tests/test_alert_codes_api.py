"""Alerts are addressable by the code every SMS shows (`#8150`, `%238150` in a URL), as well as
by id; a bare number stays the id, so the board's links never name another alert."""

from __future__ import annotations

import httpx
import pytest

from core.db import transaction
from dispatcher.alerts import Actor, Alerts
from tests.support.web import Served, bearer, make_users, open_alert, utcnow, web_system


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions, ["operator"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        yield http, dispatcher
    server.stop()


def code_of(http, alert_id: int) -> str:
    return http.get(f"/api/v1/alerts/{alert_id}").json()["code"]


def test_ack_by_the_code_in_the_sms_takes_that_alert_and_no_other(api):
    http, dispatcher = api
    wellness = open_alert(dispatcher, "r-liu", "wellness")
    press = open_alert(dispatcher, "r-zhang", "emergency")
    code = code_of(http, press)
    assert http.get(f"/api/v1/alerts/%23{code}").json()["id"] == press
    r = http.post(f"/api/v1/alerts/%23{code}/ack")
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert http.get(f"/api/v1/alerts/{wellness}").json()["state"] == "triggered"
    resolved = http.post(f"/api/v1/alerts/%23{code}/resolve", json={"outcome": "helped_at_home", "note": ""})
    assert resolved.json()["state"] == "resolved"
    assert http.get(f"/api/v1/alerts/{press}").json()["state"] == "resolved"


def test_a_code_names_the_open_alert_even_when_a_closed_one_had_it(api):
    http, dispatcher = api
    fixed = Alerts(dispatcher.alerts.sessions, utcnow, codes=lambda digits: "8150")
    with transaction(fixed.sessions) as s:
        old = fixed.open_alert(s, resident_id="r-zhang", kind="emergency", reason="alarm", now=utcnow()).id
    fixed.resolve(old, Actor("值班员", "web"), "false_alarm", "误按")
    with transaction(fixed.sessions) as s:
        new = fixed.open_alert(s, resident_id="r-zhang", kind="emergency", reason="alarm", now=utcnow()).id
    assert http.get("/api/v1/alerts/%238150").json()["id"] == new
    fixed.resolve(new, Actor("值班员", "web"), "false_alarm", "误按")
    assert http.get("/api/v1/alerts/%238150").json()["id"] == new  # none open: the newest


def test_unknown_and_malformed_references(api):
    http, dispatcher = api
    alert_id = open_alert(dispatcher)
    assert http.get(f"/api/v1/alerts/{alert_id}").status_code == 200  # a bare number is the id
    assert http.get("/api/v1/alerts/%231234567").status_code in (200, 404)
    assert http.post("/api/v1/alerts/%2399999999/ack").status_code == 404
    for bad in ("%23", "%23abc", "12ab", "-1", "0", "2147483648", "%2312345678901"):
        assert http.get(f"/api/v1/alerts/{bad}").status_code == 422, bad
