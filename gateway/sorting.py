"""Sorting a batch: each message from the broker becomes an event, a status or a rejection.

The gateway's writer (gateway/ingest.py) hands each batch it takes to `Sorter.sort` and stores the
parts. A message is read by devices/protocol.py, or by an adapter of devices/adapters.py when its
topic is a commodity button's, then checked against the registry (an active device, a known source).
Whatever the parser or an adapter raises rejects that message alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import Engine, select

from core.schema import Device
from devices import adapters
from devices.protocol import DEVICE_ID, DeviceEvent, Rejected, StatusReport, Topics, parse_event, parse_status
from gateway.failures import text
from gateway.mqtt_link import Inbound
from gateway.sources import KnownSources

log = structlog.get_logger("jinqiao.gateway")

KNOWN_DEVICES_REFRESH_S = 30.0
MISS_RELOAD_MIN_S = 1.0


def classify(message: Inbound, topics: Topics) -> DeviceEvent | StatusReport | Rejected:
    where = topics.split(message.topic)
    if where is None:
        return Rejected("unknown_topic", f"not a device topic: {message.topic[:200]}")
    device_id, kind = where
    if kind == "event":
        return parse_event(device_id, message.payload, message.retained)
    return parse_status(device_id, message.payload)


def _crashed(reason: str, exc: Exception, message: Inbound, topics: Topics) -> Rejected:
    """The rejection of a message the parser or an adapter raised on, naming its device if the topic does."""
    where = topics.split(message.topic)
    device_id = where[0] if where and DEVICE_ID.match(where[0]) else None
    log.error(
        "gateway.parser_crashed",
        reason=reason,
        error=f"{type(exc).__name__}: {exc}"[:300],
        topic=message.topic[:200],
        size=len(message.payload),
    )
    return Rejected(reason, text(f"{type(exc).__name__}: {str(exc)[:200]}"), device_id)


class KnownDevices:
    """Which device ids are registered and active, cached; a miss re-reads (at most once a second)."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._ids: set[str] = set()
        self._loaded_at = float("-inf")

    def _reload(self) -> None:
        with self._engine.connect() as conn:
            self._ids = set(conn.scalars(select(Device.id).where(Device.active.is_(True))))
        self._loaded_at = self._clock()

    def __contains__(self, device_id: str) -> bool:
        age = self._clock() - self._loaded_at
        if age > KNOWN_DEVICES_REFRESH_S or (device_id not in self._ids and age > MISS_RELOAD_MIN_S):
            self._reload()
        return device_id in self._ids


@dataclass
class Batch:
    """One batch, sorted into what goes to which table."""

    events: list[tuple[Inbound, DeviceEvent]] = field(default_factory=list)
    statuses: list[tuple[Inbound, StatusReport]] = field(default_factory=list)
    rejections: list[tuple[Inbound, Rejected]] = field(default_factory=list)
    # events of commodity buttons (devices/adapters.py): stored like the others, but such a device
    # cannot show feedback, so nothing is published back to it
    quiet: list[tuple[Inbound, DeviceEvent]] = field(default_factory=list)

    def lanes(self) -> list[Batch]:
        """The valid messages, then the rejections: each part stored and answered on its own."""
        valid = Batch(events=self.events, statuses=self.statuses, quiet=self.quiet)
        parts = [valid] if self.events or self.statuses or self.quiet else []
        return parts + [Batch(rejections=self.rejections)] if self.rejections else parts

    def messages(self) -> list[Inbound]:
        return [m for part in (self.events, self.statuses, self.rejections, self.quiet) for m, _ in part]


class Sorter:
    """Sorts messages into a `Batch`; `parse` and `adapt` are ports, so a test can hand in one that raises."""

    def __init__(
        self,
        engine: Engine,
        topics: Topics,
        parse: Callable[[Inbound, Topics], DeviceEvent | StatusReport | Rejected] = classify,
        adapt: Callable[..., adapters.Parsed | None] = adapters.parse,
    ) -> None:
        self.classify, self.adapt = parse, adapt
        self.topics = topics
        self.known = KnownDevices(engine)
        self.sources = KnownSources(engine)
        self.adapter_topics = adapters.AdapterTopics()

    def sort(self, messages: list[Inbound], at: datetime) -> Batch:
        batch = Batch()
        for message in messages:
            parsed, quiet = self._meaning(message, at)
            if quiet:
                batch.quiet.append((message, parsed))  # type: ignore[arg-type]  # only events are quiet
            elif isinstance(parsed, DeviceEvent):
                batch.events.append((message, parsed))
            elif isinstance(parsed, StatusReport):
                batch.statuses.append((message, parsed))
            else:
                batch.rejections.append((message, parsed))
        return batch

    def _meaning(self, message: Inbound, at: datetime) -> tuple[DeviceEvent | StatusReport | Rejected, bool]:
        """One message in our terms, and whether it is a commodity button's event (told nothing).

        Whatever the parser or an adapter raises rejects this message alone: nothing a device sends
        may stop the writer. The registry lookups stay outside the net: a database error there is
        the database's, and the batch is retried.
        """
        try:
            parsed = self.classify(message, self.topics)
        except Exception as exc:
            return _crashed("unparseable", exc, message, self.topics), False
        if isinstance(parsed, Rejected) and parsed.reason == "unknown_topic":
            try:
                adapted = self.adapt(message.topic, message.payload, message.retained, at, self.adapter_topics)
            except Exception as exc:
                return _crashed("adapter_error", exc, message, self.topics), False
            if adapted is not None:
                parsed = self.sources.resolve(adapted)
                return parsed, isinstance(parsed, DeviceEvent)
        elif not isinstance(parsed, Rejected) and parsed.device_id not in self.known:
            parsed = Rejected(
                "unregistered", "no active device with this id", parsed.device_id, getattr(parsed, "event_id", None)
            )
        return parsed, False
