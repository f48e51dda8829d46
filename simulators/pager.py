"""A simulated call button (呼叫器) that speaks device protocol v1 (SPEC section 3) like a real one.

As a script:
    python simulators/pager.py --url mqtt://127.0.0.1:1883 --device pgr-0001 press
    python simulators/pager.py --device pgr-0001 --mqtt 3 battery-low --battery 12
    python simulators/pager.py --device pgr-0001 offline            # power cut: the broker sends the will
    python simulators/pager.py --device pgr-0001 offline --graceful
    python simulators/pager.py --device pgr-0001 interactive         # press / cancel / ... from stdin
    python simulators/pager.py --as shelly --source shellybutton1-A4CF12F45301 --device sh-1 press
    python simulators/pager.py --as zigbee2mqtt --source sos-liu --device z-1 --action emergency press

MQTT 5 is the default (`--mqtt 3` for 3.1.1). With `--as zigbee2mqtt|shelly|tasmota` it publishes
what such a button publishes (simulators/buttons.py); those get no feedback, so a command is done
once the broker acknowledges it (exit 1 if the broker refused it).

Exit codes of the event commands: 0 `received` (or the `--until` state) came, 1 `rejected`,
2 timed out (`--timeout`), 3 could not connect.

As a library:
    with Pager("mqtt://127.0.0.1:1883", "pgr-0001") as pager:
        event_id = pager.send("alarm")
        pager.wait_for(event_id)            # the feedback dict; raises FeedbackTimeout

The pager resends the same event id with exponential backoff until the system answers
`received` or `rejected` for it: the broker's PUBACK proves nothing about the system's disk.
This module is also the simulators' one adapter over paho (`new_client`); fleet.py reuses it.
"""

from __future__ import annotations

import argparse
import errno
import functools
import json
import logging
import os
import random
import re
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

log = logging.getLogger("simulators.pager")

DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ONLINE, OFFLINE = "online", "offline"
# What the CLI and send() accept, mapped onto the protocol's event types.
EVENT_TYPES = {
    "press": "alarm",
    "alarm": "alarm",
    "fall": "fall",
    "cancel": "cancel",
    "checkin": "checkin",
    "heartbeat": "heartbeat",
    "battery-low": "battery_low",
    "battery_low": "battery_low",
}
# Either answer settles an event: `rejected` will not turn into `received` by resending.
SETTLING_STATES = frozenset({"received", "rejected"})
JITTER = 0.2  # resend delays are shortened by up to this fraction, so devices do not resend in step


class PagerError(Exception):
    """Something a pager could not do; the message says what."""


class PagerConnectError(PagerError):
    """The broker could not be reached or refused the connection."""


class FeedbackTimeout(PagerError, TimeoutError):
    """The awaited feedback did not come in time."""

    def __init__(self, event_id: str, state: str, timeout: float) -> None:
        super().__init__(f"no '{state}' for event {event_id} within {timeout:g}s")
        self.event_id = event_id
        self.state = state


# ---------------------------------------------------------------- pure helpers (fleet.py shares them)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    password: str | None  # from the URL; the user name is always the device id


def parse_broker_url(url: str) -> BrokerAddress:
    """`mqtt://host:port` or `mqtts://user:pass@host:port` into its parts."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"not an mqtt:// or mqtts:// URL: {url!r}")
    tls = parts.scheme == "mqtts"
    password = unquote(parts.password) if parts.password else None
    return BrokerAddress(parts.hostname, parts.port or (8883 if tls else 1883), tls, password)


@dataclass(frozen=True)
class Topics:
    event: str
    status: str
    feedback: str


def topics_for(root: str, device: str) -> Topics:
    base = f"{root}/v1/dev/{device}"
    return Topics(event=f"{base}/event", status=f"{base}/status", feedback=f"{base}/feedback")


def check_device_id(device: str) -> str:
    if not DEVICE_ID.match(device):
        raise ValueError(f"device id must match {DEVICE_ID.pattern}: {device!r}")
    return device


def new_event_id() -> str:
    # Random rather than a counter: a counter restarts after a reboot, and the system would
    # take the new alarm for a copy of an old one it already stored.
    return secrets.token_hex(8)


def utc_timestamp(now: datetime | None = None) -> str:
    now = now or datetime.now(timezone.utc)
    return now.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event_payload(event_id: str, event_type: str, fields: dict[str, Any], ts: str | None = None) -> bytes:
    body = {"id": event_id, "type": event_type, "ts": ts or utc_timestamp()}
    body.update({k: v for k, v in fields.items() if v is not None})
    return json.dumps(body, separators=(",", ":")).encode()


def resend_delay(attempt: int, initial: float, maximum: float, jitter: float) -> float:
    """Seconds before copy `attempt + 1` of an event: initial·2^attempt, capped, shortened by
    `jitter` (0..1) times JITTER. Jitter only shortens, so the cap holds."""
    base = min(maximum, initial * 2 ** min(attempt, 32))
    return base * (1.0 - JITTER * jitter)


def parse_feedback(payload: bytes | bytearray) -> dict[str, Any] | None:
    """A feedback object with a string `ref` and `state`, or None for anything else."""
    try:
        body = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("ref"), str) or not isinstance(body.get("state"), str):
        return None
    return body


# Linux: bind() picks the address only; connect() then chooses the port per destination.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


@functools.lru_cache(maxsize=64)
def _resolve(host: str, port: int) -> tuple[Any, ...]:
    # Once per broker, not once per each of 50,000 devices.
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]


def open_tcp(host: str, port: int, source_host: str, timeout: float, *, wait: bool = True) -> socket.socket:
    """A TCP socket to host:port, optionally from a given local address, without binding a port.
    With wait=False the connect is only started: the socket turns writable once it completes
    (paho then writes CONNECT), and a failure shows up as an error on that first write."""
    if wait and not source_host:
        return socket.create_connection((host, port), timeout=timeout)
    family, kind, proto, _, target = _resolve(host, port)
    sock = socket.socket(family, kind, proto)
    try:
        if source_host:
            if sys.platform == "linux":
                sock.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            sock.bind((source_host, 0))
        if wait:
            sock.settimeout(timeout)
            sock.connect(target)
        else:
            sock.setblocking(False)
            err = sock.connect_ex(target)
            if err not in (0, errno.EINPROGRESS, errno.EAGAIN):
                raise OSError(err, os.strerror(err))
    except OSError:
        sock.close()
        raise
    return sock


class _DeviceClient(mqtt.Client):
    """paho's client, opening its socket without an explicit bind to port 0, and optionally
    without waiting for the TCP handshake.

    paho always passes source_address=("", 0), and an explicit bind to port 0 must find a port no
    other socket holds: about 1 ms per connection once a fleet has 10,000 of them, and a hard stop
    at the size of the ephemeral range. A fleet also must not stall on one connect whose SYN the
    broker's full accept queue dropped. Overrides a private method; paho is pinned below 3."""

    wait_for_tcp = True

    def _create_socket_connection(self) -> socket.socket:
        if self._get_proxy() or self._bind_port:
            return super()._create_socket_connection()
        return open_tcp(self._host, self._port, self._bind_address, self._connect_timeout, wait=self.wait_for_tcp)


def new_client(
    device: str,
    address: BrokerAddress,
    topics: Topics,
    *,
    protocol: int,
    password: str | None,
    wait_for_tcp: bool = True,
    ca_file: str | None = None,
    will: bool = True,
) -> mqtt.Client:
    """A paho client set up as a device: client id and user name are the device id, and the
    retained `offline` will tells the system when the device vanishes without a word.
    wait_for_tcp=False is for external event loops (fleet.py): connect() returns at once."""
    if protocol not in (3, 5):
        raise ValueError("protocol must be 3 (MQTT 3.1.1) or 5")
    client = _DeviceClient(
        CallbackAPIVersion.VERSION2,
        client_id=device,
        protocol=mqtt.MQTTv5 if protocol == 5 else mqtt.MQTTv311,
        clean_session=None if protocol == 5 else True,
    )
    client.wait_for_tcp = wait_for_tcp
    client.username_pw_set(device, password)
    if will:
        client.will_set(topics.status, OFFLINE, qos=1, retain=True)
    if address.tls:
        client.tls_set(ca_certs=ca_file)  # None: the system's CAs
    return client


@dataclass(eq=False)
class Outgoing:
    """One event and its delivery: resent until the system settles it."""

    event_id: str
    type: str
    payload: bytes
    created: float  # monotonic time of the press
    attempts: int = 0  # transmissions scheduled so far (drives the backoff)
    sends: int = 0  # copies actually handed to the broker
    due: float = 0.0  # monotonic time of the next copy
    settled_state: str | None = None
    settled_at: float | None = None


# ---------------------------------------------------------------- the pager


FeedbackCallback = Callable[[dict[str, Any]], None]


class Pager:
    """One device on its own MQTT connection; paho's network loop runs in paho's thread and a
    resend thread sends copies of unsettled events. Every public method is thread-safe."""

    def __init__(
        self,
        url: str,
        device: str,
        root: str = "jinqiao",
        password: str | None = None,
        protocol: int = 5,
        resend_initial: float = 1.0,
        resend_max: float = 30.0,
        *,
        keepalive: int = 30,
        on_feedback: FeedbackCallback | None = None,
        ca_file: str | None = None,
    ) -> None:
        if protocol not in (3, 5):
            raise ValueError("protocol must be 3 (MQTT 3.1.1) or 5")
        self.device = check_device_id(device)
        self.topics = topics_for(root, device)
        self._address = parse_broker_url(url)
        self._password = password if password is not None else self._address.password
        self._protocol = protocol
        self._keepalive = keepalive
        self._resend_initial = resend_initial
        self._resend_max = resend_max
        self._on_feedback = on_feedback
        self._ca_file = ca_file
        self._rng = random.Random()
        # One condition guards all state below. Never call paho while holding it: paho calls
        # our callbacks while holding its own locks, and the two orders would deadlock.
        self._cond = threading.Condition()
        self._client: mqtt.Client | None = None
        self._connected = False
        self._closed = False
        self._pending: dict[str, Outgoing] = {}
        self._sent: dict[str, Outgoing] = {}
        self._feedback: list[dict[str, Any]] = []
        self._refusals: list[str] = []
        self._ready = threading.Event()
        self._connect_error: str | None = None
        self._resender: threading.Thread | None = None

    # ---- connection

    def connect(self, timeout: float = 10.0) -> Pager:
        """Connect, publish `online` and subscribe to feedback; return once feedback can arrive."""
        with self._cond:
            if self._closed:
                raise PagerError("pager is closed")
            if self._client is not None:
                return self
        client = new_client(
            self.device,
            self._address,
            self.topics,
            protocol=self._protocol,
            password=self._password,
            ca_file=self._ca_file,
        )
        client.on_connect = self._handle_connect
        client.on_subscribe = self._handle_subscribe
        client.on_message = self._handle_message
        client.on_disconnect = self._handle_disconnect
        client.on_publish = self._handle_publish
        client.reconnect_delay_set(1, 30)
        self._ready.clear()
        self._connect_error = None
        try:
            client.connect(self._address.host, self._address.port, self._keepalive)
        except OSError as exc:
            raise PagerConnectError(
                f"{self.device}: cannot reach {self._address.host}:{self._address.port}: {exc}"
            ) from exc
        client.loop_start()
        if not self._ready.wait(timeout) or self._connect_error:
            client.disconnect()
            stop_network_loop(client)
            raise PagerConnectError(f"{self.device}: {self._connect_error or f'no CONNACK/SUBACK within {timeout:g}s'}")
        with self._cond:
            self._client = client
        self._start_resender()
        return self

    def go_offline(self, graceful: bool = False) -> None:
        """Leave the broker. Ungraceful is a power cut: the socket drops without DISCONNECT and
        the broker publishes the will. Graceful says `offline` first, then disconnects."""
        client = self._detach_client()
        if client is None:
            return
        if graceful:
            client.publish(self.topics.status, OFFLINE, qos=1, retain=True).wait_for_publish(5)
            client.disconnect()
        else:
            sock = client.socket()
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]  # the broker sees the TCP close, not a DISCONNECT
                except OSError:
                    pass
        # Stopping after the drop: paho's reconnect wait checks the stop flag, so it never reconnects.
        stop_network_loop(client)
        sock = client.socket()
        if sock is not None:
            sock.close()

    def close(self) -> None:
        """Stop resending and disconnect cleanly. The retained status stays `online`, as a
        pager that is simply left on the table would keep it; use go_offline() to say otherwise."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        client = self._detach_client()
        if client is not None:
            client.disconnect()
            stop_network_loop(client)
        if self._resender is not None and self._resender is not threading.current_thread():
            self._resender.join(5)

    def __enter__(self) -> Pager:
        return self.connect()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def is_connected(self) -> bool:
        with self._cond:
            return self._connected

    # ---- events

    def send(self, type: str, *, event_id: str | None = None, **fields: Any) -> str:
        """Publish an event (`press` and `battery-low` are accepted for `alarm`, `battery_low`;
        other types pass through so tests can send what the system must reject) and keep
        resending it until it is settled. Returns the event id."""
        event_type = EVENT_TYPES.get(type, type)
        event_id = event_id or new_event_id()
        now = time.monotonic()
        out = Outgoing(event_id, event_type, event_payload(event_id, event_type, fields), created=now)
        with self._cond:
            if event_id in self._pending:
                raise ValueError(f"event {event_id} is already being sent")
            # Registered before the first copy goes out, so an instant answer finds it.
            self._pending[event_id] = out
            self._sent[event_id] = out
            self._schedule_next(out, now)
            self._cond.notify_all()
        self._transmit(out)
        return event_id

    def press(self, **fields: Any) -> str:
        return self.send("alarm", **fields)

    def heartbeat(self, **fields: Any) -> str:
        return self.send("heartbeat", **fields)

    def publish_raw(self, payload: bytes | str, *, retain: bool = False, timeout: float = 5.0) -> None:
        """Publish anything on the event topic, untracked: for testing how the system takes bad input."""
        client = self._require_client()
        client.publish(self.topics.event, payload, qos=1, retain=retain).wait_for_publish(timeout)

    def wait_for(self, event_id: str, state: str = "received", timeout: float = 60.0) -> dict[str, Any]:
        """The first feedback for `event_id` in `state`, or a `rejected` one (which means the
        awaited state will never come). Raises FeedbackTimeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = self._find_feedback(event_id, state)
                if found is not None:
                    return dict(found)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise FeedbackTimeout(event_id, state, timeout)
                self._cond.wait(remaining)

    @property
    def feedback(self) -> list[dict[str, Any]]:
        """Every feedback received, oldest first, each with `arrived_at` (time.monotonic())."""
        with self._cond:
            return [dict(fb) for fb in self._feedback]

    @property
    def pending(self) -> list[str]:
        """Ids of the events still being resent."""
        with self._cond:
            return list(self._pending)

    @property
    def refusals(self) -> list[str]:
        """MQTT 5 reason codes of publishes the broker refused (an ACL denial, for one)."""
        with self._cond:
            return list(self._refusals)

    def resend_count(self, event_id: str) -> int:
        """Copies sent after the first one."""
        with self._cond:
            return max(0, self._sent[event_id].sends - 1)

    def latency(self, event_id: str) -> float | None:
        """Seconds from the press to the arrival of `received`, or None if it has not come."""
        with self._cond:
            out = self._sent[event_id]
            if out.settled_state != "received" or out.settled_at is None:
                return None
            return out.settled_at - out.created

    # ---- internals: sending

    def _schedule_next(self, out: Outgoing, now: float) -> None:
        out.due = now + resend_delay(out.attempts, self._resend_initial, self._resend_max, self._rng.random())
        out.attempts += 1

    def _transmit(self, out: Outgoing) -> None:
        with self._cond:
            client = self._client if self._connected else None
            if out.settled_state is not None:
                return
        if client is None:
            return  # offline: the resend thread tries again, and a reconnect makes every event due
        client.publish(self.topics.event, out.payload, qos=1, retain=False)
        with self._cond:
            out.sends += 1

    def _start_resender(self) -> None:
        with self._cond:
            if self._resender is not None:
                return
            self._resender = threading.Thread(target=self._resend_loop, name=f"pager-resend-{self.device}", daemon=True)
        self._resender.start()

    def _resend_loop(self) -> None:
        while True:
            with self._cond:
                if self._closed:
                    return
                now = time.monotonic()
                due = [out for out in self._pending.values() if out.due <= now]
                for out in due:
                    self._schedule_next(out, now)
                if not due:
                    next_due = min((out.due for out in self._pending.values()), default=now + 1.0)
                    self._cond.wait(max(0.0, next_due - now))
                    continue
            for out in due:
                self._transmit(out)

    def _detach_client(self) -> mqtt.Client | None:
        with self._cond:
            client, self._client, self._connected = self._client, None, False
            return client

    def _require_client(self) -> mqtt.Client:
        with self._cond:
            if self._client is None:
                raise PagerError(f"{self.device} is not connected")
            return self._client

    def _find_feedback(self, event_id: str, state: str) -> dict[str, Any] | None:
        for fb in self._feedback:
            if fb["ref"] == event_id and fb["state"] in (state, "rejected"):
                return fb
        return None

    # ---- internals: paho callbacks (paho's thread)

    def _handle_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        if reason_code.is_failure:
            self._connect_error = f"connection refused: {reason_code}"
            self._ready.set()
            return
        client.publish(self.topics.status, ONLINE, qos=1, retain=True)
        client.subscribe(self.topics.feedback, qos=1)
        with self._cond:
            self._connected = True
            # A reconnected device sends what is still unsettled at once, as a real one would.
            now = time.monotonic()
            for out in self._pending.values():
                out.due = now
            self._cond.notify_all()

    def _handle_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: list[Any], properties: Any
    ) -> None:
        if any(rc.is_failure for rc in reason_codes):
            self._connect_error = f"feedback subscription refused: {reason_codes}"
        self._ready.set()

    def _handle_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any
    ) -> None:
        with self._cond:
            if client is self._client:
                self._connected = False

    def _handle_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:  # MQTT 5 only: a 3.1.1 broker drops a refused publish silently
            log.warning("pager.publish_refused device=%s reason=%s", self.device, reason_code)
            with self._cond:
                self._refusals.append(str(reason_code))

    def _handle_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        body = parse_feedback(message.payload)
        if body is None:
            log.warning(
                "pager.feedback_invalid device=%s topic=%s payload=%r",
                self.device,
                message.topic,
                message.payload[:200],
            )
            return
        body["arrived_at"] = time.monotonic()
        with self._cond:
            self._feedback.append(body)
            out = self._pending.get(body["ref"])
            if out is not None and body["state"] in SETTLING_STATES:
                del self._pending[body["ref"]]
                out.settled_state, out.settled_at = body["state"], body["arrived_at"]
            self._cond.notify_all()
        if self._on_feedback is not None:
            try:
                self._on_feedback(dict(body))
            except Exception:  # a display bug must not take the network thread down
                log.exception("pager.feedback_callback_failed device=%s", self.device)


# ---------------------------------------------------------------- command line

# What a real pager would show by light or voice for each feedback state.
STATE_MEANINGS = {
    "received": "call received (呼叫已收到)",
    "acknowledged": "help is on the way (已有人响应)",
    "resolved": "call closed (已处理)",
    "cancelled": "call cancelled (已取消)",
    "rejected": "call rejected (呼叫被拒绝)",
}
EXIT_OK, EXIT_REJECTED, EXIT_TIMEOUT, EXIT_NO_CONNECTION = 0, 1, 2, 3


def show_feedback(device: str) -> FeedbackCallback:
    def show(fb: dict[str, Any]) -> None:
        meaning = STATE_MEANINGS.get(fb["state"], fb["state"])
        reason = f" reason={fb['reason']}" if fb.get("reason") else ""
        print(f"{device}: {fb['state']} ref={fb['ref']} alert={fb.get('alert')}{reason} — {meaning}", flush=True)

    return show


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="A simulated Jinqiao call button (device protocol v1).")
    parser.add_argument("--url", default=os.environ.get("JINQIAO_MQTT_URL") or "mqtt://127.0.0.1:1883")
    parser.add_argument("--device", required=True, help="device id, also the MQTT client id and user name")
    parser.add_argument("--password", default=None)
    parser.add_argument("--root", default=os.environ.get("JINQIAO_MQTT_ROOT") or "jinqiao")
    parser.add_argument("--mqtt", type=int, choices=(3, 5), default=5, help="3 means MQTT 3.1.1")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the answer")
    parser.add_argument("--resend-initial", type=float, default=1.0)
    parser.add_argument("--resend-max", type=float, default=30.0)
    parser.add_argument("--ca-file", default=None, help="CA certificate to trust for mqtts:// (default: the system's)")
    parser.add_argument(
        "--as",
        dest="as_",
        choices=("native", "zigbee2mqtt", "shelly", "tasmota"),
        default="native",
        help="act as a commodity button: its own topics and payloads, no feedback",
    )
    parser.add_argument(
        "--source", default=None, help="with --as: the Zigbee2MQTT friendly name, Shelly id or Tasmota topic"
    )
    parser.add_argument(
        "--action", default=None, help="with --as: the button's own action word (e.g. emergency, SS, TRIPLE)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    event = argparse.ArgumentParser(add_help=False)
    event.add_argument("--battery", type=int, default=None, help="battery level 0-100 to report")
    event.add_argument("--until", default="received", help="feedback state to wait for (e.g. acknowledged)")
    for name in ("press", "fall", "cancel", "checkin", "heartbeat", "battery-low"):
        commands.add_parser(name, parents=[event], help=f"send a {EVENT_TYPES[name]} event")
    offline = commands.add_parser("offline", help="drop the connection so the broker sends the will")
    offline.add_argument("--graceful", action="store_true", help="publish offline, then DISCONNECT")
    commands.add_parser("interactive", help="read commands from stdin")
    return parser


def run_event(pager: Pager, kind: str, battery: int | None, until: str, timeout: float) -> int:
    event_id = pager.send(kind, battery=battery)
    print(f"{pager.device}: sent {EVENT_TYPES[kind]} id={event_id}", flush=True)
    try:
        fb = pager.wait_for(event_id, until, timeout)
    except FeedbackTimeout as exc:
        print(f"{pager.device}: {exc} ({pager.resend_count(event_id)} resends)", file=sys.stderr)
        return EXIT_TIMEOUT
    return EXIT_REJECTED if fb["state"] == "rejected" else EXIT_OK


INTERACTIVE_HELP = (
    "commands: press fall cancel checkin heartbeat battery-low [N] offline [graceful] online pending quit"
)


def run_interactive(pager: Pager, stdin: Any = sys.stdin) -> int:
    """A tiny REPL: each line a command; feedback is printed as it arrives."""
    print(INTERACTIVE_HELP, flush=True)
    for line in stdin:
        words = line.split()
        if not words:
            continue
        command, args = words[0].lower(), words[1:]
        if command in ("quit", "exit"):
            break
        try:
            run_interactive_command(pager, command, args)
        except (PagerError, ValueError) as exc:
            print(f"{pager.device}: {exc}", flush=True)
    return EXIT_OK


def run_interactive_command(pager: Pager, command: str, args: list[str]) -> None:
    if command in EVENT_TYPES:
        battery = int(args[0]) if args else None
        event_id = pager.send(command, battery=battery)
        print(f"{pager.device}: sent {EVENT_TYPES[command]} id={event_id}", flush=True)
    elif command == "offline":
        pager.go_offline(graceful=bool(args and args[0] == "graceful"))
        print(f"{pager.device}: offline", flush=True)
    elif command == "online":
        pager.connect()
        print(f"{pager.device}: online", flush=True)
    elif command == "pending":
        print(f"{pager.device}: pending {' '.join(pager.pending) or '(none)'}", flush=True)
    else:
        print(INTERACTIVE_HELP, flush=True)


def run_button(args: argparse.Namespace) -> int:
    """--as zigbee2mqtt|shelly|tasmota: publish what such a button publishes; done at the PUBACK."""
    try:
        from simulators.buttons import ButtonError, CommodityButton
    except ImportError:  # run as a script: simulators/ itself is on sys.path
        from buttons import ButtonError, CommodityButton  # type: ignore[no-redef]

    if not args.source:
        print("--source is required with --as", file=sys.stderr)
        return EXIT_REJECTED
    if args.command in ("fall", "interactive"):
        print(f"a {args.as_} button cannot {args.command}", file=sys.stderr)
        return EXIT_REJECTED
    address = parse_broker_url(args.url)
    user = "zigbee2mqtt" if args.as_ == "zigbee2mqtt" else args.device  # the bridge speaks for Zigbee buttons
    button = CommodityButton(
        address.host,
        address.port,
        args.as_,
        args.source,
        user=user,
        password=args.password if args.password is not None else address.password,
        protocol=args.mqtt,
        tls=address.tls,
        ca_file=args.ca_file,
    )
    try:
        button.connect(timeout=min(args.timeout, 10.0))
    except ButtonError as exc:
        print(f"{args.source}: {exc}", file=sys.stderr)
        return EXIT_NO_CONNECTION
    try:
        if args.command == "offline":
            button.go_offline()
            print(f"{args.source}: offline (connection dropped, will sent by the broker)")
            return EXIT_OK
        ok = button.send(args.command, action=args.action, battery=args.battery, timeout=args.timeout)
    except ButtonError as exc:
        print(f"{args.source}: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    finally:
        if args.command != "offline":
            button.close()
    if not ok:
        print(f"{args.source}: refused by the broker: {' '.join(button.refusals)}", file=sys.stderr)
        return EXIT_REJECTED
    print(f"{args.source}: {args.as_} {args.command} published (such a button gets no feedback)", flush=True)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(message)s",
    )
    if args.as_ != "native":
        return run_button(args)
    pager = Pager(
        args.url,
        args.device,
        root=args.root,
        password=args.password,
        protocol=args.mqtt,
        resend_initial=args.resend_initial,
        resend_max=args.resend_max,
        on_feedback=show_feedback(args.device),
        ca_file=args.ca_file,
    )
    try:
        pager.connect(timeout=min(args.timeout, 10.0))
    except PagerConnectError as exc:
        print(exc, file=sys.stderr)
        return EXIT_NO_CONNECTION
    try:
        if args.command == "offline":
            pager.go_offline(graceful=args.graceful)
            print(
                f"{args.device}: offline ({'graceful' if args.graceful else 'connection dropped, will sent by the broker'})"
            )
            return EXIT_OK
        if args.command == "interactive":
            return run_interactive(pager)
        return run_event(pager, args.command, args.battery, args.until, args.timeout)
    finally:
        pager.close()


def stop_network_loop(client) -> None:
    """paho's loop_stop races its own network thread's exit (eclipse-paho/paho.mqtt.python#872): the
    thread may clear itself between loop_stop's check and its join, and loop_stop then raises
    AttributeError. A thread that already ended is what we asked for."""
    try:
        client.loop_stop()
    except AttributeError:
        pass


if __name__ == "__main__":
    sys.exit(main())
