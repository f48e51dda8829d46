"""The service team (一支服务队): members with skills and hours in the registry file (validated,
exported and imported back unchanged), who can be asked at a given local time (pure), the list on
the board and a follow-up item given to a member, who gets one SMS. The clock is fixed: a Wednesday
10:00 in Shanghai, so no verdict depends on today."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml
from sqlalchemy import select

from core.db import session_factory
from core.schema import Notification, ServiceMember
from registry.edit import export_registry
from registry.fields import RegistryError
from registry.service_team import available, hours_text
from registry.store import import_registry
from tests.support.web import Served, bearer, make_users, web_system

SH = ZoneInfo("Asia/Shanghai")
WEDNESDAY_10 = datetime(2026, 12, 2, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]
TEAM = [
    {"responder": "pm-zhao", "skills": ["health", "home_help"], "days": WEEKDAYS, "from": "09:00", "to": "17:00"},
    {"responder": "duty-he", "skills": ["repairs"], "days": ["sat", "sun"], "from": "20:00", "to": "08:00"},
]


def with_team(example_registry, tmp_path, team=TEAM):
    doc = yaml.safe_load(example_registry.read_text(encoding="utf-8"))
    doc["communities"][0]["service_team"] = team
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    "at, weekdays_9_to_5, weekend_nights",
    [
        ("2026-12-02 10:00", True, False),  # a Wednesday morning
        ("2026-12-02 17:00", False, False),  # the end is not inside
        ("2026-12-05 21:00", False, True),  # Saturday night
        ("2026-12-06 07:59", False, True),  # Sunday morning: Saturday's night still
        ("2026-12-07 07:59", False, True),  # Monday morning: Sunday's night still
        ("2026-12-07 08:00", False, False),
        ("2026-12-05 07:00", False, False),  # Saturday morning: Friday has no night
    ],
)
def test_a_member_can_be_asked_inside_their_hours_across_midnight_too(at, weekdays_9_to_5, weekend_nights):
    assert available(WEEKDAYS, "09:00", "17:00", local(at)) is weekdays_9_to_5
    assert available(["sat", "sun"], "20:00", "08:00", local(at)) is weekend_nights


def test_hours_read_as_the_office_writes_them():
    assert hours_text(WEEKDAYS, "09:00", "17:00") == "周一至周五 09:00–17:00"
    assert hours_text(["sat", "sun"], "20:00", "08:00") == "周六、周日 20:00–次日08:00"
    assert hours_text(["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "00:00", "24:00") == "每天 全天"


def test_the_team_is_stored_and_exported_back_unchanged(engine, example_registry, tmp_path):
    sessions = session_factory(engine)
    import_registry(sessions, with_team(example_registry, tmp_path))
    with sessions() as s:
        exported = export_registry(s)
        rows = s.scalars(select(ServiceMember).order_by(ServiceMember.position)).all()
    assert [(m.responder_id, m.skills, m.start, m.end) for m in rows] == [
        ("pm-zhao", ["health", "home_help"], "09:00", "17:00"),
        ("duty-he", ["repairs"], "20:00", "08:00"),
    ]
    assert exported["communities"][0]["service_team"] == TEAM
    again = tmp_path / "again.yaml"
    again.write_text(yaml.safe_dump(exported, allow_unicode=True), encoding="utf-8")
    assert import_registry(sessions, again).changed == 0  # the round trip changes nothing


@pytest.mark.parametrize(
    "member, message",
    [
        ({"responder": "nobody", "skills": ["health"]}, "service_team: unknown responder 'nobody'"),
        ({"responder": "pm-zhao", "skills": ["cooking"]}, "service_team[0].skills[0]: input should be 'health'"),
        ({"responder": "pm-zhao", "skills": []}, "at least one"),
        ({"responder": "pm-zhao", "skills": ["health"], "days": ["mon", "mon"]}, "listed twice"),
        ({"responder": "pm-zhao", "skills": ["health"], "from": "09:00", "to": "09:00"}, "are empty"),
    ],
)
def test_a_bad_member_is_refused_and_nothing_is_stored(engine, example_registry, tmp_path, member, message):
    sessions = session_factory(engine)
    with pytest.raises(RegistryError) as refused:
        import_registry(sessions, with_team(example_registry, tmp_path, [member]))
    assert message in str(refused.value)
    with sessions() as s:
        assert s.scalars(select(ServiceMember)).all() == []


def test_a_member_listed_twice_is_refused(engine, example_registry, tmp_path):
    with pytest.raises(RegistryError, match="'pm-zhao' is listed twice"):
        import_registry(session_factory(engine), with_team(example_registry, tmp_path, [TEAM[0], TEAM[0]]))


@pytest.fixture
def served(engine, example_registry, tmp_path):
    app, dispatcher = web_system(engine, with_team(example_registry, tmp_path), now=lambda: WEDNESDAY_10)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    yield server, tokens, dispatcher.alerts.sessions
    server.stop()


def test_the_board_lists_the_team_and_an_item_given_to_a_member_texts_them_once(served):
    server, tokens, sessions = served
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        team = http.get("/api/v1/communities/tianshui-wulin/service-team").json()
        assert [(m["name"], m["available_now"], m["hours"], m["skill_names"]) for m in team] == [
            ("赵玉兰", True, "周一至周五 09:00–17:00", ["医疗保健", "家政助老"]),
            ("何伟", False, "周六、周日 20:00–次日08:00", ["维修"]),
        ]
        repairs = http.get("/api/v1/communities/tianshui-wulin/service-team", params={"skill": "repairs"}).json()
        assert [m["name"] for m in repairs] == ["何伟"]
        item = http.post(
            "/api/v1/follow-ups",
            json={"resident_id": "r-zhang", "text": "需要买药", "owner": "王芳", "promised_on": "2026-12-04"},
        ).json()
        for _ in range(2):  # the same twice: one SMS
            given = http.post(f"/api/v1/follow-ups/{item['id']}/assign", json={"responder_id": "pm-zhao"})
            assert given.status_code == 200 and given.json()["owner"] == "赵玉兰"
        team = http.get("/api/v1/communities/tianshui-wulin/service-team").json()
        assert team[0]["open_items"] == 1
    with sessions() as s:
        (sms,) = s.scalars(select(Notification).where(Notification.purpose == "follow_up")).all()
    assert (sms.to_number, sms.channel) == ("+8613900000002", "sms")
    assert sms.body == "【金桥】王芳请您跟进张秀英（幸福里3幢2单元201）：需要买药，请在12月4日前办好。谢谢！"


def test_giving_out_an_item_is_refused_when_it_cannot_be(served):
    server, tokens, _ = served
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        item = http.post("/api/v1/follow-ups", json={"resident_id": "r-zhang", "text": "修水管"}).json()
        not_on_team = http.post(f"/api/v1/follow-ups/{item['id']}/assign", json={"responder_id": "pm-li"})
        assert not_on_team.status_code == 422 and "'pm-li' is not on the service team" in not_on_team.text
        assert http.post("/api/v1/follow-ups/999999/assign", json={"responder_id": "pm-zhao"}).status_code == 404
        assert http.post(f"/api/v1/follow-ups/{item['id']}/assign", json={}).status_code == 422
        http.put(f"/api/v1/follow-ups/{item['id']}", json={"state": "done", "outcome": "修好了"})
        closed = http.post(f"/api/v1/follow-ups/{item['id']}/assign", json={"responder_id": "pm-zhao"})
        assert closed.status_code == 409 and "is done" in closed.text
        assert http.get("/api/v1/communities/nowhere/service-team").status_code == 404
        bad_skill = http.get("/api/v1/communities/tianshui-wulin/service-team", params={"skill": "cooking"})
        assert bad_skill.status_code == 422
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        assert http.get("/api/v1/communities/tianshui-wulin/service-team").status_code == 200
        assert http.post(f"/api/v1/follow-ups/{item['id']}/assign", json={"responder_id": "pm-zhao"}).status_code == 403
