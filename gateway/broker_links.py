"""A gateway on several brokers at once, each alone (not bridged), as one link.

Devices know every broker and move to another when theirs dies; so a gateway must listen on all of
them, or the devices that moved would be heard by nobody. Messages from every broker feed the same
ingest; each is acknowledged on the broker it came from (its `Inbound.broker`), and a device's
`received` or `rejected` goes back the same way. The dispatcher's feedback (acknowledged, resolved)
answers no message: it goes to every broker that is up, since the device may be on any. A device's
old persistent session on the other broker may get a copy later; devices ignore feedback for a
press they no longer wait on (SPEC section 4).

The link is up when every broker is: one broker down is a failure an operator must hear of, even
while the other carries the calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

from gateway.link_status import LinkStatus
from gateway.mqtt_link import BrokerAddress, Inbound, MqttLink


class BrokerLinks:
    def __init__(self, links: list[MqttLink]) -> None:
        assert links, "at least one broker"
        self.links = links
        self.address: BrokerAddress = links[0].address  # for the start-up log line
        self.subscriptions = links[0].subscriptions
        self.share_group = links[0].share_group

    def start(self) -> None:
        for link in self.links:
            link.start()

    def stop(self) -> None:
        for link in self.links:
            link.stop()

    def alive(self) -> bool:
        return all(link.alive() for link in self.links)

    def connected(self) -> bool:
        """Some broker is up: there is somewhere to publish to."""
        return any(link.connected() for link in self.links)

    def wait_connected(self, timeout: float) -> bool:
        return all(link.wait_connected(timeout) for link in self.links)

    def status(self) -> LinkStatus:
        for link in self.links:
            status = link.status()
            if not status.connected:
                where = f"{link.address.host}:{link.address.port}"
                return replace(status, reason=f"broker {where}: {status.reason or 'unknown'}")
        return self.links[0].status()

    def remind(self, monotonic: float | None = None) -> None:
        for link in self.links:
            link.remind(monotonic)

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        with contextlib.ExitStack() as stack:
            for link in self.links:
                stack.enter_context(link.batch())
            yield

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, reply_to: Inbound | None = None
    ) -> None:
        if reply_to is not None:
            self.links[reply_to.broker].publish(topic, payload, qos=qos, retain=retain)
            return
        up = [link for link in self.links if link.connected()] or self.links  # none up: paho queues it
        for link in up:
            link.publish(topic, payload, qos=qos, retain=retain)

    def ack(self, message: Inbound) -> None:
        self.links[message.broker].ack(message)
