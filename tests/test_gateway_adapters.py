"""Commodity buttons through the real gateway: stored once, presence recorded, nothing sent back."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from core.schema import Device, Event, PresenceChange, Rejection
from devices import adapters
from devices.protocol import Topics
from gateway.ingest import Ingest
from gateway.mqtt_link import Inbound
from tests.support.gateway import count, running_gateway
from tests.support.mqtt_peer import Peer
from tests.support.waiting import eventually


@pytest.fixture
def registered(sessions):
    with sessions.begin() as s:
        s.add_all(
            [
                Device(id="z-sos", adapter="zigbee2mqtt", source="sos-liu"),
                Device(id="sh-1", adapter="shelly", source="shellybutton1-A4CF12F45301"),
                Device(id="ta-1", adapter="tasmota", source="tasmota_5A1B2C"),
                Device(id="z-old", adapter="zigbee2mqtt", source="retired", active=False),
            ]
        )


@pytest.fixture
def gateway(engine, mosquitto, registered):
    with running_gateway(engine, mosquitto.url, "adapters") as gw:
        yield gw


@pytest.fixture
def peer(mosquitto):
    p = Peer(mosquitto.port, "buttons", subscribe=["#"])
    yield p
    p.close()


def events(engine) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        return [(r.device_id, r.type) for r in conn.execute(select(Event).order_by(Event.id))]


def settle(peer, engine, n_events: int, n_rejections: int = 0) -> None:
    eventually(lambda: count(engine, Event) >= n_events and count(engine, Rejection) >= n_rejections)


def test_each_kind_of_button_raises_its_events_once(gateway, peer, engine):
    z2m = json.dumps({"action": "emergency", "battery": 90, "linkquality": 120})
    peer.publish("zigbee2mqtt/sos-liu", z2m)
    peer.publish("zigbee2mqtt/sos-liu", z2m)  # Zigbee2MQTT publishing the same state again
    peer.publish("zigbee2mqtt/sos-liu", json.dumps({"action": "", "battery": 90, "linkquality": 120}))
    peer.publish("shellies/shellybutton1-A4CF12F45301/input_event/0", '{"event":"S","event_cnt":5}')
    peer.publish("shellies/shellybutton1-A4CF12F45301/input_event/0", '{"event":"S","event_cnt":5}')  # repeated
    peer.publish("shellies/shellybutton1-A4CF12F45301/input_event/0", '{"event":"SS","event_cnt":6}')
    peer.publish("stat/tasmota_5A1B2C/RESULT", '{"Button1":{"Action":"SINGLE"}}')
    peer.publish("tele/tasmota_5A1B2C/STATE", '{"Time":"2026-12-01T10:00:00","UptimeSec":300}')
    settle(peer, engine, 6)
    # a marker behind everything, so nothing is still in flight when we count
    peer.publish("zigbee2mqtt/sos-liu", json.dumps({"action": "double"}))
    settle(peer, engine, 7)
    assert events(engine) == [
        ("z-sos", "alarm"),
        ("z-sos", "heartbeat"),
        ("sh-1", "alarm"),
        ("sh-1", "checkin"),
        ("ta-1", "alarm"),
        ("ta-1", "heartbeat"),
        ("z-sos", "checkin"),
    ]
    with engine.connect() as conn:
        assert conn.scalar(select(Device.last_seen_at).where(Device.id == "ta-1")) is not None
        stored = conn.scalar(select(Event.payload).where(Event.device_id == "z-sos", Event.type == "alarm"))
    assert json.loads(stored)["action"] == "emergency"  # the project's own payload is kept
    assert count(engine, Rejection) == 0
    # these buttons cannot show feedback: nothing is published towards them or under our root
    assert not [t for t, _, _ in peer.messages if t.startswith("jinqiao/")]


def test_availability_is_presence(gateway, peer, engine):
    peer.publish("zigbee2mqtt/sos-liu/availability", '{"state":"offline"}', retain=True)
    peer.publish("shellies/shellybutton1-A4CF12F45301/online", "false", retain=True)
    peer.publish("tele/tasmota_5A1B2C/LWT", "Online", retain=True)
    eventually(lambda: count(engine, PresenceChange) == 3)
    with engine.connect() as conn:
        assert dict(conn.execute(select(Device.id, Device.status).where(Device.adapter != "native")).all()) == {
            "z-sos": "offline",
            "sh-1": "offline",
            "ta-1": "online",
            "z-old": None,
        }
    for topic in (
        "zigbee2mqtt/sos-liu/availability",
        "shellies/shellybutton1-A4CF12F45301/online",
        "tele/tasmota_5A1B2C/LWT",
    ):
        peer.publish(topic, b"", retain=True)


@pytest.mark.parametrize(
    "topic,payload,reason,device",
    [
        ("zigbee2mqtt/stranger", '{"action":"single"}', "unregistered", None),
        ("zigbee2mqtt/retired", '{"action":"single"}', "unregistered", None),  # deactivated
        ("shellies/nobody/input_event/0", '{"event":"S","event_cnt":1}', "unregistered", None),
        ("zigbee2mqtt/sos-liu", "{broken", "not_json", "z-sos"),
        ("zigbee2mqtt/sos-liu", '{"action":"shake"}', "unknown_action", "z-sos"),
        ("shellies/shellybutton1-A4CF12F45301/input_event/0", '{"event":"S"}', "bad_event_cnt", "sh-1"),
        ("stat/tasmota_5A1B2C/RESULT", '{"POWER":"ON"}', "no_action", "ta-1"),
        ("tele/tasmota_5A1B2C/LWT", "sideways", "bad_status", "ta-1"),
    ],
)
def test_bad_or_unknown_button_messages_are_recorded_and_block_nothing(
    gateway, peer, engine, topic, payload, reason, device
):
    peer.publish(topic, payload)
    peer.publish("stat/tasmota_5A1B2C/RESULT", '{"Button1":{"Action":"SINGLE"}}')
    settle(peer, engine, 1, 1)
    with engine.connect() as conn:
        rows = conn.execute(select(Rejection)).all()
    assert [(r.reason, r.device_id, r.topic) for r in rows] == [(reason, device, topic)]
    assert rows[0].payload == payload.encode() and rows[0].detail
    assert events(engine) == [("ta-1", "alarm")]


def test_a_nested_button_payload_is_one_rejection_and_the_press_after_it_flows(gateway, peer, engine):
    peer.publish("zigbee2mqtt/sos-liu", b"[" * 3000)  # made the adapter raise RecursionError
    peer.publish("zigbee2mqtt/sos-liu/availability", b"{" * 3000)
    peer.publish("stat/tasmota_5A1B2C/RESULT", '{"Button1":{"Action":"SINGLE"}}')
    settle(peer, engine, 1, 2)
    with engine.connect() as conn:
        rows = conn.execute(select(Rejection).order_by(Rejection.id)).all()
    assert [(r.reason, r.device_id) for r in rows] == [("too_deep", "z-sos"), ("bad_status", "z-sos")]
    assert events(engine) == [("ta-1", "alarm")]
    assert gateway.healthy()


def test_whatever_an_adapter_raises_rejects_that_message_alone(engine, registered):
    def fragile(topic, payload, retained, now, topics):
        if payload == b"boom":
            raise KeyError("the adapter gave up")
        return adapters.parse(topic, payload, retained, now, topics)

    acked = []
    link = type("Link", (), {"publish": lambda self, *a, **k: None, "ack": lambda self, m: acked.append(m.mid)})()
    ingest = Ingest(engine, Topics("jinqiao"), link, adapt=fragile)
    bad = Inbound("zigbee2mqtt/sos-liu", b"boom", False, 1, 1, 0)
    good = Inbound("stat/tasmota_5A1B2C/RESULT", b'{"Button1":{"Action":"SINGLE"}}', False, 1, 2, 0)
    assert ingest.process_until_stored([bad, good], threading.Event())
    with engine.connect() as conn:
        assert [(r.reason, r.topic) for r in conn.execute(select(Rejection))] == [
            ("adapter_error", "zigbee2mqtt/sos-liu")
        ]
    assert events(engine) == [("ta-1", "alarm")]
    assert sorted(acked) == [1, 2]
