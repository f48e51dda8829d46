"""GET /api/v1/roster/duty on a fixed clock: who is on the hotline now and next, the week's days
with their kinds (an entered holiday, the year China's calendar does not know yet), the people with
their phones, per community; bad input is a clear 4xx."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from core.db import session_factory, transaction
from core.schema import CalendarDay, Community, Responder
from dispatcher.alerts import Alerts
from registry.store import import_registry
from tests.support.web import Served, bearer, make_users
from tests.test_roster_plan import UNKNOWN_YEAR
from web.app import Readiness
from web.board import web_app
from web.deps import Web

THURSDAY_10_BEIJING = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def served(engine, example_registry):
    """The app with a clock the test sets (`clock["now"]`)."""
    sessions = session_factory(engine)
    import_registry(sessions, example_registry)
    clock = {"now": THURSDAY_10_BEIJING}
    now = lambda: clock["now"]  # noqa: E731
    app = web_app(Readiness(engine), Web.of(sessions, Alerts(sessions, now), now=now, secure_cookies=False))
    tokens = make_users(sessions, ["viewer"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        yield http, sessions, clock
    server.stop()


def names(people: list[dict]) -> list[str]:
    return [p["name"] for p in people]


def test_now_next_and_the_week_with_an_entered_holiday(served):
    http, sessions, _ = served
    with transaction(sessions) as s:
        s.add(CalendarDay(day=date(2026, 12, 8), kind="holiday"))  # the office's word: Tuesday off
    body = http.get("/api/v1/roster/duty").json()
    assert body["now"] == THURSDAY_10_BEIJING.isoformat() and body["gaps"] == []
    [plan] = body["plans"]
    assert plan["timezone"] == "Asia/Shanghai"
    assert [(c["id"], c["mediator"]["name"]) for c in plan["communities"]] == [("tianshui-wulin", "王芳")]
    assert plan["on_duty"] == [{"id": "duty-chen", "name": "陈静", "phone": "+8613900000005", "active": True}]
    assert plan["next_change_at"] == "2026-12-03T12:00:00+00:00"  # 20:00 Beijing time
    assert names(plan["next_on_duty"]) == ["何伟"]
    days = plan["days"]
    assert [(d["date"], d["kind"], d["known"]) for d in days] == [
        ("2026-12-03", "workday", True),
        ("2026-12-04", "workday", True),
        ("2026-12-05", "weekend", True),
        ("2026-12-06", "weekend", True),
        ("2026-12-07", "workday", True),
        ("2026-12-08", "holiday", True),
        ("2026-12-09", "workday", True),
    ]
    today = days[0]
    assert today["today"] and today["weekday"] == 4
    assert [(s["start"], s["end"], names(s["people"]), s["current"]) for s in today["shifts"]] == [
        ("00:00", "08:00", ["何伟"], False),
        ("08:00", "20:00", ["陈静"], True),
        ("20:00", "24:00", ["何伟"], False),
    ]
    tuesday = days[5]
    assert tuesday["entered"] and [names(s["people"]) for s in tuesday["shifts"]] == [["陈静"]]
    assert plan["unknown_years"] == []


def test_the_days_of_a_year_without_holiday_data_say_so(served):
    http, _, clock = served
    year = UNKNOWN_YEAR
    clock["now"] = datetime(year - 1, 12, 30, 4, 0, tzinfo=UTC)  # noon in Beijing, two days before it
    [plan] = http.get("/api/v1/roster/duty", params={"days": 5}).json()["plans"]
    assert [(d["date"], d["known"]) for d in plan["days"]] == [
        (f"{year - 1}-12-30", True),
        (f"{year - 1}-12-31", True),
        (f"{year}-01-01", False),
        (f"{year}-01-02", False),
        (f"{year}-01-03", False),
    ]
    assert plan["unknown_years"] == [year]


def test_national_day_is_named_and_its_weekend_worked_is_marked(served):
    http, _, clock = served
    clock["now"] = datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    [plan] = http.get("/api/v1/roster/duty", params={"days": 10}).json()["plans"]
    first, tenth = plan["days"][0], plan["days"][9]
    assert (first["kind"], first["holiday"]) == ("holiday", {"zh": "国庆节", "en": "National Day"})
    assert (tenth["date"], tenth["kind"], tenth["in_lieu"]) == ("2026-10-10", "workday", True)
    assert names(plan["on_duty"]) == ["陈静"]  # the holiday's one shift


def test_an_inactive_responder_pages_nobody_and_the_gap_shows(served):
    http, sessions, clock = served
    with transaction(sessions) as s:
        s.get(Responder, "duty-he").active = False
    clock["now"] = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 21:00 Beijing: duty-he's night
    body = http.get("/api/v1/roster/duty", params={"days": 1}).json()
    [plan] = body["plans"]
    assert plan["on_duty"] == [] and names(plan["next_on_duty"]) == ["陈静"]
    assert {"day_kind": "weekend", "start": "00:00", "end": "24:00"} in body["gaps"]
    night = plan["days"][0]["shifts"][2]
    assert night["people"][0]["active"] is False and night["current"]
    assert plan["days"][0]["gaps"] == [{"start": "00:00", "end": "08:00"}, {"start": "20:00", "end": "24:00"}]


def test_one_community_and_bad_input(served):
    http, _, _ = served
    [plan] = http.get("/api/v1/roster/duty", params={"community": "tianshui-wulin", "days": 1}).json()["plans"]
    assert [c["name"] for c in plan["communities"]] == ["武林社区"] and len(plan["days"]) == 1
    r = http.get("/api/v1/roster/duty", params={"community": "elsewhere"})
    assert r.status_code == 404 and r.json()["detail"] == "no community elsewhere"
    for bad in ({"days": 0}, {"days": 32}, {"days": "week"}, {"community": "x" * 65}):
        r = http.get("/api/v1/roster/duty", params=bad)
        assert r.status_code == 422, bad
        assert r.json()["detail"][0]["loc"][-1] in bad, r.text  # names the parameter


def test_communities_in_two_zones_get_a_plan_each(served):
    http, sessions, _ = served
    with transaction(sessions) as s:
        s.add(Community(id="berlin-mitte", name="Mitte", timezone="Europe/Berlin"))
    plans = http.get("/api/v1/roster/duty", params={"days": 1}).json()["plans"]
    assert [(p["timezone"], [c["id"] for c in p["communities"]]) for p in plans] == [
        ("Asia/Shanghai", ["tianshui-wulin"]),
        ("Europe/Berlin", ["berlin-mitte"]),
    ]
    berlin = plans[1]  # 03:00 in Berlin on Thursday: the roster's workday night, in Berlin's hours
    assert names(berlin["on_duty"]) == ["何伟"] and berlin["next_change_at"] == "2026-12-03T07:00:00+00:00"
    assert berlin["communities"][0]["mediator"] is None
