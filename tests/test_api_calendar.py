"""The calendar days over the API: everyone signed in reads them, admins replace them with the
import's own checks; a refusal is a 4xx naming the entry that changes nothing."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import select

from core.schema import CalendarDay
from tests.support.web import Served, bearer, make_users, web_system

CALENDAR = {"holidays": ["2027-01-01", "2027-02-06..2027-02-12"], "workdays": ["2027-02-14"]}
EMPTY = {"holidays": [], "workdays": [], "weekends": []}


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    clients = {
        role: httpx.Client(base_url=server.url, headers=bearer(token), timeout=10) for role, token in tokens.items()
    }
    yield clients, dispatcher.alerts.sessions
    for client in clients.values():
        client.close()
    server.stop()


def rows(sessions) -> list[tuple[date, str]]:
    with sessions() as s:
        return [(r.day, r.kind) for r in s.scalars(select(CalendarDay).order_by(CalendarDay.day))]


def test_admin_replaces_the_days_and_everyone_reads_them(api):
    clients, sessions = api
    admin, viewer = clients["admin"], clients["viewer"]
    assert viewer.get("/api/v1/calendar").json() == EMPTY

    assert admin.put("/api/v1/calendar", json=CALENDAR).status_code == 200

    assert viewer.get("/api/v1/calendar").json() == {**EMPTY, **CALENDAR}
    stored = rows(sessions)
    assert (
        len(stored) == 9 and stored[0] == (date(2027, 1, 1), "holiday") and stored[-1] == (date(2027, 2, 14), "workday")
    )
    assert admin.put("/api/v1/calendar", json=CALENDAR).status_code == 200  # the same again changes nothing
    assert rows(sessions) == stored
    assert viewer.put("/api/v1/calendar", json={}).status_code == 403
    assert rows(sessions) == stored


def test_days_are_answered_as_the_fewest_ranges(api):
    clients, _ = api
    body = {"holidays": ["2027-02-07", "2027-02-06", "2027-02-08..2027-02-10"], "weekends": ["2026-10-10"]}
    assert clients["admin"].put("/api/v1/calendar", json=body).status_code == 200
    assert clients["admin"].get("/api/v1/calendar").json() == {
        "holidays": ["2027-02-06..2027-02-10"],
        "workdays": [],
        "weekends": ["2026-10-10"],
    }


def test_other_edits_keep_the_days_and_an_empty_body_clears_them(api):
    clients, sessions = api
    admin = clients["admin"]
    admin.put("/api/v1/calendar", json=CALENDAR)
    stored = rows(sessions)
    new = {"id": "pm-qian", "name": "钱明", "phone": "+8613900000007"}
    assert admin.post("/api/v1/responders", json=new).status_code == 201  # rewrites the registry from the database
    assert rows(sessions) == stored
    assert admin.put("/api/v1/calendar", json={}).status_code == 200
    assert rows(sessions) == [] and admin.get("/api/v1/calendar").json() == EMPTY


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"holidays": ["2027-02-12..2027-02-06"]}, "range '2027-02-12..2027-02-06' ends before it starts"),
        ({"holidays": ["2027-02-30"]}, "no such day '2027-02-30'"),
        ({"workdays": ["14 Feb 2027"]}, "bad day '14 Feb 2027'"),
        ({"holiday": ["2027-01-01"]}, "extra inputs"),
    ],
)
def test_field_errors_are_422_naming_the_field(api, body, problem):
    clients, sessions = api
    clients["admin"].put("/api/v1/calendar", json=CALENDAR)
    r = clients["admin"].put("/api/v1/calendar", json=body)
    assert r.status_code == 422
    assert problem.lower() in r.text.lower()
    assert len(rows(sessions)) == 9


def test_a_day_both_holiday_and_workday_is_refused_by_the_imports_check(api):
    clients, sessions = api
    clients["admin"].put("/api/v1/calendar", json=CALENDAR)
    r = clients["admin"].put(
        "/api/v1/calendar", json={"holidays": ["2027-02-06..2027-02-14"], "workdays": ["2027-02-14"]}
    )
    assert r.status_code == 422
    assert r.json()["problems"] == [
        "calendar.workdays[0]: '2027-02-14' overlaps holidays[0] '2027-02-06..2027-02-14' "
        "(a day is a workday or a holiday, not both)"
    ]
    assert len(rows(sessions)) == 9
