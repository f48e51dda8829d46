"""The in-call API: escalate, repage, notes (operator), the readable timeline and the 120 hand-off
(viewer), with a clear 4xx for everything wrong."""

from __future__ import annotations

import httpx
import pytest
import yaml

from dispatcher.alerts import Actor
from tests.support.web import Served, bearer, make_users, open_alert, web_system


@pytest.fixture
def registry_with_keys(example_registry, tmp_path):
    doc = yaml.safe_load(example_registry.read_text(encoding="utf-8"))
    zhang = next(r for r in doc["residents"] if r["id"] == "r-zhang")
    zhang["contacts"].append({"name": "李阿姨（邻居）", "phone": "+8613800000009", "has_key": True})
    zhang.update(sex="female", birth_year=1942)
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def api(engine, registry_with_keys):
    app, dispatcher = web_system(engine, registry_with_keys)
    tokens = make_users(dispatcher.alerts.sessions, ["operator", "viewer"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["operator"]), timeout=10) as http:
        yield http, dispatcher, tokens
    server.stop()


def test_escalate_moves_to_the_mediator_once_and_refuses_a_taken_call(api):
    http, dispatcher, _ = api
    alert_id = open_alert(dispatcher)
    r = http.post(f"/api/v1/alerts/{alert_id}/escalate", json={"from_tier": 0, "from_round": 0})
    assert r.status_code == 200 and r.json() == {"changed": True, "state": "triggered", "tier_index": 1, "pages": None}
    again = http.post(f"/api/v1/alerts/{alert_id}/escalate", json={"from_tier": 0, "from_round": 0})
    assert again.json()["changed"] is False and again.json()["tier_index"] == 1
    assert http.get(f"/api/v1/alerts/{alert_id}").json()["tier"] == "mediator"
    timeline = http.get(f"/api/v1/alerts/{alert_id}").json()["timeline"]
    assert ("escalated", "值班员 王芳") in [(e["what"], e["actor"]) for e in timeline]
    http.post(f"/api/v1/alerts/{alert_id}/ack")
    refused = http.post(f"/api/v1/alerts/{alert_id}/escalate")
    assert (
        refused.status_code == 409
        and "尚未接警" in refused.json()["detail"]
        and "acknowledged" in refused.json()["detail"]
    )
    assert http.post("/api/v1/alerts/999999/escalate").status_code == 404
    assert http.post(f"/api/v1/alerts/{alert_id}/escalate", json={"from_tier": "x"}).status_code == 422
    assert http.post("/api/v1/alerts/0/escalate").status_code == 422


def test_repage_twice_is_one_repage_and_a_closed_call_is_refused(api):
    http, dispatcher, _ = api
    alert_id = open_alert(dispatcher)
    first = http.post(f"/api/v1/alerts/{alert_id}/repage").json()
    assert first == {"changed": True, "state": "triggered", "tier_index": None, "pages": 4}
    assert http.post(f"/api/v1/alerts/{alert_id}/repage").json()["changed"] is False  # a double click
    pages = [n for n in http.get(f"/api/v1/alerts/{alert_id}").json()["notifications"] if n["purpose"] == "page"]
    assert len(pages) == 8
    dispatcher.alerts.resolve(alert_id, Actor("值班员", "web"), "false_alarm", "误按")
    refused = http.post(f"/api/v1/alerts/{alert_id}/repage")
    assert refused.status_code == 409 and "resolved" in refused.json()["detail"]
    assert http.post("/api/v1/alerts/999999/repage").status_code == 404


def test_notes_need_text_and_go_on_closed_calls_too(api):
    http, dispatcher, tokens = api
    alert_id = open_alert(dispatcher)
    ok = http.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "已联系儿子"})
    assert ok.status_code == 201 and ok.json()["changed"] is True
    for bad in ({"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {}, {"text": 5}):
        r = http.post(f"/api/v1/alerts/{alert_id}/notes", json=bad)
        assert r.status_code == 422, bad
    assert "备注须为1至2000字" in http.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "  "}).json()["detail"]
    dispatcher.alerts.resolve(alert_id, Actor("值班员", "web"), "helped_at_home")
    assert http.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "回访：一切安好"}).status_code == 201
    assert http.post("/api/v1/alerts/999999/notes", json={"text": "x"}).status_code == 404
    viewer = bearer(tokens["viewer"])
    assert http.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "x"}, headers=viewer).status_code == 403
    notes = [e for e in http.get(f"/api/v1/alerts/{alert_id}").json()["timeline"] if e["what"] == "note"]
    assert [(n["actor"], n["detail"]["text"]) for n in notes] == [
        ("值班员 王芳", "已联系儿子"),
        ("值班员 王芳", "回访：一切安好"),
    ]


def test_the_readable_timeline_in_both_languages(api):
    http, dispatcher, _ = api
    alert_id = open_alert(dispatcher)
    http.post(f"/api/v1/alerts/{alert_id}/notes", json={"text": "已联系儿子"})
    zh = http.get(f"/api/v1/alerts/{alert_id}/timeline").json()
    en = http.get(f"/api/v1/alerts/{alert_id}/timeline", params={"lang": "en"}).json()
    zh_text = "\n".join(x["text"] for x in zh["lines"])
    assert (
        zh["lang"] == "zh" and "通知楼道党员：李建国、赵玉兰" in zh_text and "值班员 王芳 备注：已联系儿子" in zh_text
    )
    assert "短信发给 李建国（楼道党员）：【金桥紧急呼叫】张秀英" in zh_text
    assert "Paged the building volunteers" in "\n".join(x["text"] for x in en["lines"])
    assert all(len(x["time"]) == 5 for x in zh["lines"]) and "{" not in zh_text
    code = zh["code"]
    assert http.get(f"/api/v1/alerts/%23{code}/timeline").json()["code"] == code
    assert http.get(f"/api/v1/alerts/{alert_id}/timeline", params={"lang": "fr"}).status_code == 422
    assert http.get("/api/v1/alerts/999999/timeline").status_code == 404
    assert http.get("/api/v1/alerts/%230000/timeline").status_code == 404


def test_the_120_handoff_names_phones_and_key_holders(api):
    http, dispatcher, tokens = api
    alert_id = open_alert(dispatcher)
    assert http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=bearer(tokens["viewer"])).status_code == 200
    h = http.get(f"/api/v1/alerts/{alert_id}/handoff").json()  # the operator's: with the medical notes
    assert h["resident"] == "张秀英" and h["address"] == "武林社区 幸福里3幢2单元201"
    assert h["medical_notes"] == "高血压；青霉素过敏" and h["resident_phone"] == "+8613800000001"
    assert [c["phone"] for c in h["contacts"]] == ["+61400000001", "+8613800000009"]
    assert [(c["name"], c["phone"]) for c in h["key_holders"]] == [("李阿姨（邻居）", "+8613800000009")]
    age = int(http.get(f"/api/v1/alerts/{alert_id}").json()["opened_at"][:4]) - 1942  # in the year of the call
    assert h["sex"] == "female" and h["age"] == age
    assert h["text"].splitlines() == [
        f"老人：张秀英（女，约{age}岁）（呼叫 #{h['code']}：按键呼救）",
        "地址：武林社区 幸福里3幢2单元201",
        "健康情况：高血压；青霉素过敏",
        "老人电话：+8613800000001",
        "家属和联系人：张伟（儿子，悉尼） +61400000001；李阿姨（邻居） +8613800000009",
        "有钥匙的人：李阿姨（邻居） +8613800000009",
    ]
    en = http.get(f"/api/v1/alerts/{alert_id}/handoff", params={"lang": "en"}).json()["text"]
    assert "Key holders: 李阿姨（邻居） +8613800000009" in en and en.startswith("Patient: 张秀英")
    liu = open_alert(dispatcher, "r-liu")
    none = http.get(f"/api/v1/alerts/{liu}/handoff").json()
    assert none["sex"] is None and none["age"] is None
    assert none["key_holders"] == [] and "有钥匙的人：无登记" in none["text"] and "健康情况：无登记" in none["text"]
    assert http.get("/api/v1/alerts/999999/handoff").status_code == 404
    assert http.get(f"/api/v1/alerts/{alert_id}/handoff", params={"lang": "de"}).status_code == 422


def test_the_120_handoff_tells_the_crew_the_health_fields_on_file(api):
    from sqlalchemy import update

    from core.schema import Resident

    http, dispatcher, tokens = api
    with dispatcher.alerts.sessions.begin() as s:
        s.execute(
            update(Resident)
            .where(Resident.id == "r-zhang")
            .values(conditions="高血压、糖尿病", allergies="青霉素", medicines="硝苯地平", mobility="bedridden")
        )
    alert_id = open_alert(dispatcher)
    h = http.get(f"/api/v1/alerts/{alert_id}/handoff").json()
    assert (h["conditions"], h["allergies"], h["medicines"], h["mobility"], h["hospital"]) == (
        "高血压、糖尿病",
        "青霉素",
        "硝苯地平",
        "bedridden",
        "",
    )
    assert h["text"].splitlines()[2:7] == [
        "慢性病：高血压、糖尿病",
        "过敏：青霉素",
        "用药：硝苯地平",
        "其他健康情况：高血压；青霉素过敏",
        "行动能力：卧床",
    ]  # no hospital on file: no line for it
    assert "常去医院" not in h["text"]
    en = http.get(f"/api/v1/alerts/{alert_id}/handoff", params={"lang": "en"}).json()["text"]
    assert "Allergies: 青霉素" in en and "Mobility: bedridden" in en
    seen = http.get(f"/api/v1/alerts/{alert_id}/handoff", headers=bearer(tokens["viewer"])).json()
    assert not {"conditions", "allergies", "medicines", "mobility", "hospital"} & set(seen)
    assert "青霉素" not in seen["text"] and "卧床" not in seen["text"]
