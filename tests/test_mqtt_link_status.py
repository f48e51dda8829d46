"""A broker that cannot be reached or is lost is logged at once with its reason, again every 30 s
while it lasts, and its return is logged too; the link's status says the same for /readyz."""

from __future__ import annotations

import time

from structlog.testing import capture_logs

from gateway.link_status import REMIND_S
from gateway.mqtt_link import BrokerAddress, MqttLink
from simulators.services import free_port
from tests.support.waiting import eventually


def link_to(url: str) -> MqttLink:
    return MqttLink(
        BrokerAddress.from_url(url),
        client_id=f"status-test-{free_port()}",
        subscriptions=["jinqiao/v1/dev/+/event"],
        on_message=lambda m: None,
    )


def named(logs: list[dict], event: str) -> list[dict]:
    return [e for e in logs if e["event"] == event]


def test_an_unreachable_broker_is_logged_at_once_and_every_30_s_while_it_lasts():
    link = link_to(f"mqtt://127.0.0.1:{free_port()}")  # nothing listens there
    with capture_logs() as logs:
        link.start()
        try:
            first = eventually(lambda: named(logs, "mqtt.unreachable"), 5, "a `mqtt.unreachable` log event")
            assert first[0]["log_level"] == "warning" and "refused" in first[0]["reason"].lower()
            status = link.status()
            assert status.connected is False and "refused" in status.reason.lower()
            assert link.status().describe().startswith("disconnected since ")
            link.remind(time.monotonic() + 1)
            assert len(named(logs, "mqtt.unreachable")) == 1  # not yet
            link.remind(time.monotonic() + REMIND_S + 1)
            assert len(named(logs, "mqtt.unreachable")) == 2
            assert named(logs, "mqtt.unreachable")[1]["down_for_s"] >= 0
            link.remind(time.monotonic() + REMIND_S + 2)
            assert len(named(logs, "mqtt.unreachable")) == 2  # once per 30 s, not once per call
            link.remind(time.monotonic() + 2 * REMIND_S + 2)
            assert len(named(logs, "mqtt.unreachable")) == 3
        finally:
            link.stop()


def test_a_lost_broker_is_logged_at_once_and_its_return_too(mosquitto):
    link = link_to(mosquitto.url)
    with capture_logs() as logs:
        link.start()
        try:
            assert link.wait_connected(10) and link.status().connected
            mosquitto.stop()
            lost = eventually(lambda: named(logs, "mqtt.disconnected"), 5, "a `mqtt.disconnected` log event")
            assert lost[0]["log_level"] == "warning" and lost[0]["reason"]
            assert not link.status().connected
            mosquitto.start()
            back = eventually(lambda: named(logs, "mqtt.connected")[1:], 40, "a `mqtt.connected` log event")
            assert back[0]["down_for_s"] > 0 and link.status().connected and link.status().describe() == "ok"
            before = len(named(logs, "mqtt.unreachable"))
            link.remind(time.monotonic() + 10 * REMIND_S)
            assert len(named(logs, "mqtt.unreachable")) == before  # no reminder once it is back
        finally:
            link.stop()
    assert named(logs, "mqtt.disconnected")[-1]["log_level"] == "info"  # our own stop is no warning
