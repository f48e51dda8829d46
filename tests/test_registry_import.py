"""`jinqiao import FILE`: the example imports, a second import writes nothing, an edit updates in
place, and every kind of mistake is named by entry and field and leaves the database untouched."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from core import schema
from registry.entries import RegistryDoc
from registry.fields import RegistryError, parse_duration
from registry.store import import_registry
from registry.validation import load_registry_file, read_yaml

REGISTRY_TABLES = [
    schema.Responder,
    schema.Community,
    schema.Building,
    schema.BuildingPartyMember,
    schema.Resident,
    schema.Contact,
    schema.Device,
    schema.RosterShift,
    schema.EscalationTier,
    schema.PolicySetting,
]


def dump(sessions) -> dict[str, list[tuple]]:
    """Every row of every registry table, generated ids included, in a stable order."""
    with sessions() as s:
        return {
            m.__tablename__: sorted((tuple(row) for row in s.execute(select(m.__table__))), key=repr)
            for m in REGISTRY_TABLES
        }


@pytest.fixture
def example(example_registry) -> dict[str, Any]:
    return read_yaml(example_registry.read_bytes())


@pytest.fixture
def write(tmp_path) -> Callable[[Any], Path]:
    def _write(raw: Any, name: str = "registry.yaml") -> Path:
        path = tmp_path / name
        path.write_text(
            raw if isinstance(raw, str) else yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8"
        )
        return path

    return _write


def by_id(items: list[dict], ident: str) -> dict:
    return next(x for x in items if x.get("id") == ident)


# --- the example --------------------------------------------------------------------------------


def test_example_imports_the_right_rows(sessions, example_registry):
    report = import_registry(sessions, example_registry)

    assert {t: c.created for t, c in report.tables.items() if c.created} == {
        "responders": 6,
        "communities": 1,
        "buildings": 2,
        "building_party_members": 3,
        "residents": 2,
        "contacts": 1,
        "devices": 2,
        "roster_shifts": 4,
        "escalation_tiers": 3,
        "policy_settings": 1,
    }
    assert report.changed == 25
    with sessions() as s:
        community = s.get(schema.Community, "tianshui-wulin")
        assert (community.name, community.timezone, community.mediator_id, community.active) == (
            "武林社区",
            "Asia/Shanghai",
            "med-wang",
            True,
        )
        assert s.get(schema.Building, "wulin-5").community_id == "tianshui-wulin"
        members = s.scalars(select(schema.BuildingPartyMember)).all()
        assert sorted((m.building_id, m.position, m.responder_id) for m in members) == [
            ("wulin-3", 0, "pm-li"),
            ("wulin-3", 1, "pm-zhao"),
            ("wulin-5", 0, "pm-sun"),
        ]
        zhang = s.get(schema.Resident, "r-zhang")
        assert (zhang.building_id, zhang.phone, zhang.checkin_deadline, zhang.medical_notes) == (
            "wulin-3",
            "+8613800000001",
            "10:00",
            "高血压；青霉素过敏",
        )
        assert s.get(schema.Resident, "r-liu").checkin_deadline is None
        [contact] = s.scalars(select(schema.Contact)).all()
        assert (contact.resident_id, contact.name, contact.phone, contact.notify) == (
            "r-zhang",
            "张伟（儿子，悉尼）",
            "+61400000001",
            True,
        )
        pager, z2m = s.get(schema.Device, "pgr-0001"), s.get(schema.Device, "z2m-sos-liu")
        assert (pager.resident_id, pager.kind, pager.adapter, pager.source, pager.heartbeat_s) == (
            "r-zhang",
            "pager",
            "native",
            None,
            600,
        )
        # YAML 1.1 would have read this as an integer and lost the adapter's name for the device
        assert (z2m.adapter, z2m.source, z2m.heartbeat_s) == ("zigbee2mqtt", "0x00158d0001a2b3c4", 7200)
        shifts = s.scalars(select(schema.RosterShift)).all()
        assert sorted((r.day_kind, r.position, r.start, r.end, r.responder_id) for r in shifts) == [
            ("holiday", 0, "00:00", "24:00", "duty-chen"),
            ("weekend", 0, "00:00", "24:00", "duty-he"),
            ("workday", 0, "08:00", "20:00", "duty-chen"),
            ("workday", 1, "20:00", "08:00", "duty-he"),
        ]
        tiers = s.scalars(select(schema.EscalationTier).order_by(schema.EscalationTier.position)).all()
        assert [(t.position, t.tier, t.channels, t.timeout_s) for t in tiers] == [
            (0, "building", ["sms", "voice"], 120),
            (1, "mediator", ["sms", "voice"], 120),
            (2, "hotline", ["sms", "voice"], 120),
        ]
        assert s.get(schema.PolicySetting, "ack_expiry_s").value == "86400"


def test_importing_twice_changes_nothing(sessions, example_registry):
    import_registry(sessions, example_registry)
    before = dump(sessions)

    again = import_registry(sessions, example_registry)
    from_doc = import_registry(sessions, load_registry_file(example_registry))

    assert (again.changed, from_doc.changed) == (0, 0)
    assert str(again) == "no changes"
    assert dump(sessions) == before


def test_an_edited_file_updates_in_place(sessions, example, example_registry, write):
    import_registry(sessions, example_registry)
    seen = datetime(2026, 1, 2, 3, 4, tzinfo=timezone.utc)
    with sessions.begin() as s:  # columns the importer does not own
        pager = s.get(schema.Device, "pgr-0001")
        pager.password_hash, pager.status, pager.status_at, pager.last_seen_at, pager.battery = (
            "$7$hash",
            "online",
            seen,
            seen,
            87,
        )
        s.get(schema.Resident, "r-zhang").away_from = seen
    edited = copy.deepcopy(example)
    zhang = by_id(edited["residents"], "r-zhang")
    zhang["name"] = "张秀兰"
    zhang["contacts"] = []
    del zhang["checkin"]
    by_id(edited["responders"], "pm-li")["phone"] = "+8613900000099"
    edited["responders"] = [r for r in edited["responders"] if r["id"] != "pm-sun"]
    edited["communities"][0]["buildings"][1]["party_members"] = ["pm-zhao"]
    edited["residents"] = [r for r in edited["residents"] if r["id"] != "r-liu"]
    edited["devices"] = [d for d in edited["devices"] if d["id"] != "z2m-sos-liu"]
    edited["escalation"]["tiers"][0]["timeout"] = "90s"
    edited["escalation"]["ack_expiry"] = "12h"
    path = write(edited)

    report = import_registry(sessions, path)

    changes = {t: {k: n for k, n in vars(c).items() if n} for t, c in report.tables.items() if c.changed}
    assert changes == {
        "responders": {"updated": 1, "deactivated": 1},
        "building_party_members": {"created": 1, "deleted": 1},
        "residents": {"updated": 1, "deactivated": 1},
        "contacts": {"deleted": 1},
        "devices": {"deactivated": 1},
        "escalation_tiers": {"updated": 1},
        "policy_settings": {"updated": 1},
    }
    with sessions() as s:
        zhang_row = s.get(schema.Resident, "r-zhang")
        assert (zhang_row.name, zhang_row.checkin_deadline, zhang_row.away_from) == ("张秀兰", None, seen)
        assert s.get(schema.Responder, "pm-li").phone == "+8613900000099"
        assert s.scalars(select(schema.Contact)).all() == []
        # nothing is deleted: what left the file is only deactivated
        assert s.get(schema.Responder, "pm-sun").active is False
        assert s.get(schema.Resident, "r-liu").active is False
        assert s.get(schema.Device, "z2m-sos-liu").active is False
        pager = s.get(schema.Device, "pgr-0001")
        assert (
            pager.password_hash,
            pager.status,
            pager.status_at,
            pager.last_seen_at,
            pager.battery,
            pager.active,
        ) == ("$7$hash", "online", seen, seen, 87, True)
        assert s.get(schema.EscalationTier, 0).timeout_s == 90
        assert s.get(schema.PolicySetting, "ack_expiry_s").value == "43200"
    assert import_registry(sessions, path).changed == 0

    back = import_registry(sessions, example_registry)
    assert back.tables["responders"].updated == 2 and back.tables["contacts"].created == 1
    with sessions() as s:
        assert s.get(schema.Resident, "r-liu").active is True
        assert s.get(schema.Device, "z2m-sos-liu").active is True


def test_contacts_keep_their_rows_when_only_their_details_change(sessions, example, write):
    zhang = by_id(example["residents"], "r-zhang")
    zhang["contacts"].append({"name": "张丽", "phone": "+8613800000009"})
    import_registry(sessions, write(example))
    with sessions() as s:
        ids = {c.phone: c.id for c in s.scalars(select(schema.Contact))}
    zhang["contacts"].reverse()
    zhang["contacts"][0]["notify"] = True

    report = import_registry(sessions, write(example))

    assert vars(report.tables["contacts"]) == {"created": 0, "updated": 2, "deactivated": 0, "deleted": 0}
    with sessions() as s:
        rows = s.scalars(select(schema.Contact).order_by(schema.Contact.position)).all()
        assert [(c.id, c.phone, c.notify) for c in rows] == [
            (ids["+8613800000009"], "+8613800000009", True),
            (ids["+61400000001"], "+61400000001", True),
        ]


def test_a_contact_may_hold_a_key_and_the_export_says_so(sessions, example, write):
    from registry.edit import export_registry

    zhang = by_id(example["residents"], "r-zhang")
    zhang["contacts"].append({"name": "李阿姨（邻居）", "phone": "+8613800000009", "has_key": True})
    import_registry(sessions, write(example))
    with sessions() as s:
        assert {c.phone: c.has_key for c in s.scalars(select(schema.Contact))} == {
            "+61400000001": False,
            "+8613800000009": True,
        }
        exported = by_id(export_registry(s)["residents"], "r-zhang")["contacts"]
    assert exported[1] == {"name": "李阿姨（邻居）", "phone": "+8613800000009", "notify": False, "has_key": True}
    assert "has_key" not in exported[0]  # said only of those who hold one
    zhang["contacts"][1]["has_key"] = False  # the key handed back
    assert vars(import_registry(sessions, write(example)).tables["contacts"])["updated"] == 1
    zhang["contacts"][1]["has_key"] = "perhaps"
    with pytest.raises(RegistryError, match="has_key"):
        import_registry(sessions, write(example))


HEALTH = {
    "conditions": "高血压、糖尿病",
    "allergies": "青霉素",
    "medicines": "硝苯地平 每日一次",
    "mobility": "wheelchair",
    "hospital": "浙江省人民医院",
    "needs": "助餐、助浴",
}


def test_the_health_fields_are_stored_one_each_and_exported_back(sessions, example, write):
    from registry.edit import export_registry

    by_id(example["residents"], "r-zhang").update(HEALTH)
    import_registry(sessions, write(example))
    with sessions() as s:
        zhang = s.get(schema.Resident, "r-zhang")
        assert {k: getattr(zhang, k) for k in HEALTH} == HEALTH
        assert zhang.medical_notes == "高血压；青霉素过敏"  # the other notes, as before
        liu = s.get(schema.Resident, "r-liu")  # none given: not on file
        assert (liu.conditions, liu.allergies, liu.medicines, liu.mobility, liu.hospital, liu.needs) == (
            *("",) * 3,
            None,
            "",
            "",
        )
        exported = export_registry(s)["residents"]
    assert {k: by_id(exported, "r-zhang")[k] for k in HEALTH} == HEALTH
    assert "mobility" not in by_id(exported, "r-liu")  # as care_level: said only when known
    assert import_registry(sessions, write(example)).changed == 0
    by_id(example["residents"], "r-zhang")["mobility"] = "bedridden"
    assert import_registry(sessions, write(example)).tables["residents"].updated == 1


def test_a_resident_left_out_keeps_contacts_and_devices(sessions, example, write):
    import_registry(sessions, write(example))
    before = dump(sessions)
    example["residents"] = [r for r in example["residents"] if r["id"] != "r-zhang"]
    example["devices"] = [d for d in example["devices"] if d["resident"] != "r-zhang"]

    import_registry(sessions, write(example))

    after = dump(sessions)
    assert after["contacts"] == before["contacts"] != []
    assert len(after["devices"]) == len(before["devices"])
    with sessions() as s:
        assert s.get(schema.Resident, "r-zhang").active is False
        assert s.get(schema.Device, "pgr-0001").active is False


def test_a_device_source_can_move_to_a_new_device(sessions, example, write):
    import_registry(sessions, write(example))
    by_id(example["devices"], "z2m-sos-liu")["id"] = "z2m-sos-liu-2"

    import_registry(sessions, write(example))

    with sessions() as s:
        old, new = s.get(schema.Device, "z2m-sos-liu"), s.get(schema.Device, "z2m-sos-liu-2")
        assert (old.active, old.source) == (False, None)
        assert (new.active, new.adapter, new.source) == (True, "zigbee2mqtt", "0x00158d0001a2b3c4")
    assert import_registry(sessions, write(example)).changed == 0


def test_a_roster_across_midnight_is_accepted(sessions, example, write):
    example["hotline"]["workday"] = [
        {"from": "22:00", "to": "06:00", "responder": "duty-he"},
        {"from": "06:00", "to": "22:00", "responder": "duty-chen"},
    ]

    import_registry(sessions, write(example))

    with sessions() as s:
        rows = s.scalars(
            select(schema.RosterShift)
            .where(schema.RosterShift.day_kind == "workday")
            .order_by(schema.RosterShift.position)
        ).all()
        assert [(r.start, r.end, r.responder_id) for r in rows] == [
            ("22:00", "06:00", "duty-he"),
            ("06:00", "22:00", "duty-chen"),
        ]


def test_a_minimal_registry_without_hotline_is_accepted(sessions, write):
    doc = {
        "responders": [{"id": "m", "name": "王芳", "phone": "+8613900000004"}],
        "communities": [{"id": "c", "name": "社区", "mediator": "m"}],
        "escalation": {"tiers": [{"tier": "mediator", "channels": ["sms"], "timeout": "1h30m"}]},
    }

    import_registry(sessions, write(doc))

    with sessions() as s:
        assert s.scalars(select(schema.RosterShift)).all() == []
        assert s.get(schema.EscalationTier, 0).timeout_s == 5400
        assert s.get(schema.Community, "c").timezone == "Asia/Shanghai"


# --- mistakes -----------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict], None]:
    """A mutation of the example: `residents[r-zhang].building` style paths, value None deletes."""

    def mutate(doc: dict) -> None:
        node: Any = doc
        parts = path.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            node = (
                node[int(part)]
                if isinstance(node, list) and part.isdigit()
                else by_id(node, part)
                if isinstance(node, list)
                else node[part]
            )
        if value is None:
            del node[parts[-1]]
        else:
            node[parts[-1]] = value

    return mutate


def _append(section: str, entry: dict) -> Callable[[dict], None]:
    return lambda doc: doc[section].append(entry)


MISTAKES: list[tuple[str, list[Callable[[dict], None]] | str, list[str]]] = [
    (
        "unknown building",
        [_set("residents[r-zhang].building", "wulin-9")],
        ["residents[r-zhang].building: unknown building 'wulin-9'"],
    ),
    (
        "bad phone",
        [_set("responders[pm-li].phone", "+86139")],
        ["responders[pm-li].phone: not an E.164 number '+86139'"],
    ),
    (
        "phone not in E.164 form",
        [_set("residents[r-zhang].contacts[0].phone", "0400 000 001")],
        ["residents[r-zhang].contacts[0].phone: not an E.164 number '0400 000 001'"],
    ),
    (
        "duplicate id",
        [_append("responders", {"id": "pm-li", "name": "李二", "phone": "+8613900000011"})],
        ["duplicate id 'pm-li' in responders"],
    ),
    (
        "duplicate building across communities",
        [_append("communities", {"id": "other", "name": "别的社区", "buildings": [{"id": "wulin-3", "name": "x"}]})],
        ["duplicate id 'wulin-3' in buildings"],
    ),
    (
        "bad tier timeout",
        [_set("escalation.tiers[1].timeout", "2x")],
        ["escalation.tiers[1].timeout: bad duration '2x'"],
    ),
    (
        "zero duration",
        [_set("escalation.ack_expiry", "0s")],
        ["escalation.ack_expiry: bad duration '0s' (must be more than 0s and fit in 68 years)"],
    ),
    (
        "bare number for a duration",
        [_set("devices[pgr-0001].heartbeat", 600)],
        ["devices[pgr-0001].heartbeat: bad duration '600'"],
    ),
    (
        "roster gap",
        [_set("hotline.workday[0].to", "12:00"), _set("hotline.workday[1].from", "13:00")],
        ["hotline.workday: roster gap 12:00–13:00 (nobody on duty)"],
    ),
    (
        "roster gap across midnight",
        [_set("hotline.weekend", [{"from": "06:00", "to": "22:00", "responder": "duty-he"}])],
        ["hotline.weekend: roster gap 22:00–06:00 (nobody on duty)"],
    ),
    (
        "kind of day without shifts",
        [_set("hotline.holiday", None)],
        ["hotline.holiday: no shifts (the hotline must always be staffed)"],
    ),
    (
        "hotline tier without a hotline",
        [_set("hotline", None)],
        ["hotline: missing, but escalation has a 'hotline' tier (the hotline must always be staffed)"],
    ),
    (
        "empty shift",
        [_set("hotline.weekend[0].to", "00:00")],
        ["hotline.weekend[0].to: shift from 00:00 to 00:00 is empty (a whole day is 00:00 to 24:00)"],
    ),
    ("bad shift time", [_set("hotline.workday[0].from", "8:00")], ["hotline.workday[0].from: bad time '8:00' (HH:MM)"]),
    (
        "unknown roster responder",
        [_set("hotline.weekend[0].responder", "duty-x")],
        ["hotline.weekend[0].responder: unknown responder 'duty-x'"],
    ),
    (
        "unknown party member",
        [_set("communities[tianshui-wulin].buildings[wulin-3].party_members", ["pm-li", "pm-x"])],
        ["communities[tianshui-wulin].buildings[wulin-3].party_members: unknown responder 'pm-x'"],
    ),
    (
        "party member twice",
        [_set("communities[tianshui-wulin].buildings[wulin-5].party_members", ["pm-sun", "pm-sun"])],
        ["communities[tianshui-wulin].buildings[wulin-5].party_members: 'pm-sun' is listed twice"],
    ),
    (
        "unknown mediator",
        [_set("communities[tianshui-wulin].mediator", "med-x")],
        ["communities[tianshui-wulin].mediator: unknown responder 'med-x'"],
    ),
    (
        "unknown time zone",
        [_set("communities[tianshui-wulin].timezone", "Asia/Beijing")],
        ["communities[tianshui-wulin].timezone: unknown time zone 'Asia/Beijing'"],
    ),
    (
        "unknown resident of a device",
        [_set("devices[pgr-0001].resident", "r-x")],
        ["devices[pgr-0001].resident: unknown resident 'r-x'"],
    ),
    (
        "bad device kind",
        [_set("devices[pgr-0001].kind", "watch")],
        ["devices[pgr-0001].kind: input should be 'pager', 'pull_cord' or 'fall_detector'"],
    ),
    (
        "adapter without source",
        [_set("devices[z2m-sos-liu].source", None)],
        ["devices[z2m-sos-liu].source: required for adapter 'zigbee2mqtt'"],
    ),
    (
        "same adapter source twice",
        [_append("devices", {"id": "z2m-2", "adapter": "zigbee2mqtt", "source": "0x00158d0001a2b3c4"})],
        ["devices[z2m-2].source: zigbee2mqtt source '0x00158d0001a2b3c4' is already device 'z2m-sos-liu'"],
    ),
    (
        "contact phone twice",
        [lambda d: by_id(d["residents"], "r-zhang")["contacts"].append({"name": "x", "phone": "+61400000001"})],
        ["residents[r-zhang].contacts[1].phone: '+61400000001' is already a contact"],
    ),
    (
        "responder phone twice",
        [_set("responders[pm-zhao].phone", "+8613900000001")],
        ["responders[pm-zhao].phone: '+8613900000001' is already responder 'pm-li'"],
    ),
    (
        "bad channel",
        [_set("escalation.tiers[0].channels", ["sms", "fax"])],
        [
            "escalation.tiers[0].channels: channel 'fax': use one of sms, voice, twilio_sms, twilio_voice, aliyun_sms, aliyun_voice, wecom_card"
        ],
    ),
    (
        "no channel",
        [_set("escalation.tiers[0].channels", [])],
        [
            "escalation.tiers[0].channels: at least one of sms, voice, twilio_sms, twilio_voice, aliyun_sms, aliyun_voice, wecom_card"
        ],
    ),
    (
        "a responder's channel its provider does not carry",
        [_set("responders[pm-li].channels", ["aliyun_sms", "twilio_fax"])],
        ["responders[pm-li].channels: channel 'twilio_fax': twilio carries sms, voice only"],
    ),
    (
        "a responder's channel twice",
        [_set("responders[pm-li].channels", ["voice", "voice"])],
        ["responders[pm-li].channels: a channel is listed twice in ['voice', 'voice']"],
    ),
    (
        "bad tier",
        [_set("escalation.tiers[2].tier", "police")],
        ["escalation.tiers[2].tier: input should be 'building', 'mediator' or 'hotline'"],
    ),
    (
        "bad check-in deadline",
        [_set("residents[r-zhang].checkin.deadline", "25:00")],
        ["residents[r-zhang].checkin.deadline: bad time '25:00' (HH:MM)"],
    ),
    (
        "bad mobility",
        [_set("residents[r-zhang].mobility", "crawls")],
        ["residents[r-zhang].mobility: input should be 'walks', 'walks_with_aid', 'wheelchair' or 'bedridden'"],
    ),
    (
        "hospital name too long",
        [_set("residents[r-zhang].hospital", "医" * 201)],
        ["residents[r-zhang].hospital: string should have at most 200 characters"],
    ),
    ("misspelt field", [_set("devices[pgr-0001].hearbeat", "10m")], ["devices[pgr-0001].hearbeat: unknown field"]),
    ("missing field", [_set("residents[r-liu].name", None)], ["residents[r-liu].name: required"]),
    ("unknown section", [_set("resident", [])], ["unknown section 'resident'"]),
    ("no escalation", [_set("escalation", None)], ["escalation: required (the tiers to notify and their timeouts)"]),
    (
        "every problem at once, cascades suppressed",
        [
            _set("responders[pm-li].phone", "+86139"),
            _set("residents[r-liu].building", "wulin-9"),
            _set("escalation.tiers[1].timeout", "2x"),
        ],
        [
            "responders[pm-li].phone: not an E.164 number '+86139'",
            "escalation.tiers[1].timeout: bad duration '2x'",
            "residents[r-liu].building: unknown building 'wulin-9'",
        ],
    ),
    (
        "YAML syntax error",
        "residents:\n  - id: r-zhang\n    name: [张秀英\n",
        ["YAML syntax error at line 4, column 1: expected ',' or ']', but got '<stream end>'"],
    ),
    (
        "YAML duplicate key",
        "escalation:\n  ack_expiry: 24h\n  ack_expiry: 12h\n",
        ["YAML syntax error at line 3, column 3: duplicate key 'ack_expiry'"],
    ),
    (
        "top level is a list",
        "- id: r-zhang\n",
        [
            "top level: expected a mapping of sections (communities, residents, devices, responders, hotline, "
            "escalation, calendar), got a list"
        ],
    ),
    ("empty file", "", ["the file is empty"]),
]


@pytest.mark.parametrize("mutations, expected", [pytest.param(m, e, id=name) for name, m, e in MISTAKES])
def test_a_mistake_is_named_and_nothing_changes(sessions, example, example_registry, write, mutations, expected):
    import_registry(sessions, example_registry)
    before = dump(sessions)
    if isinstance(mutations, str):
        path = write(mutations)
    else:
        for mutate in mutations:
            mutate(example)
        path = write(example)

    with pytest.raises(RegistryError) as caught:
        import_registry(sessions, path)

    assert caught.value.problems == expected
    assert all(p in str(caught.value) for p in expected)
    assert dump(sessions) == before


def test_a_document_built_in_code_is_cross_checked_too(sessions, example_registry):
    doc = load_registry_file(example_registry)
    broken = RegistryDoc(**{**dict(doc), "responders": [r for r in doc.responders if r.id != "med-wang"]})

    with pytest.raises(RegistryError) as caught:
        import_registry(sessions, broken)

    assert caught.value.problems == ["communities[tianshui-wulin].mediator: unknown responder 'med-wang'"]
    assert dump(sessions) == {m.__tablename__: [] for m in REGISTRY_TABLES}


def test_a_missing_file_is_a_registry_error(tmp_path):
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, seconds", [("90s", 90), ("2m", 120), ("24h", 86400), ("1h30m", 5400), ("1h0m5s", 3605)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "2x", "m", "1.5h", "30m1h", " 2m", "0s", 120, None])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


def test_yaml_keeps_hex_names_times_and_language_codes_as_text():
    assert read_yaml("source: 0x00ab\nto: 20:00\nlanguage: no\nn: 17\nb: true\np: +8613800000001") == {
        "source": "0x00ab",
        "to": "20:00",
        "language": "no",
        "n": 17,
        "b": True,
        "p": "+8613800000001",
    }
