"""The visits routes: who is due, the most overdue first; a visit recorded by an operator with its
need passed to the mediator; a resident's visits; and the refusals. Instants are relative to the
moment of registration, so no verdict depends on the wall clock."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select, update

from core.db import transaction
from core.schema import Notification, Resident
from tests.support.web import Served, bearer, make_users, web_system


@pytest.fixture
def served(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    yield server, tokens, dispatcher.alerts.sessions
    server.stop()


def test_who_is_due_and_a_visit_recorded_from_the_board(served):
    server, tokens, sessions = served
    with transaction(sessions) as s:  # 张秀英 registered 40 days ago and never visited: 10 days overdue
        since = s.get(Resident, "r-zhang").visits_since
        s.execute(update(Resident).where(Resident.id == "r-zhang").values(visits_since=since - timedelta(days=40)))
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        (row,) = http.get("/api/v1/visits").json()  # 刘德明 was registered today: not due
        assert (row["resident_id"], row["state"], row["overdue_days"], row["every_days"]) == (
            "r-zhang",
            "overdue",
            10,
            30,
        )
        assert row["visitors"] == ["李建国", "赵玉兰"] and row["last_visit_at"] is None
        everyone = http.get("/api/v1/visits", params={"show": "all", "community": "tianshui-wulin"}).json()
        assert [(r["resident_id"], r["state"]) for r in everyone] == [("r-zhang", "overdue"), ("r-liu", "ok")]
        made = http.post(
            "/api/v1/residents/r-zhang/visits",
            json={"by": "李建国（电话报告）", "note": "精神好", "need": "需要修水管"},
        )
        assert made.status_code == 201 and made.json()["channel"] == "web"
        assert http.get("/api/v1/visits").json() == []  # visited: due again in 30 days
        (visit,) = http.get("/api/v1/residents/r-zhang/visits").json()
        assert (visit["by_name"], visit["note"], visit["need"]) == ("李建国（电话报告）", "精神好", "需要修水管")
        http.post("/api/v1/residents/r-liu/visits", json={})  # by defaults to the operator
        assert http.get("/api/v1/residents/r-liu/visits").json()[0]["by_name"] == "王芳"
    with sessions() as s:
        (body,) = s.scalars(select(Notification.body).where(Notification.purpose == "visit_need")).all()
    assert body == "【金桥】李建国（电话报告）走访张秀英时记下需要：需要修水管。请跟进。"


def test_bad_visits_are_refused_and_viewers_only_read(served):
    server, tokens, _ = served
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        assert http.post("/api/v1/residents/r-nobody/visits", json={}).status_code == 404
        assert "r-nobody" in http.get("/api/v1/residents/r-nobody/visits").text
        assert http.post("/api/v1/residents/r-zhang/visits", json={"note": "x" * 2001}).status_code == 422
        assert http.post("/api/v1/residents/r-zhang/visits", json={"by": ""}).status_code == 422
        assert http.get("/api/v1/visits", params={"show": "some"}).status_code == 422
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        assert http.get("/api/v1/visits").status_code == 200
        assert http.post("/api/v1/residents/r-zhang/visits", json={}).status_code == 403


def test_follow_up_items_are_opened_promised_and_closed(served):
    server, tokens, _ = served
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        http.post("/api/v1/residents/r-zhang/visits", json={"need": "需要修水管"})
        (seen,) = http.get("/api/v1/follow-ups").json()  # the visit's need opened one for the mediator
        assert (seen["text"], seen["owner"], seen["opened_by"], seen["late"]) == ("需要修水管", "王芳", "王芳", False)
        made = http.post(
            "/api/v1/follow-ups",
            json={"resident_id": "r-liu", "text": "帮助申请助餐", "owner": "王芳", "promised_on": "2020-01-31"},
        )
        assert made.status_code == 201 and made.json()["late"] is True  # promised long ago, still open
        listed = http.get("/api/v1/follow-ups", params={"community": "tianshui-wulin"}).json()
        assert [i["text"] for i in listed] == ["帮助申请助餐", "需要修水管"]  # the late one first
        refused = http.put(f"/api/v1/follow-ups/{seen['id']}", json={"state": "dropped"})
        assert refused.status_code == 422 and "why" in refused.text
        done = http.put(f"/api/v1/follow-ups/{seen['id']}", json={"state": "done", "outcome": "物业已修好"}).json()
        assert (done["state"], done["closed_by"], done["outcome"]) == ("done", "王芳", "物业已修好")
        assert [i["text"] for i in http.get("/api/v1/follow-ups").json()] == ["帮助申请助餐"]
        assert len(http.get("/api/v1/follow-ups", params={"state": "all"}).json()) == 2
        assert http.put("/api/v1/follow-ups/999", json={"owner": "x"}).status_code == 404
        assert http.post("/api/v1/follow-ups", json={"resident_id": "r-zhang", "text": ""}).status_code == 422
        assert http.post("/api/v1/follow-ups", json={"resident_id": "nobody", "text": "x"}).status_code == 404
        summary = http.get("/api/v1/communities/tianshui-wulin/summary").json()
        assert summary["follow_ups_open"] == 1 and summary["text"].startswith("【金桥】武林社区")
        assert http.get("/api/v1/communities/nowhere/summary").status_code == 404
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        assert http.put(f"/api/v1/follow-ups/{seen['id']}", json={"owner": "x"}).status_code == 403
