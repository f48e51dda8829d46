"""The one adapter over paho-mqtt: connect, subscribe, hand messages on, publish, acknowledge.

paho's types stop here: a message becomes an `Inbound` value at once. Acknowledgement is manual,
so the caller acknowledges a message only once what it means is durable. Nothing raises into
paho's network thread; if that thread dies anyway, `alive()` says so and the service exits.

A broker that cannot be reached or is lost is logged at once (`mqtt.unreachable`,
`mqtt.disconnected`, with the reason), again every REMIND_S while it lasts (`remind()`, called by
the gateway's watch every second), and `mqtt.connected` says when it is back. `status()` gives the
same as a value, for /readyz and the board. That bookkeeping is gateway/link_status.py's; the
socket wrappers that make paho cheaper are gateway/fast_socket.py's. Only this module imports paho.
"""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
import structlog
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from core.clock import utcnow
from gateway.fast_socket import BatchedWakeup, BufferedSocket
from gateway.link_status import LinkStatus, LinkWatch

log = structlog.get_logger("jinqiao.mqtt")

SESSION_NEVER_EXPIRES = 0xFFFFFFFF
# How many unacknowledged messages the broker may have in flight to us. Large, so that during a flood
# of bad input an alarm behind it reaches the writer, which stores valid messages first, instead of
# waiting on the broker for thousands of rejections to be stored (gateway/ingest.py, run).
RECEIVE_MAXIMUM = 10_000


class _Client(mqtt.Client):
    """paho's client with TCP_NODELAY, a buffered read side and batched wake-ups (all for speed only),
    and the reason of the last failed connection attempt (paho swallows it)."""

    last_connect_error: str | None = None

    def reconnect(self):
        try:
            return super().reconnect()
        except OSError as exc:
            self.last_connect_error = str(exc) or type(exc).__name__
            raise

    def loop_start(self):
        rc = super().loop_start()
        if self._sockpairW is not None and not isinstance(self._sockpairW, BatchedWakeup):
            self._sockpairW = BatchedWakeup(self._sockpairW)  # type: ignore[assignment]  # paho only calls send() and close() on it
        return rc

    @contextmanager
    def batched(self) -> Iterator[None]:
        wakeup = self._sockpairW
        if isinstance(wakeup, BatchedWakeup):
            with wakeup.held():
                yield
        else:
            yield

    def _create_socket(self):
        sock = super()._create_socket()
        if not isinstance(sock, (socket.socket, ssl.SSLSocket)):
            return sock  # websockets or an unknown transport: left as paho made it
        try:
            # feedback and acknowledgements are small writes that must not wait for an ACK (Nagle)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return BufferedSocket(sock)


@dataclass(frozen=True)
class Inbound:
    topic: str
    payload: bytes
    retained: bool
    qos: int
    mid: int
    generation: int  # which connection it came on: acknowledgements never cross a reconnect
    broker: int = 0  # which broker it came from, when a gateway has several (gateway/broker_links.py)


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool

    @classmethod
    def from_url(cls, url: str) -> BrokerAddress:
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or (8883 if tls else 1883),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            tls=tls,
        )


def shared(filters: list[str], group: str | None) -> list[str]:
    """The filters as MQTT shared subscriptions of `group` (`$share/<group>/<filter>`), or as given."""
    return [f"$share/{group}/{f}" for f in filters] if group else list(filters)


class MqttLink:
    """A subscriber with manual acknowledgement and automatic reconnects.

    Alone (`share_group` None) its session is persistent and never expires: what arrives while it
    is away waits for it. In a shared group the broker hands each message to one member; a member's
    session then ends `session_expiry` seconds after its connection (default 0: at once), because a
    dead member's persistent session keeps taking its share of new messages until it returns
    (measured on Mosquitto 2.0: with two members, half of what was published after one died). What
    was in flight to a member that died is resent by the devices, which resend until `received`."""

    def __init__(
        self,
        address: BrokerAddress,
        client_id: str,
        subscriptions: list[str],
        on_message: Callable[[Inbound], None],
        mqtt5: bool = True,
        ca_file: str | None = None,
        now: Callable[[], datetime] = utcnow,
        share_group: str | None = None,
        session_expiry: int | None = None,
        broker: int = 0,
    ) -> None:
        self.address = address
        self.broker = broker
        self._watch = LinkWatch(address.host, address.port, now)
        self.subscriptions = shared(subscriptions, share_group)
        self.share_group = share_group
        self._session_expiry = (
            session_expiry if session_expiry is not None else (0 if share_group else SESSION_NEVER_EXPIRES)
        )
        self._on_message_cb = on_message
        self._mqtt5 = mqtt5
        self._generation = 0
        self._stopping = False
        self._connected = threading.Event()
        self._client = _Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5 if mqtt5 else mqtt.MQTTv311,
            # MQTT 3.1.1 has no expiry: a shared member's session is a clean one
            clean_session=None if mqtt5 else not (share_group and self._session_expiry == 0),
            manual_ack=True,
        )
        # Our callbacks catch everything themselves; this is a second net.
        self._client.suppress_exceptions = True
        # No cap on our own outgoing QoS1 messages (the feedback): paho's cap rescans every in-flight
        # message on each PUBACK, which at a thousand in flight cost a fifth of the gateway's CPU; and
        # paho does not read the broker's Receive Maximum anyway. The broker must allow many in flight
        # (Mosquitto: max_inflight_messages 0), as it must for the messages it sends us.
        self._client.max_inflight_messages_set(0)
        self._client.max_queued_messages_set(0)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        if address.username:
            self._client.username_pw_set(address.username, address.password)
        if address.tls:
            self._client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_connect_fail = self._on_connect_fail
        self._client.on_message = self._on_message

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        props = None
        if self._mqtt5:
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = self._session_expiry
            props.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(
            self.address.host,
            self.address.port,
            keepalive=30,
            clean_start=False if self._mqtt5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        try:
            self._client.disconnect()
        finally:
            stop_network_loop(self._client)

    def alive(self) -> bool:
        """False once paho's network thread has ended without stop() being called."""
        thread = getattr(self._client, "_thread", None)  # paho offers no public liveness check
        return thread is not None and thread.is_alive()

    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def status(self) -> LinkStatus:
        return self._watch.status

    def remind(self, monotonic: float | None = None) -> None:
        """While the broker is away, log it again every REMIND_S (the gateway calls this every second)."""
        self._watch.remind(monotonic)

    # --- outbound ----------------------------------------------------------------------------

    def batch(self):
        """Publish and acknowledge a batch: paho's network thread is woken once, when it is all queued."""
        return self._client.batched()

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, reply_to: Inbound | None = None
    ) -> None:
        """`reply_to`: the message this answers (it names the broker when there are several; here, one)."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def ack(self, message: Inbound) -> None:
        """Acknowledge to the broker; an ack from an older connection would free the wrong id."""
        if message.qos == 0 or message.generation != self._generation:
            return
        self._client.ack(message.mid, message.qos)

    # --- paho callbacks (paho's thread) ------------------------------------------------------

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        try:
            if reason_code.is_failure:
                log.error("mqtt.connect_refused", reason=str(reason_code), host=self.address.host)
                self._watch.went_down("mqtt.unreachable", f"refused: {reason_code}")
                return
            self._generation += 1
            if self._mqtt5:
                # retainAsPublished: a device that publishes an event *retained* must be seen doing so
                # (SPEC: a retained event is refused), not only when the broker replays it later.
                client.subscribe([(t, SubscribeOptions(qos=1, retainAsPublished=True)) for t in self.subscriptions])
            else:
                client.subscribe([(t, 1) for t in self.subscriptions])
            self._watch.came_up(session_present=bool(flags.session_present), generation=self._generation)
            self._connected.set()
        except Exception:
            log.exception("mqtt.on_connect_failed")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if self._stopping:
            self._watch.stopped()
            return
        from_broker = bool(getattr(flags, "is_disconnect_packet_from_server", False))
        # paho reports a dropped connection as "Unspecified error": say what it was
        self._watch.went_down(
            "mqtt.disconnected",
            f"the broker closed the session: {reason_code}" if from_broker else f"connection lost ({reason_code})",
        )

    def _on_connect_fail(self, client, userdata) -> None:
        self._watch.went_down("mqtt.unreachable", client.last_connect_error or "connection failed")

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            try:
                topic = msg.topic
            except UnicodeDecodeError:  # MQTT requires UTF-8 topics, but a broken client may not care
                topic = msg._topic.decode("utf-8", errors="replace")
            inbound = Inbound(topic, msg.payload, bool(msg.retain), msg.qos, msg.mid, self._generation, self.broker)  # type: ignore[arg-type]  # paho's payload is bytes
            self._on_message_cb(inbound)
        except Exception:
            # A message we failed to hand on stays unacknowledged and comes back on reconnect.
            log.exception("mqtt.handler_failed", topic=getattr(msg, "topic", "?"))


def stop_network_loop(client) -> None:
    """paho's loop_stop races its own network thread's exit (eclipse-paho/paho.mqtt.python#872): the
    thread may clear itself between loop_stop's check and its join, and loop_stop then raises
    AttributeError. A thread that already ended is what we asked for."""
    try:
        client.loop_stop()
    except AttributeError:
        pass
