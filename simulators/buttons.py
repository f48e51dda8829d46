"""Simulated commodity buttons: a Zigbee2MQTT button (as its bridge publishes it), a Shelly Button1
and a Tasmota device, each on its own MQTT connection with the topics and payloads those projects
use. They get no feedback (such buttons cannot show any): a publish is done when the broker's
PUBACK says so, and over MQTT 5 a refused publish is reported.

    python simulators/pager.py --as shelly --source shellybutton1-A4CF12F45301 --device sh-1 press
    python simulators/pager.py --as zigbee2mqtt --source sos-liu --action emergency press
    python simulators/pager.py --as tasmota --source tasmota_5A1B2C --device ta-1 heartbeat
"""

from __future__ import annotations

import json
import socket
import threading
import time

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

try:
    from simulators.pager import stop_network_loop
except ImportError:  # loaded by simulators/pager.py run as a script: simulators/ itself is on sys.path
    from pager import stop_network_loop  # type: ignore[no-redef]

KINDS = ("zigbee2mqtt", "shelly", "tasmota")
# What each of our commands is on each kind of button (see devices/adapters.py for the reverse).
Z2M_ACTIONS = {"press": "single", "checkin": "double", "cancel": "hold"}
SHELLY_EVENTS = {"press": "S", "checkin": "SS", "cancel": "L"}
TASMOTA_ACTIONS = {"press": "SINGLE", "checkin": "DOUBLE", "cancel": "HOLD"}


class ButtonError(Exception):
    pass


class CommodityButton:
    def __init__(
        self,
        url_host: str,
        port: int,
        kind: str,
        source: str,
        *,
        user: str | None,
        password: str | None,
        protocol: int = 5,
        tls: bool = False,
        ca_file: str | None = None,
        keepalive: int = 30,
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}")
        self.kind, self.source = kind, source
        self.host, self.port = url_host, port
        self.event_cnt = 0  # Shelly's counter of input events
        self.refusals: list[str] = []
        self._acks: dict[int, object] = {}
        self._cond = threading.Condition()
        self._ready = threading.Event()
        self._error: str | None = None
        client_id = {"zigbee2mqtt": "zigbee2mqtt-bridge", "shelly": source, "tasmota": f"DVES_{source}"}[kind]
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5 if protocol == 5 else mqtt.MQTTv311
        )
        if user:
            self.client.username_pw_set(user, password)
        if tls:
            self.client.tls_set(ca_certs=ca_file)
        topic, offline = self._presence(False)
        self.client.will_set(topic, offline, qos=1, retain=True)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.keepalive = keepalive

    # ---- the projects' topics and payloads

    def _presence(self, online: bool) -> tuple[str, str]:
        if self.kind == "zigbee2mqtt":
            return f"zigbee2mqtt/{self.source}/availability", json.dumps({"state": "online" if online else "offline"})
        if self.kind == "shelly":
            return f"shellies/{self.source}/online", "true" if online else "false"
        return f"tele/{self.source}/LWT", "Online" if online else "Offline"

    def action_messages(
        self, command: str, action: str | None = None, battery: int | None = None
    ) -> list[tuple[str, str]]:
        """The messages this button publishes for `command` (press, checkin, cancel, heartbeat, battery-low)."""
        if command == "battery-low":
            command, battery = "heartbeat", 10 if battery is None else battery
        if self.kind == "zigbee2mqtt":
            state = {"battery": 90 if battery is None else battery, "linkquality": 96}
            topic = f"zigbee2mqtt/{self.source}"
            if command == "heartbeat":
                return [(topic, json.dumps(state))]
            # Zigbee2MQTT publishes the action with the whole state, then clears the action
            return [
                (topic, json.dumps({**state, "action": action or Z2M_ACTIONS[command]})),
                (topic, json.dumps({**state, "action": ""})),
            ]
        if self.kind == "shelly":
            if command == "heartbeat":
                return [(f"shellies/{self.source}/sensor/battery", str(90 if battery is None else battery))]
            self.event_cnt += 1
            return [
                (
                    f"shellies/{self.source}/input_event/0",
                    json.dumps({"event": action or SHELLY_EVENTS[command], "event_cnt": self.event_cnt}),
                )
            ]
        if command == "heartbeat":
            return [
                (
                    f"tele/{self.source}/STATE",
                    json.dumps({"Time": time.strftime("%Y-%m-%dT%H:%M:%S"), "UptimeSec": int(time.monotonic())}),
                )
            ]
        return [(f"stat/{self.source}/RESULT", json.dumps({"Button1": {"Action": action or TASMOTA_ACTIONS[command]}}))]

    # ---- connection and publishing

    def connect(self, timeout: float = 10.0) -> CommodityButton:
        try:
            self.client.connect(self.host, self.port, self.keepalive)
        except OSError as exc:
            raise ButtonError(f"cannot reach {self.host}:{self.port}: {exc}") from exc
        self.client.loop_start()
        if not self._ready.wait(timeout) or self._error:
            stop_network_loop(self.client)
            raise ButtonError(self._error or f"no CONNACK within {timeout:g}s")
        return self

    def send(self, command: str, action: str | None = None, battery: int | None = None, timeout: float = 10.0) -> bool:
        """Publish what the button would for `command`; True if the broker accepted every message."""
        ok = True
        for topic, payload in self.action_messages(command, action, battery):
            ok &= self.publish(topic, payload, timeout=timeout)
        return ok

    def publish(self, topic: str, payload: str, retain: bool = False, timeout: float = 10.0) -> bool:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        with self._cond:
            if not self._cond.wait_for(lambda: info.mid in self._acks, timeout):
                raise ButtonError(f"no PUBACK for {topic} within {timeout:g}s")
            code = self._acks.pop(info.mid)
        return not getattr(code, "is_failure", False)

    def go_offline(self) -> None:
        """A dead battery: the connection drops without DISCONNECT, the broker publishes the will."""
        sock = self.client.socket()
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]  # paho hands back the real socket
            except OSError:
                pass
        stop_network_loop(self.client)

    def close(self) -> None:
        self.client.disconnect()
        stop_network_loop(self.client)

    def __enter__(self) -> CommodityButton:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- paho callbacks

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._error = f"connection refused: {reason_code}"
        else:
            topic, online = self._presence(True)
            client.publish(topic, online, qos=1, retain=True)
        self._ready.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        with self._cond:
            if getattr(reason_code, "is_failure", False):
                self.refusals.append(str(reason_code))
            self._acks[mid] = reason_code
            self._cond.notify_all()
