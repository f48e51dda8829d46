"""派人前往 over the API: who can be sent, sending them or yourself, and a clear 4xx for what is wrong."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.alerts import Actor
from tests.support.web import Served, bearer, make_users, open_alert, web_system


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions, ["viewer", "operator"])
    server = Served(app).start()
    with (
        httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http,
        httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as viewer,
    ):
        yield http, viewer, dispatcher
    server.stop()


def test_who_can_be_sent(api):
    http, viewer, dispatcher = api
    alert_id = open_alert(dispatcher)
    people = viewer.get(f"/api/v1/alerts/{alert_id}/dispatchable").json()
    building = [p for p in people if p["tier"] == "building"]
    assert [(p["id"], p["name"], p["role"], p["phone"]) for p in building] == [
        ("pm-li", "李建国", "楼道党员", "+8613900000001"),
        ("pm-zhao", "赵玉兰", "楼道党员", "+8613900000002"),
    ]
    assert ("med-wang", "调解员") in [(p["id"], p["role"]) for p in people]
    assert {p["tier"] for p in people} <= {"building", "mediator", "hotline"}
    assert len({p["id"] for p in people}) == len(people)
    code = http.get(f"/api/v1/alerts/{alert_id}").json()["code"]
    assert viewer.get(f"/api/v1/alerts/%23{code}/dispatchable").json() == people
    assert viewer.get("/api/v1/alerts/999999/dispatchable").status_code == 404


def test_send_a_volunteer_then_yourself_and_the_card_says_who_went(api):
    http, viewer, dispatcher = api
    alert_id = open_alert(dispatcher)
    r = http.post(f"/api/v1/alerts/{alert_id}/dispatch", json={"responder_id": "pm-li"})
    assert r.status_code == 200 and r.json() == {"changed": True, "state": "acknowledged", "dispatched_to": "李建国"}
    again = http.post(f"/api/v1/alerts/{alert_id}/dispatch", json={"responder_id": "pm-li"}).json()
    assert again == {"changed": False, "state": "acknowledged", "dispatched_to": "李建国"}
    one = http.get(f"/api/v1/alerts/{alert_id}").json()
    assert (one["acknowledged_by"], one["dispatched_to"]) == ("值班员 王芳", "李建国") and one["dispatched_at"]
    (entry,) = [e for e in one["timeline"] if e["what"] == "dispatched"]
    assert (entry["actor"], entry["channel"]) == ("值班员 王芳", "web")
    assert entry["detail"]["to"] == "李建国" and entry["detail"]["responder_id"] == "pm-li"
    asks = [n for n in one["notifications"] if n["recipient_name"] == "李建国" and n["purpose"] == "page"]
    # the first pages (never sent here: no dispatcher runs, and the ack skipped them), and the ask to go
    assert [(n["channel"], n["status"]) for n in asks] == [("sms", "skipped"), ("voice", "skipped"), ("sms", "queued")]
    me = http.post(f"/api/v1/alerts/{alert_id}/dispatch", json={"self": True}).json()
    assert me == {"changed": True, "state": "acknowledged", "dispatched_to": "王芳"}
    board = http.get("/api/v1/board").json()["open"]
    assert [a["dispatched_to"] for a in board if a["id"] == alert_id] == ["王芳"]


def test_bad_requests_are_told_what_is_wrong(api):
    http, viewer, dispatcher = api
    alert_id = open_alert(dispatcher)
    url = f"/api/v1/alerts/{alert_id}/dispatch"
    for body in ({}, {"self": False}, {"responder_id": "pm-li", "self": True}):
        r = http.post(url, json=body)
        assert r.status_code == 422 and "either responder_id" in str(r.json()["detail"]), body
    for body in ({"responder_id": ""}, {"responder_id": "x" * 65}, {"who": "pm-li"}, {"self": "maybe"}):
        assert http.post(url, json=body).status_code == 422, body
    r = http.post(url, json={"responder_id": "pm-sun"})  # another building's volunteer
    assert r.status_code == 422 and "cannot be sent to this alert" in r.json()["detail"]
    assert "/dispatchable" in r.json()["detail"]
    assert http.post(url, json={"responder_id": "nobody"}).status_code == 422
    assert http.get(f"/api/v1/alerts/{alert_id}").json()["state"] == "triggered"  # nothing changed
    assert http.post("/api/v1/alerts/999999/dispatch", json={"self": True}).status_code == 404
    assert viewer.post(url, json={"self": True}).status_code == 403
    dispatcher.alerts.resolve(alert_id, Actor("值班员", "web"), "false_alarm", "误按")
    r = http.post(url, json={"responder_id": "pm-li"})
    assert r.status_code == 409 and "resolved" in r.json()["detail"] and "不能再派人" in r.json()["detail"]
    assert http.get(f"/api/v1/alerts/{alert_id}").json()["dispatched_to"] is None
