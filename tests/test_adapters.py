"""The commodity buttons' messages, exactly as their projects document them, in our own terms."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from devices.adapters import DEDUPE_WINDOW_S, AdapterEvent, AdapterRejected, AdapterStatus, AdapterTopics, parse

NOW = datetime(2026, 12, 1, 2, 0, 30, tzinfo=timezone.utc)


def j(doc) -> bytes:
    return json.dumps(doc).encode()


EVENTS = [
    # topic, payload, (adapter, source, type, battery)
    (
        "zigbee2mqtt/sos-liu",
        j({"action": "emergency", "battery": 90, "linkquality": 120}),
        ("zigbee2mqtt", "sos-liu", "alarm", 90),
    ),
    (
        "zigbee2mqtt/0x00158d0001a2b3c4",
        j({"action": "single", "battery": 55, "linkquality": 80}),
        ("zigbee2mqtt", "0x00158d0001a2b3c4", "alarm", 55),
    ),
    ("zigbee2mqtt/aqara", j({"action": "double", "battery": 55}), ("zigbee2mqtt", "aqara", "checkin", 55)),
    ("zigbee2mqtt/aqara", j({"action": "hold"}), ("zigbee2mqtt", "aqara", "cancel", None)),
    (
        "zigbee2mqtt/aqara",
        j({"action": "", "battery": 12, "linkquality": 70}),
        ("zigbee2mqtt", "aqara", "heartbeat", 12),
    ),
    ("zigbee2mqtt/aqara", j({"battery": 12.0, "linkquality": 70}), ("zigbee2mqtt", "aqara", "heartbeat", 12)),
    ("zigbee2mqtt/aqara", j({"action": "release"}), ("zigbee2mqtt", "aqara", "heartbeat", None)),
    (
        "shellies/shellybutton1-A4CF12F45301/input_event/0",
        j({"event": "S", "event_cnt": 7}),
        ("shelly", "shellybutton1-A4CF12F45301", "alarm", None),
    ),
    ("shellies/sb1/input_event/0", j({"event": "SS", "event_cnt": 8}), ("shelly", "sb1", "checkin", None)),
    ("shellies/sb1/input_event/0", j({"event": "L", "event_cnt": 9}), ("shelly", "sb1", "cancel", None)),
    ("shellies/sb1/sensor/battery", b"18", ("shelly", "sb1", "heartbeat", 18)),
    ("stat/tasmota_5A1B2C/RESULT", j({"Button1": {"Action": "SINGLE"}}), ("tasmota", "tasmota_5A1B2C", "alarm", None)),
    (
        "stat/tasmota_5A1B2C/RESULT",
        j({"Button2": {"Action": "DOUBLE"}}),
        ("tasmota", "tasmota_5A1B2C", "checkin", None),
    ),
    ("stat/tasmota_5A1B2C/RESULT", j({"Button1": {"Action": "HOLD"}}), ("tasmota", "tasmota_5A1B2C", "cancel", None)),
    (
        "tele/tasmota_5A1B2C/STATE",
        j({"Time": "2026-12-01T10:00:00", "UptimeSec": 300}),
        ("tasmota", "tasmota_5A1B2C", "heartbeat", None),
    ),
]


@pytest.mark.parametrize("topic,payload,expected", EVENTS)
def test_button_messages_become_events(topic, payload, expected):
    got = parse(topic, payload, False, NOW)
    assert isinstance(got, AdapterEvent)
    assert (got.adapter, got.source, got.type, got.battery) == expected
    assert 1 <= len(got.event_id) <= 64
    assert got.payload == payload.decode()


STATUSES = [
    ("zigbee2mqtt/aqara/availability", b'{"state":"online"}', ("zigbee2mqtt", "aqara", "online")),
    ("zigbee2mqtt/aqara/availability", b'{"state":"offline"}', ("zigbee2mqtt", "aqara", "offline")),
    ("zigbee2mqtt/aqara/availability", b"offline", ("zigbee2mqtt", "aqara", "offline")),  # before 1.30
    ("shellies/sb1/online", b"true", ("shelly", "sb1", "online")),
    ("shellies/sb1/online", b"false", ("shelly", "sb1", "offline")),
    ("tele/tasmota_5A1B2C/LWT", b"Online", ("tasmota", "tasmota_5A1B2C", "online")),
    ("tele/tasmota_5A1B2C/LWT", b"Offline", ("tasmota", "tasmota_5A1B2C", "offline")),
]


@pytest.mark.parametrize("topic,payload,expected", STATUSES)
def test_availability_messages_become_presence(topic, payload, expected):
    got = parse(topic, payload, True, NOW)  # these are retained by design
    assert isinstance(got, AdapterStatus)
    assert (got.adapter, got.source, got.status) == expected


BAD = [
    ("zigbee2mqtt/aqara", b"{nope", "not_json"),
    ("zigbee2mqtt/aqara", b"[1]", "not_object"),
    ("zigbee2mqtt/aqara", j({"action": "shake"}), "unknown_action"),
    ("zigbee2mqtt/aqara", j({"action": 3}), "bad_action"),
    ("zigbee2mqtt/aqara", j({"action": "single", "battery": 300}), "bad_battery"),
    ("zigbee2mqtt/aqara", j({"action": "single", "pad": "x" * 5000}), "too_large"),
    ("zigbee2mqtt/aqara/availability", b'{"state":"sleepy"}', "bad_status"),
    ("zigbee2mqtt/aqara/availability", b"{broken", "bad_status"),
    ("shellies/sb1/input_event/0", j({"event": "S"}), "bad_event_cnt"),
    ("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": -1}), "bad_event_cnt"),
    ("shellies/sb1/input_event/0", j({"event": "SSSS", "event_cnt": 3}), "unknown_action"),
    ("shellies/sb1/input_event/0", j({"event": 1, "event_cnt": 3}), "bad_action"),
    ("shellies/sb1/sensor/battery", b"full", "bad_battery"),
    ("shellies/sb1/sensor/battery", b"140", "bad_battery"),
    ("shellies/sb1/online", b"maybe", "bad_status"),
    ("stat/t1/RESULT", j({"POWER": "ON"}), "no_action"),
    ("stat/t1/RESULT", j({"Button1": {"Action": "CLEAR"}}), "no_action"),
    ("stat/t1/RESULT", j({"Button1": {"Action": "PENTA"}}), "unknown_action"),
    ("stat/t1/RESULT", j({"Button1": "SINGLE"}), "bad_action"),
    ("tele/t1/LWT", b"online", "bad_status"),
    ("tele/t1/STATE", b"\xff", "not_json"),
    # found by tests/test_protocol_properties.py: each raised, or gave an id longer than its column
    ("zigbee2mqtt/aqara", b"[" * 3000, "too_deep"),
    ("stat/t1/RESULT", b'{"":' * 1000, "too_deep"),
    ("zigbee2mqtt/aqara/availability", b"{" * 3000, "bad_status"),
    ("zigbee2mqtt/aqara", j({"action": []}), "bad_action"),
    ("zigbee2mqtt/aqara", j({"action": {"press": 1}}), "bad_action"),
    ("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": 10**60}), "bad_event_cnt"),
]


@pytest.mark.parametrize("topic,payload,reason", BAD)
def test_bad_adapter_payloads_are_refused_with_a_reason(topic, payload, reason):
    got = parse(topic, payload, False, NOW)
    assert isinstance(got, AdapterRejected)
    assert got.reason == reason and got.detail
    assert got.source == topic.split("/")[1]


@pytest.mark.parametrize(
    "topic,payload",
    [
        ("zigbee2mqtt/aqara", j({"action": "single"})),
        ("zigbee2mqtt/aqara", j({"battery": 50})),
        ("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": 1})),
        ("shellies/sb1/sensor/battery", b"50"),
        ("stat/t1/RESULT", j({"Button1": {"Action": "SINGLE"}})),
        ("tele/t1/STATE", j({"UptimeSec": 3})),
    ],
)
def test_retained_button_messages_are_refused(topic, payload):
    got = parse(topic, payload, True, NOW)
    assert isinstance(got, AdapterRejected) and got.reason == "retained"


@pytest.mark.parametrize(
    "topic",
    [
        "zigbee2mqtt/bridge/state",
        "zigbee2mqtt/bridge",
        "zigbee2mqtt/a/set",
        "shellies/sb1/announce",
        "stat/t1/POWER",
        "cmnd/t1/POWER",
        "other/x",
        "tele/t1/SENSOR",
    ],
)
def test_other_topics_are_not_adapter_messages(topic):
    assert parse(topic, b"{}", False, NOW) is None


def test_zigbee2mqtt_republishing_a_state_is_one_event_and_a_later_press_another():
    payload = j({"action": "single", "battery": 80, "linkquality": 100})
    first = parse("zigbee2mqtt/aqara", payload, False, NOW)
    again = parse("zigbee2mqtt/aqara", payload, False, NOW + timedelta(seconds=5))
    slot_start = NOW - timedelta(seconds=NOW.timestamp() % DEDUPE_WINDOW_S)
    later = parse("zigbee2mqtt/aqara", payload, False, slot_start + timedelta(seconds=DEDUPE_WINDOW_S))
    other = parse("zigbee2mqtt/other", payload, False, NOW)
    assert first.event_id == again.event_id
    assert later.event_id != first.event_id
    assert other.event_id != first.event_id


def test_shelly_event_id_is_its_counter_however_late_it_is_repeated():
    a = parse("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": 41}), False, NOW)
    b = parse("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": 41}), False, NOW + timedelta(hours=5))
    c = parse("shellies/sb1/input_event/0", j({"event": "S", "event_cnt": 42}), False, NOW)
    assert a.event_id == b.event_id == "shelly-cnt-41"
    assert c.event_id != a.event_id


def test_filters_cover_the_adapters_asked_for():
    t = AdapterTopics()
    assert t.filters(("shelly",)) == ["shellies/+/input_event/0", "shellies/+/sensor/battery", "shellies/+/online"]
    assert "zigbee2mqtt/+/availability" in t.filters() and "tele/+/LWT" in t.filters()
    assert t.filters(()) == []
