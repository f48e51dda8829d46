"""The gateway against a real Mosquitto and a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from core.schema import Device, Event, PresenceChange, Rejection
from devices.protocol import Topics
from gateway.ingest import Ingest
from gateway.mqtt_link import Inbound
from gateway.service import Gateway
from gateway.sorting import classify
from tests.support.gateway import count, running_gateway
from tests.support.mqtt_peer import Peer

T = Topics("jinqiao")


@pytest.fixture
def registered(sessions):
    with sessions.begin() as s:
        s.add_all(
            [
                Device(id="pgr-1", kind="pager"),
                Device(id="pgr-2", kind="pager"),
                Device(id="pgr-off", kind="pager", active=False),
            ]
        )


@pytest.fixture
def gateway(engine, mosquitto, registered):
    with running_gateway(engine, mosquitto.url, "test") as gw:
        yield gw


@pytest.fixture
def peer(mosquitto):
    p = Peer(mosquitto.port, "peer", subscribe=["jinqiao/v1/dev/+/feedback"])
    yield p
    p.close()


def rejections_counted(reason: str) -> float:
    return REGISTRY.get_sample_value("jinqiao_gateway_rejections_total", {"reason": reason}) or 0.0


def received(ref):
    return lambda p: [f for f in p.feedback() if f["ref"] == ref and f["state"] == "received"]


def test_a_press_is_stored_once_and_told_received(gateway, peer, engine):
    for _ in range(5):  # a device that missed the feedback sends the same id again
        peer.publish(T.event("pgr-1"), {"id": "e1", "type": "alarm", "ts": "2026-11-22T03:00:00Z", "battery": 80})
    peer.wait_for(lambda p: len(received("e1")(p)) == 5)
    assert count(engine, Event) == 1
    with engine.connect() as conn:
        row = conn.execute(select(Event)).one()
    assert (row.device_id, row.event_id, row.type, row.battery) == ("pgr-1", "e1", "alarm", 80)
    assert row.device_ts.isoformat() == "2026-11-22T03:00:00+00:00"
    assert row.processed_at is None  # left for the dispatcher
    fb = received("e1")(peer)[0]
    assert fb["alert"] is None and fb["ts"].endswith("Z")


def test_same_event_id_from_two_devices_is_two_events(gateway, peer, engine):
    peer.publish(T.event("pgr-1"), {"id": "same", "type": "alarm"})
    peer.publish(T.event("pgr-2"), {"id": "same", "type": "alarm"})
    peer.wait_for(lambda p: len(received("same")(p)) == 2)
    assert count(engine, Event) == 2


BAD_INPUTS = [
    ("not_json", "pgr-1", b"{nope", False),
    ("not_json", "pgr-1", b"\xff\xfe\x00", False),
    ("too_large", "pgr-1", json.dumps({"id": "big", "type": "alarm", "pad": "x" * 5000}).encode(), False),
    ("not_object", "pgr-1", b"[1,2]", False),
    ("bad_id", "pgr-1", b'{"id": 7, "type": "alarm"}', False),
    ("bad_id", "pgr-1", b'{"id": "", "type": "alarm"}', False),
    ("bad_type", "pgr-1", b'{"id": "a", "type": 3}', False),
    ("unknown_type", "pgr-1", b'{"id": "a", "type": "party"}', False),
    ("bad_ts", "pgr-1", b'{"id": "a", "type": "alarm", "ts": "yesterday"}', False),
    ("bad_battery", "pgr-1", b'{"id": "a", "type": "alarm", "battery": 140}', False),
    ("bad_rssi", "pgr-1", b'{"id": "a", "type": "alarm", "rssi": "strong"}', False),
    ("bad_rssi", "pgr-1", b'{"id": "a", "type": "alarm", "rssi": 99999999999999999999999}', False),
    ("bad_id", "pgr-1", b'{"id": "a\\u0000b", "type": "alarm"}', False),
    ("unregistered", "ghost-9", b'{"id": "a", "type": "alarm"}', False),
    ("unregistered", "pgr-off", b'{"id": "a", "type": "alarm"}', False),
    ("retained", "pgr-1", b'{"id": "old", "type": "alarm"}', True),
]


@pytest.mark.parametrize(
    "reason,device,payload,retain", BAD_INPUTS, ids=[f"{r}-{i}" for i, (r, *_) in enumerate(BAD_INPUTS)]
)
def test_bad_input_is_recorded_answered_and_does_not_block(gateway, peer, engine, reason, device, payload, retain):
    peer.publish(T.event(device), payload, retain=retain)
    peer.publish(T.event("pgr-1"), {"id": "after", "type": "alarm"})
    peer.wait_for(received("after"))
    peer.wait_for(lambda p: [f for f in p.feedback() if f["state"] == "rejected"])
    with engine.connect() as conn:
        rows = conn.execute(select(Rejection)).all()
    assert [r.reason for r in rows] == [reason]
    assert rows[0].payload == payload[:65536] and rows[0].size == len(payload)
    assert count(engine, Event, Event.event_id == "after") == 1
    assert count(engine, Event) == 1  # the bad one stored nothing
    rejected = [f for f in peer.feedback() if f["state"] == "rejected"]
    assert rejected[0]["reason"] == reason
    if retain:
        peer.publish(T.event(device), b"", retain=True)  # clear the retained message


def test_presence_is_recorded_with_its_time_and_replays_are_not_news(gateway, peer, engine, mosquitto):
    peer.publish(T.status("pgr-1"), "online", retain=True)
    peer.publish(T.status("pgr-1"), "offline", retain=True)
    peer.publish(T.status("pgr-1"), "sideways")
    peer.wait_for(lambda p: count(engine, Rejection) == 1 and count(engine, PresenceChange) == 2 or None)
    with engine.connect() as conn:
        dev = conn.execute(select(Device).where(Device.id == "pgr-1")).one()
        assert dev.status == "offline" and dev.status_at is not None
        assert conn.scalar(select(Rejection.reason)) == "bad_status"
    # the gateway reconnects: the broker replays the retained `offline`, which is not a change
    gateway.link.stop()
    gateway.link.start()
    assert gateway.link.wait_connected(10)
    peer.publish(T.event("pgr-1"), {"id": "mark", "type": "heartbeat"})
    peer.wait_for(received("mark"))
    assert count(engine, PresenceChange) == 2


def test_an_event_published_while_the_gateway_is_down_arrives_when_it_returns(engine, mosquitto, registered, peer):
    gw = Gateway(engine, mosquitto.url, "jinqiao", "durable")
    gw.start()
    assert gw.link.wait_connected(10)
    gw.stop()  # its session stays on the broker
    for i in range(50):
        peer.publish(T.event("pgr-1"), {"id": f"while-down-{i}", "type": "alarm"})
    assert count(engine, Event) == 0
    gw = Gateway(engine, mosquitto.url, "jinqiao", "durable")
    gw.start()
    try:
        peer.wait_for(lambda p: len([f for f in p.feedback() if f["state"] == "received"]) >= 50, timeout=15)
        assert count(engine, Event) == 50
    finally:
        gw.stop()


class RecordingLink:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self.published: list[tuple[str, bytes]] = []

    def publish(self, topic, payload, qos=1, retain=False, reply_to=None):
        self.published.append((topic, payload))

    def ack(self, message):
        self.acked.append(message.mid)


def test_a_batch_that_cannot_be_stored_is_retried_and_never_acknowledged_first(engine, registered):
    link = RecordingLink()
    ingest = Ingest(engine, T, link)
    msg = Inbound(T.event("pgr-1"), b'{"id": "x1", "type": "alarm"}', False, 1, 42, 0)
    with engine.begin() as conn:  # the database loses its events table
        conn.exec_driver_sql("ALTER TABLE events RENAME TO events_away")
    stop = threading.Event()
    worker = threading.Thread(target=ingest.process_until_stored, args=([msg], stop))
    worker.start()
    worker.join(0.8)
    assert worker.is_alive() and link.acked == [] and link.published == []
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE events_away RENAME TO events")
    worker.join(10)
    assert not worker.is_alive()
    assert link.acked == [42]
    assert json.loads(link.published[0][1])["state"] == "received"
    assert count(engine, Event) == 1


def test_a_deeply_nested_payload_is_one_rejection_and_the_alarm_after_it_flows(gateway, peer, engine):
    nested = b"[" * 3000  # far below the 4096-byte limit, far deeper than Python's recursion limit
    peer.publish(T.event("pgr-1"), nested)
    peer.publish(T.event("pgr-1"), {"id": "after-nested", "type": "alarm"})
    peer.wait_for(received("after-nested"))
    peer.wait_for(lambda p: [f for f in p.feedback() if f["state"] == "rejected"])
    with engine.connect() as conn:
        rows = conn.execute(select(Rejection)).all()
    assert [(r.reason, r.device_id, r.payload) for r in rows] == [("too_deep", "pgr-1", nested)]
    assert count(engine, Event, Event.event_id == "after-nested", Event.type == "alarm") == 1
    assert gateway.healthy()  # the writer thread lives on


def test_whatever_the_parser_raises_rejects_that_message_alone(engine, registered):
    def fragile(message, topics):
        if message.payload == b"boom":
            raise MemoryError("the parser gave up")  # any exception at all, not only ValueError
        return classify(message, topics)

    link = RecordingLink()
    counted = rejections_counted("unparseable")
    ingest = Ingest(engine, T, link, parse=fragile)
    bad = Inbound(T.event("pgr-1"), b"boom", False, 1, 1, 0)
    good = Inbound(T.event("pgr-2"), b'{"id": "ok", "type": "alarm"}', False, 1, 2, 0)
    assert ingest.process_until_stored([bad, good], threading.Event())
    with engine.connect() as conn:
        rows = conn.execute(select(Rejection)).all()
    assert [(r.reason, r.device_id, r.payload) for r in rows] == [("unparseable", "pgr-1", b"boom")]
    assert "MemoryError" in rows[0].detail
    assert count(engine, Event, Event.event_id == "ok") == 1
    assert sorted(link.acked) == [1, 2]
    told = {t: json.loads(p) for t, p in link.published}
    assert told[T.feedback("pgr-1")]["state"] == "rejected" and told[T.feedback("pgr-1")]["reason"] == "unparseable"
    assert told[T.feedback("pgr-2")]["state"] == "received"
    assert rejections_counted("unparseable") == counted + 1


POISON = {  # a constraint the database enforces at insert time and the parser cannot know of
    "sqlite": [
        "CREATE TRIGGER poison BEFORE INSERT ON events WHEN NEW.event_id = 'poison' "
        "BEGIN SELECT RAISE(ABORT, 'poisoned value'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.event_id = 'poison' THEN "
        "RAISE EXCEPTION 'poisoned value' USING ERRCODE = 'check_violation'; END IF; RETURN NEW; END $$ "
        "LANGUAGE plpgsql",
        "CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()",
    ],
}


def test_one_event_the_database_refuses_is_a_rejection_and_the_rest_of_its_batch_is_stored(engine, registered):
    with engine.begin() as conn:
        for statement in POISON[engine.dialect.name]:
            conn.exec_driver_sql(statement)
    link = RecordingLink()
    counted = rejections_counted("store_failed")
    ingest = Ingest(engine, T, link)
    batch = [
        Inbound(T.event("pgr-1"), b'{"id": "before", "type": "alarm"}', False, 1, 1, 0),
        Inbound(T.event("pgr-1"), b'{"id": "poison", "type": "alarm"}', False, 1, 2, 0),
        Inbound(T.event("pgr-2"), b'{"id": "after", "type": "alarm"}', False, 1, 3, 0),
    ]
    done = []
    worker = threading.Thread(
        target=lambda: done.append(ingest.process_until_stored(batch, threading.Event())), daemon=True
    )
    worker.start()
    worker.join(20)
    assert not worker.is_alive() and done == [True]  # it does not retry for ever
    with engine.connect() as conn:
        assert sorted(conn.scalars(select(Event.event_id))) == ["after", "before"]
        rows = conn.execute(select(Rejection)).all()
    assert [(r.reason, r.device_id, r.event_id) for r in rows] == [("store_failed", "pgr-1", "poison")]
    assert "poisoned value" in rows[0].detail and rows[0].payload == batch[1].payload
    assert sorted(link.acked) == [1, 2, 3]
    told = [json.loads(p) for _, p in link.published]
    assert {(f["ref"], f["state"], f.get("reason")) for f in told} == {
        ("before", "received", None),
        ("poison", "rejected", "store_failed"),
        ("after", "received", None),
    }
    assert rejections_counted("store_failed") == counted + 1


def test_a_batch_answers_its_valid_events_before_its_rejections(engine, registered):
    link = RecordingLink()
    ingest = Ingest(engine, T, link)
    bad = [Inbound(T.event("pgr-1"), b"{nope", False, 1, mid, 0) for mid in (1, 2, 3)]
    good = Inbound(T.event("pgr-2"), b'{"id": "ok", "type": "alarm"}', False, 1, 4, 0)
    assert ingest.process_until_stored([*bad, good], threading.Event())
    assert link.acked == [4, 1, 2, 3]  # the alarm's commit and answer wait for no rejection
    told = [json.loads(p) for _, p in link.published]
    assert [f["state"] for f in told] == ["received", "rejected"]  # three identical answers: published once
    assert count(engine, Rejection) == 3 and count(engine, Event) == 1


def test_the_writer_outlives_a_registry_it_cannot_read_and_stores_once_it_can(engine, registered):
    link = RecordingLink()
    ingest = Ingest(engine, T, link)
    with engine.begin() as conn:  # the registry cannot be read: sorting a message fails
        conn.exec_driver_sql("ALTER TABLE devices RENAME TO devices_away")
    stop = threading.Event()
    writer = threading.Thread(target=ingest.run, args=(stop,), daemon=True)
    writer.start()
    try:
        ingest.submit(Inbound(T.event("pgr-1"), b'{"id": "r1", "type": "alarm"}', False, 1, 7, 0))
        writer.join(0.8)
        assert writer.is_alive() and link.acked == []
        with engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE devices_away RENAME TO devices")
        deadline = time.monotonic() + 15
        while link.acked != [7]:
            assert time.monotonic() < deadline and writer.is_alive()
            time.sleep(0.05)
        assert count(engine, Event, Event.event_id == "r1") == 1
    finally:
        stop.set()
        writer.join(10)
