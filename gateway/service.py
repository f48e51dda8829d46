"""The gateway process: an MQTT link feeding the ingest writer, watched until told to stop."""

from __future__ import annotations

import threading

import structlog
from sqlalchemy import Engine

from core import metrics
from core.clock import utcnow
from core.db import session_factory
from core.heartbeat import BEAT_EVERY_S, Heartbeat
from devices.adapters import ADAPTERS, AdapterTopics
from devices.protocol import Topics
from gateway.broker_links import BrokerLinks
from gateway.feedback import publish_pending
from gateway.ingest import Ingest
from gateway.mqtt_link import BrokerAddress, MqttLink

log = structlog.get_logger("jinqiao.gateway")


class GatewayDied(RuntimeError):
    """paho's network thread ended on its own: the process must exit so a supervisor restarts it."""


class Gateway:
    def __init__(
        self,
        engine: Engine,
        mqtt_url: str,  # one broker, or several comma separated
        root: str,
        gateway_id: str,
        mqtt5: bool = True,
        adapters: tuple[str, ...] = ADAPTERS,
        ca_file: str | None = None,
        heartbeat_every: float = BEAT_EVERY_S,
        share_group: str | None = None,
        session_expiry: int | None = None,
    ) -> None:
        self.topics = Topics(root)
        self.ingest = Ingest(engine, self.topics)
        links = [
            MqttLink(
                BrokerAddress.from_url(url),
                client_id=f"jinqiao-gateway-{gateway_id}",
                # our own topics, and the commodity buttons' topics of the adapters in use
                subscriptions=[self.topics.event_filter, self.topics.status_filter, *AdapterTopics().filters(adapters)],
                ca_file=ca_file,
                on_message=self.ingest.submit,
                mqtt5=mqtt5,
                # several gateways share the load: each message goes to one of them (mqtt_link.MqttLink)
                share_group=share_group,
                session_expiry=session_expiry,
                broker=index,
            )
            for index, url in enumerate(mqtt_url.split(","))
        ]
        # several brokers, each alone: listened to at once (gateway/broker_links.py)
        self.link: MqttLink | BrokerLinks = links[0] if len(links) == 1 else BrokerLinks(links)
        self.ingest.link = self.link
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write, name="gateway-writer", daemon=True)
        self._sessions = session_factory(engine)
        self._feedback = threading.Thread(target=self._send_feedback, name="gateway-feedback", daemon=True)
        self.feedback_wake = threading.Event()
        # the row the watchdog reads: beaten only while the writer lives, so a dead writer goes silent
        self.heartbeat = Heartbeat(
            self._sessions,
            "gateway",
            gateway_id,
            utcnow,
            every=heartbeat_every,
            detail=lambda: {
                "connected": self.link.connected(),
                "pending": self.ingest.pending(),
                "broker": self.link.status().as_dict(),
            },
        )
        self._beats = threading.Thread(target=self._beat, name="gateway-heartbeat", daemon=True)

    def _beat(self) -> None:
        while not self._stop.wait(min(1.0, self.heartbeat.every)):
            if not self._writer.is_alive():
                continue
            try:
                self.heartbeat.beat()
            except Exception as exc:
                log.warning("gateway.heartbeat_failed", error=str(exc).splitlines()[0][:200])

    def _send_feedback(self) -> None:
        """Device feedback from the dispatcher's outbox table: woken in-process, else polled."""
        while not self._stop.is_set():
            self.feedback_wake.wait(0.25)
            self.feedback_wake.clear()
            if not self.link.connected():
                continue
            try:
                publish_pending(self._sessions, self.topics, self.link.publish, utcnow)
            except Exception:
                log.exception("gateway.feedback_failed")
                self._stop.wait(1.0)

    def _write(self) -> None:
        try:
            self.ingest.run(self._stop)
        except Exception:
            log.exception("gateway.writer_crashed")

    def start(self) -> None:
        self._writer.start()
        self._feedback.start()
        self._beats.start()
        self.link.start()
        log.info(
            "gateway.started",
            broker=f"{self.link.address.host}:{self.link.address.port}",
            subscriptions=self.link.subscriptions,
            share_group=self.link.share_group,
        )

    def broker_check(self) -> str:
        """For /readyz: "ok", or since when and why the broker is away."""
        return self.link.status().describe()

    def broker_status(self) -> dict:
        """For the board's banner: connected, or since when and why not."""
        return self.link.status().as_dict()

    def healthy(self) -> bool:
        return self.link.alive() and self._writer.is_alive()

    def check(self) -> None:
        metrics.MQTT_CONNECTED.set(1 if self.link.connected() else 0)
        self.link.remind()
        if not self.link.alive():
            raise GatewayDied("the MQTT network thread has stopped")
        if not self._writer.is_alive():
            raise GatewayDied("the ingest writer thread has stopped")

    def stop(self) -> None:
        clean = self.healthy()  # a dead thread is no clean stop: the watchdog should see the silence
        self._stop.set()
        self.link.stop()
        self._writer.join(timeout=10)
        self._feedback.join(timeout=5)
        if self._beats.is_alive():
            self._beats.join(timeout=5)
        if clean:
            self.heartbeat.stopped()
        log.info("gateway.stopped")
