"""A flood of malformed messages crowds out no alarm: the real gateway, real Mosquitto, a real database.

Not a timing test (scripts/bench_flood.py measures the latency): it waits, with a deadline, for the
outcome, and checks that every malformed message ended as exactly one rejection.
"""

from __future__ import annotations

import pytest

from core.schema import Device, Event, Rejection
from devices.protocol import Topics
from tests.support.gateway import count, running_gateway
from tests.support.mqtt_peer import Peer
from tests.support.waiting import eventually

T = Topics("jinqiao")
MALFORMED = [b"{nope", b"[" * 3000, b"[1,2]", b'{"id":"f","type":"party"}', b'{"id":"g","type":"alarm","battery":999}']
FLOOD = 2000


@pytest.fixture
def gateway(engine, mosquitto, sessions):
    with sessions.begin() as s:
        s.add_all([Device(id=f"noisy-{i}", kind="pager") for i in range(3)] + [Device(id="real-1", kind="pager")])
    with running_gateway(engine, mosquitto.url, "flood") as gw:
        yield gw


def test_during_a_flood_of_malformed_messages_an_alarm_is_received_and_every_bad_one_is_a_rejection(
    gateway, engine, mosquitto
):
    flooder = Peer(mosquitto.port, "flooder")
    device = Peer(mosquitto.port, "real-1", subscribe=[T.feedback("real-1")])
    try:
        for i in range(FLOOD // 2):
            flooder.client.publish(T.event(f"noisy-{i % 3}"), MALFORMED[i % len(MALFORMED)], qos=1)
        device.publish(T.event("real-1"), {"id": "help", "type": "alarm"})
        for i in range(FLOOD // 2, FLOOD):
            flooder.client.publish(T.event(f"noisy-{i % 3}"), MALFORMED[i % len(MALFORMED)], qos=1)
        device.wait_for(
            lambda p: [f for f in p.feedback() if f["ref"] == "help" and f["state"] == "received"], timeout=60
        )
        assert count(engine, Event, Event.event_id == "help", Event.device_id == "real-1") == 1
        eventually(lambda: count(engine, Rejection) >= FLOOD, 60, "every malformed message a rejection")
        # a marker behind the flood: once it is stored, nothing of the flood is still on its way
        device.publish(T.event("real-1"), {"id": "marker", "type": "heartbeat"})
        device.wait_for(lambda p: [f for f in p.feedback() if f["ref"] == "marker"], timeout=60)
        assert count(engine, Rejection) == FLOOD
        assert count(engine, Rejection, Rejection.device_id.like("noisy-%")) == FLOOD
        assert count(engine, Event) == 2
        assert gateway.healthy() and gateway.ingest.pending() == 0
    finally:
        flooder.close()
        device.close()
