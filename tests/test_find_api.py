"""Finding alerts: by the code in the SMS (`/alerts/by-code/8150`), and the history by day range
(Beijing days, literal instants around midnight), outcome and kind, with its count; clear 422s."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from core.db import transaction
from core.schema import Building, Community, Resident
from dispatcher.alerts import Actor, Alerts
from tests.support.web import Served, bearer, make_users, web_system

OPERATOR = Actor("值班员", "web")


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions, ["viewer"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        yield http, dispatcher
    server.stop()


def opened(dispatcher, at: datetime, code: str, resident: str = "r-zhang", kind: str = "emergency") -> int:
    """An alert opened at the literal instant `at` with the code `code`."""
    shell = Alerts(dispatcher.alerts.sessions, lambda: at, codes=lambda digits: code)
    with transaction(shell.sessions) as s:
        return shell.open_alert(s, resident_id=resident, kind=kind, reason="alarm", now=at).id


def closed(dispatcher, alert_id: int, outcome: str, note: str = "查明") -> None:
    dispatcher.alerts.resolve(alert_id, OPERATOR, outcome, note)


def test_by_code_gives_the_alert_as_its_id_does_the_open_one_else_the_newest(api):
    http, dispatcher = api
    old = opened(dispatcher, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "8150")
    closed(dispatcher, old, "false_alarm")
    assert http.get("/api/v1/alerts/by-code/8150").json()["id"] == old
    newer = opened(dispatcher, datetime(2026, 12, 1, 2, 0, tzinfo=UTC), "8150", "r-liu")
    closed(dispatcher, newer, "helped_at_home")
    assert http.get("/api/v1/alerts/by-code/8150").json()["id"] == newer  # none open: the newest
    now_open = opened(dispatcher, datetime(2026, 11, 1, 2, 0, tzinfo=UTC), "8150")  # an older instant, open
    body = http.get("/api/v1/alerts/by-code/%238150").json()  # as printed, with its #
    assert body["id"] == now_open and body["code"] == "8150"
    assert body == http.get(f"/api/v1/alerts/{now_open}").json()  # the same detail, timeline and all
    assert [e["what"] for e in body["timeline"]][:1] == ["opened"]


def test_by_code_not_found_and_malformed_codes(api):
    http, _ = api
    r = http.get("/api/v1/alerts/by-code/8150")
    assert r.status_code == 404 and r.json()["detail"] == "no alert with code 8150"
    for bad in ("815", "123456789", "81a0", "%23%23815", "8150x", "-815"):
        r = http.get(f"/api/v1/alerts/by-code/{bad}")
        assert r.status_code == 422, bad
        assert "an alert code is 4 to 8 digits" in r.json()["detail"], bad


def test_history_by_beijing_day_around_midnight(api):
    http, dispatcher = api
    late = opened(dispatcher, datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "1111")  # 23:30 on 12-01 in Beijing
    first = opened(dispatcher, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), "2222", "r-liu")  # 00:00 on 12-01
    before = opened(dispatcher, datetime(2026, 11, 30, 15, 59, tzinfo=UTC), "3333")  # 23:59 on 11-30
    after = opened(dispatcher, datetime(2026, 12, 1, 16, 0, tzinfo=UTC), "4444", "r-liu")  # 00:00 on 12-02

    def ids(**q):
        r = http.get("/api/v1/alerts", params=q)
        assert r.status_code == 200, r.text
        return sorted(a["id"] for a in r.json())

    assert ids(since="2026-12-01", until="2026-12-01") == sorted([late, first])
    assert ids(since="2026-12-02") == [after]
    assert ids(until="2026-11-30") == [before]
    assert ids(since="2026-11-30", until="2026-12-02") == sorted([late, first, before, after])
    assert ids(since="2026-12-01", until="2026-12-01", community="tianshui-wulin") == sorted([late, first])
    assert ids(since="2026-12-01", until="2026-12-01", community="elsewhere") == []


def test_history_by_outcome_and_kind_with_its_count_and_pages(api):
    http, dispatcher = api
    day = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    false_alarms = [opened(dispatcher, day, f"50{n:02d}") for n in range(3)]
    for a in false_alarms:
        closed(dispatcher, a, "false_alarm", "误按")
    helped = opened(dispatcher, day, "6000", "r-liu", "wellness")
    closed(dispatcher, helped, "helped_at_home", "")
    opened(dispatcher, day, "7000")  # still open: no outcome
    r = http.get("/api/v1/alerts", params={"outcome": "false_alarm", "limit": 2})
    assert r.headers["x-total-count"] == "3" and [a["id"] for a in r.json()] == false_alarms[:0:-1]
    r = http.get("/api/v1/alerts", params={"outcome": "false_alarm", "limit": 2, "offset": 2})
    assert r.headers["x-total-count"] == "3" and [a["id"] for a in r.json()] == [false_alarms[0]]
    r = http.get("/api/v1/alerts", params={"outcome": "helped_at_home", "kind": "wellness", "since": "2026-12-01"})
    assert [a["id"] for a in r.json()] == [helped] and r.json()[0]["outcome"] == "helped_at_home"
    assert http.get("/api/v1/alerts", params={"outcome": "helped_at_home", "kind": "emergency"}).json() == []
    assert http.get("/api/v1/alerts").headers["x-total-count"] == "5"
    assert [a["code"] for a in http.get("/api/v1/alerts", params={"q": "#6000"}).json()] == ["6000"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"since": "12/01/2026"}, "since must be a date written YYYY-MM-DD"),
        ({"until": "2026-13-01"}, "until must be a date written YYYY-MM-DD, like 2026-12-01; '2026-13-01' is no day"),
        ({"since": "2026-02-30"}, "is no day of the calendar"),
        ({"until": "9999-12-31"}, "until 9999-12-31 is out of range"),
        ({"since": "yesterday"}, "'yesterday' is not one"),
        ({"since": "2026-12-05", "until": "2026-12-01"}, "since 2026-12-05 is after until 2026-12-01"),
        ({"outcome": "went_fishing"}, "outcome must be one of false_alarm, helped_at_home"),
    ],
)
def test_history_filters_refuse_bad_values_saying_why(api, query, message):
    http, _ = api
    r = http.get("/api/v1/alerts", params=query)
    assert r.status_code == 422 and message in r.json()["detail"], r.text


def add_berlin(dispatcher) -> None:
    """A second community, in another zone: its days are Berlin's."""
    with transaction(dispatcher.alerts.sessions) as s:
        s.add(Community(id="berlin-mitte", name="Mitte", timezone="Europe/Berlin"))
        s.flush()
        s.add(Building(id="mitte-1", community_id="berlin-mitte", name="Haus 1"))
        s.flush()
        s.add(Resident(id="r-berlin", name="Schmidt", building_id="mitte-1"))


def test_history_days_are_each_alerts_own_communitys_days(api):
    http, dispatcher = api
    add_berlin(dispatcher)
    berlin_late = opened(dispatcher, datetime(2026, 12, 1, 22, 30, tzinfo=UTC), "8001", "r-berlin")  # 23:30 Berlin
    berlin_next = opened(dispatcher, datetime(2026, 12, 1, 23, 30, tzinfo=UTC), "8002", "r-berlin")  # 00:30 on 12-02
    beijing = opened(dispatcher, datetime(2026, 12, 1, 22, 30, tzinfo=UTC), "8003")  # 06:30 on 12-02 in Beijing

    def ids(**q):
        return sorted(a["id"] for a in http.get("/api/v1/alerts", params=q).json())

    assert ids(since="2026-12-01", until="2026-12-01") == [berlin_late]
    assert ids(since="2026-12-02", until="2026-12-02") == sorted([berlin_next, beijing])
    assert ids(since="2026-12-02", community="berlin-mitte") == [berlin_next]
