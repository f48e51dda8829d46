"""The resident's record over the API at each role: the ID number (身份证号) only for admins, the
health fields only for operators and admins, every opening of a record in the audit list, and the
history of every change to it."""

from __future__ import annotations

import httpx
import pytest

from registry.fields import _id_number, mask_id_number
from tests.support.web import Served, bearer, make_users, open_alert, web_system

GOOD_ID = "11010519491231002X"  # GB 11643's own example
OTHER_ID = "330106194203150024"


@pytest.mark.parametrize(
    ("raw", "answer"),
    [
        (GOOD_ID, GOOD_ID),
        ("11010519491231002x", GOOD_ID),  # a small x is the same check character
        (f" {OTHER_ID} ", OTHER_ID),
        ("110105194912310021", "does not add up"),  # one wrong check digit
        ("110105194912310020", "does not add up"),
        ("210105194912310020", "does not add up"),  # a wrong digit elsewhere
        ("11010519491231002", "18 characters"),  # the old 15/17-digit forms are refused
        ("1101051949123100X2", "18 characters"),  # X only last
        (110105194912310020, "does not add up"),
        (True, "18 characters"),
    ],
)
def test_an_id_number_is_18_characters_with_its_gb_11643_check_digit(raw, answer):
    if answer.isdigit() or answer.endswith("X"):
        assert _id_number(raw) == answer
    else:
        with pytest.raises(ValueError, match=answer) as e:
            _id_number(raw)
        assert str(raw).strip()[:14] not in str(e.value)  # the message never repeats the whole number


def test_an_id_number_is_masked_to_its_last_four():
    assert mask_id_number(GOOD_ID) == "***002X" and mask_id_number(None) is None


@pytest.fixture
def api(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["admin"]), timeout=10) as http:
        yield http, dispatcher, tokens
    server.stop()


def zhang(http: httpx.Client) -> dict:
    card = http.get("/api/v1/residents/r-zhang").json()
    return {k: card[k] for k in ("id", "name", "building", "address", "phone", "medical_notes", "checkin", "contacts")}


def test_only_an_admin_sees_the_id_number_and_a_wrong_one_is_a_clear_422(api):
    http, dispatcher, tokens = api
    bad = http.put("/api/v1/residents/r-zhang", json={**zhang(http), "id_number": "110105194912310021"})
    assert bad.status_code == 422
    [problem] = bad.json()["detail"]
    assert problem["loc"] == ["body", "id_number"] and "***0021 does not add up" in problem["msg"]
    assert http.put("/api/v1/residents/r-zhang", json={**zhang(http), "id_number": GOOD_ID}).status_code == 200
    assert http.get("/api/v1/residents/r-zhang").json()["id_number"] == GOOD_ID
    assert all("id_number" not in r for r in http.get("/api/v1/residents").json())  # an index, not the record
    alert_id = open_alert(dispatcher)
    for role in ("viewer", "operator"):
        who = bearer(tokens[role])
        assert "id_number" not in http.get("/api/v1/residents/r-zhang", headers=who).json()
        assert all("id_number" not in r for r in http.get("/api/v1/residents", headers=who).json())
        for path in ("/api/v1/alerts", f"/api/v1/alerts/{alert_id}", f"/api/v1/alerts/{alert_id}/handoff"):
            answer = http.get(path, headers=who)
            assert answer.status_code == 200 and GOOD_ID not in answer.text and "002X" not in answer.text
    audited = http.get("/api/v1/audit", params={"action": "resident.edit"}).text
    assert GOOD_ID not in audited and "***002X" in audited  # the audit list keeps it masked


HEALTH = ("medical_notes", "care_level", "conditions", "allergies", "medicines", "mobility", "hospital", "needs")
ON_FILE = {
    "care_level": "dependent",
    "conditions": "高血压、糖尿病",
    "allergies": "青霉素",
    "medicines": "硝苯地平",
    "mobility": "walks_with_aid",
    "hospital": "浙江省人民医院",
    "needs": "助餐、助浴",
}


@pytest.mark.parametrize(("role", "sees"), [("viewer", False), ("operator", True), ("admin", True)])
def test_health_fields_reach_operators_and_admins_only_in_the_json_itself(api, role, sees):
    http, dispatcher, tokens = api
    assert http.put("/api/v1/residents/r-zhang", json={**zhang(http), **ON_FILE}).status_code == 200
    alert_id = open_alert(dispatcher)
    who = bearer(tokens[role])
    card = http.get("/api/v1/residents/r-zhang", headers=who).json()
    assert card["name"] == "张秀英" and card["contacts"] and card["volunteers"]  # the rest of the card is there
    listed = next(r for r in http.get("/api/v1/residents", headers=who).json() if r["id"] == "r-zhang")
    assert not any(k in listed for k in HEALTH)  # the index never has them: opening a record is what is audited
    handoff = http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=who).json()
    english = http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=who, params={"lang": "en"}).json()["text"]
    if sees:
        assert card["medical_notes"] == "高血压；青霉素过敏" and {k: card[k] for k in ON_FILE} == ON_FILE
        assert handoff["medical_notes"] == "高血压；青霉素过敏" and handoff["allergies"] == "青霉素"
        assert "其他健康情况：高血压；青霉素过敏" in handoff["text"] and "过敏：青霉素" in handoff["text"]
        assert "Other medical notes: 高血压" in english and "Usual hospital: 浙江省人民医院" in english
    else:
        assert not any(k in card for k in HEALTH) and "medical_notes" not in handoff
        assert "健康情况" not in handoff["text"] and "Medical" not in english and "青霉素" not in handoff["text"]
        assert not any(v in handoff["text"] + english for v in ("高血压", "硝苯地平", "浙江省人民医院", "拐杖"))
        assert handoff["address"] and handoff["key_holders"] == []  # what a viewer reads is still there


def test_opening_a_record_is_audited_once_a_minute_per_account_and_not_for_a_viewer(api):
    http, dispatcher, tokens = api
    alert_id = open_alert(dispatcher)
    operator, viewer = bearer(tokens["operator"]), bearer(tokens["viewer"])
    assert http.get("/api/v1/residents/r-zhang", headers=viewer).status_code == 200
    assert http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=viewer).status_code == 200
    assert http.get("/api/v1/audit", params={"action": "record.opened"}).json() == []  # no health given, none logged
    http.get("/api/v1/residents/r-zhang", headers=operator)
    http.get("/api/v1/residents/r-zhang", headers=operator)  # opened again at once
    http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=operator)  # the same record, by the hand-off
    http.get("/api/v1/residents/r-zhang")  # the admin, from /admin's form
    http.get("/api/v1/residents")  # the index has no health fields: not an opening
    rows = http.get("/api/v1/audit", params={"action": "record.opened"}).json()
    assert [(e["actor"], e["target"], e["detail"]) for e in rows] == [
        ("admin", "r-zhang", {"via": "card"}),
        ("operator", "r-zhang", {"via": "card"}),
    ]


def test_a_second_opening_counts_once_the_minute_since_the_last_entry_is_over(sessions):
    from datetime import datetime, timedelta, timezone

    from core import audit
    from web.api.record_opened import note_opened

    t = datetime(2026, 12, 3, 2, 0, tzinfo=timezone.utc)
    assert note_opened(sessions, t, "wang", "r-zhang", "card") is True
    assert note_opened(sessions, t + timedelta(seconds=59), "wang", "r-zhang", "handoff") is False
    assert note_opened(sessions, t + timedelta(seconds=30), "li", "r-zhang", "card") is True  # another account
    assert note_opened(sessions, t + timedelta(seconds=30), "wang", "r-liu", "card") is True  # another resident
    assert note_opened(sessions, t + timedelta(seconds=60), "wang", "r-zhang", "handoff") is True
    with sessions() as s:
        rows = audit.entries(s, actor="wang", action="record.opened")
    assert [(r["target"], r["detail"]["via"]) for r in rows] == [
        ("r-zhang", "handoff"),
        ("r-liu", "card"),
        ("r-zhang", "card"),
    ]


def test_every_change_to_a_record_is_kept_newest_first_with_the_id_number_masked(api):
    http, _, tokens = api
    assert http.get("/api/v1/residents/r-zhang/history").json() == []  # imported without an actor
    before = zhang(http)
    assert http.put("/api/v1/residents/r-zhang", json={**before, "id_number": GOOD_ID}).status_code == 200
    assert http.put("/api/v1/residents/r-zhang", json={**zhang(http), "id_number": GOOD_ID}).status_code == 200
    changed = {**zhang(http), "id_number": OTHER_ID, "medical_notes": "高血压；糖尿病", "contacts": []}
    assert http.put("/api/v1/residents/r-zhang", json=changed).status_code == 200
    history = http.get("/api/v1/residents/r-zhang/history").json()
    assert [h["actor"] for h in history] == ["admin", "admin"]  # the unchanged save recorded nothing
    assert history[0]["fields"] == {
        "medical_notes": ["高血压；青霉素过敏", "高血压；糖尿病"],
        "id_number": ["***002X", "***0024"],
        "contacts": [
            [
                {
                    "name": "张伟（儿子，悉尼）",
                    "phone": "+61400000001",
                    "notify": True,
                    "has_key": False,
                    "country": None,
                    "timezone": None,
                    "language": "zh",
                }
            ],
            [],
        ],
    }
    assert history[1]["fields"] == {"id_number": [None, "***002X"]}
    assert GOOD_ID not in http.get("/api/v1/audit").text and OTHER_ID not in http.get("/api/v1/audit").text
    new = {"id": "r-wang", "name": "王秀兰", "building": "wulin-5", "household": "empty_nest"}
    refused = http.post("/api/v1/residents", json=new)  # lives_alone is true unless said otherwise
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "household"]
    assert http.post("/api/v1/residents", json={**new, "lives_alone": False}).status_code == 201
    created = http.get("/api/v1/residents/r-wang/history").json()[0]["fields"]
    assert created["name"] == [None, "王秀兰"] and created["household"] == [None, "empty_nest"]
    assert "phone" not in created and "contacts" not in created  # a new record lists what it was given
    assert http.delete("/api/v1/residents/r-wang").status_code == 200
    assert http.get("/api/v1/residents/r-wang/history").json()[0]["fields"] == {"active": [True, False]}
    assert http.get("/api/v1/residents/r-nobody/history").status_code == 404
    assert http.get("/api/v1/residents/r-wang/history", headers=bearer(tokens["operator"])).status_code == 403


def test_the_history_names_each_health_field_changed_and_a_bad_mobility_is_a_clear_422(api):
    http, _, tokens = api
    before = zhang(http)
    assert http.put("/api/v1/residents/r-zhang", json={**before, **ON_FILE}).status_code == 200
    changed = {**before, **ON_FILE, "allergies": "青霉素、磺胺类", "mobility": "wheelchair", "needs": ""}
    assert http.put("/api/v1/residents/r-zhang", json=changed).status_code == 200
    history = http.get("/api/v1/residents/r-zhang/history").json()
    assert history[0]["fields"] == {
        "allergies": ["青霉素", "青霉素、磺胺类"],
        "mobility": ["walks_with_aid", "wheelchair"],
        "needs": ["助餐、助浴", ""],
    }
    assert history[1]["fields"] == {k: [None if k in ("care_level", "mobility") else "", v] for k, v in ON_FILE.items()}
    bad = http.put("/api/v1/residents/r-zhang", json={**before, "mobility": "crawls"})
    assert bad.status_code == 422
    [problem] = bad.json()["detail"]
    assert (
        problem["loc"] == ["body", "mobility"]
        and "'walks', 'walks_with_aid', 'wheelchair' or 'bedridden'" in problem["msg"]
    )
    too_long = http.put("/api/v1/residents/r-zhang", json={**before, "hospital": "医" * 201})
    assert too_long.status_code == 422 and too_long.json()["detail"][0]["loc"] == ["body", "hospital"]
    assert http.get("/api/v1/residents/r-zhang").json()["mobility"] == "wheelchair"  # nothing was changed
    assert http.put("/api/v1/residents/r-zhang", json=changed, headers=bearer(tokens["operator"])).status_code == 403


def test_jinqiao_import_records_the_changes_as_the_command_lines(tmp_path, example_registry):
    import yaml

    from core.db import make_engine, session_factory
    from registry.record_history import history
    from tests.test_cli import jinqiao

    env = {"JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"}
    assert jinqiao("import", str(example_registry), env=env).returncode == 0
    doc = yaml.safe_load(example_registry.read_text(encoding="utf-8"))
    doc["residents"][1].update(sex="male", birth_year=1938)  # 刘德明
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert jinqiao("import", str(path), env=env).returncode == 0
    assert jinqiao("import", str(path), env=env).returncode == 0  # the same file again: no change to record
    engine = make_engine(env["JINQIAO_DATABASE_URL"])
    with session_factory(engine)() as s:
        liu = history(s, "r-liu")
    engine.dispose()
    assert [h["fields"] for h in liu[:1]] == [{"sex": [None, "male"], "birth_year": [None, 1938]}]
    assert len(liu) == 2 and liu[0]["actor"].startswith("cli") and "name" in liu[1]["fields"]  # and the first import


@pytest.mark.parametrize(
    ("lives_alone", "household", "problem"),
    [
        (True, "empty_nest", "set lives_alone to false"),
        (False, "alone", "household 'alone' but lives_alone is false"),
        (True, "alone", None),
        (False, "empty_nest", None),
        (False, None, None),
    ],
)
def test_the_household_agrees_with_lives_alone(lives_alone, household, problem):
    from pydantic import ValidationError

    from registry.entries import Resident

    entry = {"id": "r-x", "name": "王", "building": "b", "lives_alone": lives_alone, "household": household}
    if problem is None:
        assert Resident.model_validate(entry).household == household
    else:
        with pytest.raises(ValidationError, match=problem):
            Resident.model_validate(entry)
