"""A bare MQTT client for tests: publishes raw bytes and collects what comes back."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt

from simulators.pager import stop_network_loop


class Peer:
    def __init__(self, port: int, client_id: str, subscribe: list[str] | None = None, mqtt5: bool = True) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._cond = threading.Condition()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        for topic in subscribe or []:
            self.client.subscribe(topic, qos=1)
        time.sleep(0.1)

    def _on_message(self, client, userdata, msg) -> None:
        with self._cond:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes | str | dict, retain: bool = False, qos: int = 1) -> None:
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        self.client.publish(topic, payload, qos=qos, retain=retain).wait_for_publish(5)

    def feedback(self) -> list[dict]:
        with self._cond:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith("/feedback")]

    def wait_for(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = predicate(self)
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"condition not met in {timeout}s; have {self.messages[-5:]}")
                self._cond.wait(left)

    def publish_until_answered(self, topic: str, payload: dict, tries: int) -> None:
        """Like a pager: send again every half second until some feedback comes, since the gateway
        may not be subscribed yet; `tries` times at most (then the test's own wait says what failed)."""
        for _ in range(tries):
            self.publish(topic, payload)
            try:
                self.wait_for(lambda p: p.feedback(), timeout=0.5)
                return
            except TimeoutError:
                continue

    def close(self) -> None:
        self.client.disconnect()
        stop_network_loop(self.client)
