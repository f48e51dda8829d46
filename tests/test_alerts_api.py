"""The alerts API: filters, search, paging, the board's order, one alert with its timeline,
and clear 4xx for what is wrong."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.alerts import Actor
from tests.support.web import Served, bearer, make_users, open_alert, refused_to, web_system


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions, ["operator"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        yield http, dispatcher
    server.stop()


def test_filters_search_and_paging(api):
    http, dispatcher = api
    zhang = open_alert(dispatcher, "r-zhang", "emergency")
    liu = open_alert(dispatcher, "r-liu", "wellness")
    dispatcher.alerts.resolve(zhang, Actor("值班员", "web"), "false_alarm", "误按")
    ids = lambda **q: [a["id"] for a in http.get("/api/v1/alerts", params=q).json()]  # noqa: E731
    assert ids() == [liu, zhang]  # newest first
    assert ids(state="open") == [liu] and ids(state="closed") == [zhang] and ids(state="resolved") == [zhang]
    assert ids(kind="emergency") == [zhang] and ids(kind="wellness") == [liu]
    assert ids(community="tianshui-wulin") == [liu, zhang] and ids(community="elsewhere") == []
    assert ids(q="刘") == [liu] and ids(q="r-zhang") == [zhang]
    assert ids(limit=1) == [liu] and ids(limit=1, offset=1) == [zhang]
    one = http.get("/api/v1/alerts", params={"q": "刘"}).json()[0]
    assert one["resident_name"] == "刘德明" and one["community_id"] == "tianshui-wulin" and one["tier"] == "building"
    for bad in ({"state": "burning"}, {"kind": "x"}, {"limit": 0}, {"limit": 5000}, {"offset": -1}):
        assert http.get("/api/v1/alerts", params=bad).status_code == 422, bad


def test_board_puts_emergencies_first_then_oldest(api):
    http, dispatcher = api
    wellness = open_alert(dispatcher, "r-liu", "wellness")
    emergency = open_alert(dispatcher, "r-zhang", "emergency")
    board = http.get("/api/v1/board").json()
    assert [a["id"] for a in board["open"]] == [emergency, wellness]
    assert board["tiers"] == ["building", "mediator", "hotline"]
    paged = {n["recipient_name"] for n in board["open"][0]["notifications"]}
    assert paged == {"李建国", "赵玉兰"}
    assert [a["id"] for a in http.get("/api/v1/board", params={"kind": "wellness"}).json()["open"]] == [wellness]


def test_the_board_marks_a_message_a_provider_would_not_take_and_who_carried_it(api):
    http, dispatcher = api
    alert_id = open_alert(dispatcher)
    refused = refused_to(dispatcher.alerts.sessions, alert_id, "李建国")
    nobody = refused_to(dispatcher.alerts.sessions, alert_id, "赵玉兰", then=None)
    [card] = http.get("/api/v1/board").json()["open"]
    marks = {n["id"]: n["refused"] for n in card["notifications"]}
    assert marks[refused] == [{"by": "aliyun", "then": "twilio", "limit": True}]
    assert marks[nobody] == [{"by": "aliyun", "then": None, "limit": True}]
    assert sum(1 for m in marks.values() if m) == 2  # the other pages carry no mark


def test_one_alert_ack_twice_and_unknown_ids(api):
    http, dispatcher = api
    alert_id = open_alert(dispatcher)
    assert http.post(f"/api/v1/alerts/{alert_id}/ack").json() == {
        "changed": True,
        "state": "acknowledged",
        "by": "值班员 王芳",
    }
    assert http.post(f"/api/v1/alerts/{alert_id}/ack").json()["changed"] is False
    detail = http.get(f"/api/v1/alerts/{alert_id}").json()
    assert [e["what"] for e in detail["timeline"]][:1] == ["opened"]
    assert ("acknowledged", "值班员 王芳", "web") in [(e["what"], e["actor"], e["channel"]) for e in detail["timeline"]]
    assert detail["notifications"]
    assert http.get("/api/v1/alerts/999999").status_code == 404
    assert http.post("/api/v1/alerts/999999/ack").status_code == 404
    assert http.get("/api/v1/alerts/99999999999999").status_code == 422
    assert http.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "went_fishing"}).status_code == 422
    assert (
        http.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "other", "note": "x" * 2001}).status_code
        == 422
    )


def test_closing_as_a_false_alarm_or_other_needs_a_note_and_the_card_says_who(api):
    http, dispatcher = api
    alert_id = open_alert(dispatcher)
    for outcome in ("false_alarm", "other"):
        r = http.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": outcome, "note": "  "})
        assert r.status_code == 422 and "a note is required for this outcome" in r.json()["detail"]
    assert http.get(f"/api/v1/alerts/{alert_id}").json()["state"] == "triggered"  # still open
    assert http.post(f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "false_alarm", "note": "误按"}).json()[
        "changed"
    ]
    one = http.get(f"/api/v1/alerts/{alert_id}").json()
    assert (one["state"], one["acknowledged_by"], one["resolved_by"]) == ("resolved", "值班员 王芳", "值班员 王芳")
    assert one["dispatched_to"] is None and one["dispatched_at"] is None


def test_device_and_wellness_alerts_show_their_own_kinds_tiers(api):
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import update

    from core.schema import Alert

    http, dispatcher = api
    device = open_alert(dispatcher, "r-zhang", "device")  # climbs the mediator only
    wellness = open_alert(dispatcher, "r-liu", "wellness")  # building, then mediator; never the hotline
    emergency = open_alert(dispatcher, "r-zhang", "emergency")
    shown = lambda: {a["id"]: (a["tier"], a["next_tier"]) for a in http.get("/api/v1/board").json()["open"]}  # noqa: E731
    assert shown() == {
        device: ("mediator", "mediator"),
        wellness: ("building", "mediator"),
        emergency: ("building", "mediator"),
    }
    with dispatcher.alerts.sessions.begin() as s:  # the building's time has run out for both
        s.execute(
            update(Alert)
            .where(Alert.id.in_((wellness, emergency)))
            .values(next_action_at=datetime.now(timezone.utc) - timedelta(seconds=1))
        )
    assert dispatcher.alerts.escalate_due() == 2
    assert shown() == {
        device: ("mediator", "mediator"),
        wellness: ("mediator", "mediator"),
        emergency: ("mediator", "hotline"),
    }
    one = http.get(f"/api/v1/alerts/{device}").json()
    assert (one["tier"], one["next_tier"]) == ("mediator", "mediator")
    assert [a["tier"] for a in http.get("/api/v1/alerts", params={"kind": "device"}).json()] == ["mediator"]
    http.post(f"/api/v1/alerts/{device}/ack")
    assert http.get(f"/api/v1/alerts/{device}").json()["next_tier"] is None  # nothing climbs while taken
