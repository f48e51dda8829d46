"""The gateway's core loop: store what devices send, then tell them, then acknowledge the broker.

Messages arrive on paho's thread and wait in a queue. One writer thread takes whatever is waiting
(one message when idle, hundreds under load), stores it all in one transaction, and only after the
commit publishes the `received` / `rejected` feedback and acknowledges each MQTT message. Nothing
is acknowledged that is not on disk: a batch that fails to commit is retried, unacknowledged; one
message the database refuses is isolated and recorded as a rejection (process_until_stored). What each
message means, and so which table it goes to, is sorted out in gateway/sorting.py.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from json.encoder import encode_basestring
from typing import Protocol

import structlog
from sqlalchemy import Engine, insert, select, update

from core import metrics, wakeups
from core.clock import utcnow
from core.db import write_lock
from core.schema import Device, PresenceChange
from devices import adapters
from devices.protocol import DEVICE_ID, DeviceEvent, Rejected, StatusReport, Topics, feedback
from gateway.failures import first_line, of_the_message, transient
from gateway.mqtt_link import RECEIVE_MAXIMUM, Inbound
from gateway.rows import RowWriter
from gateway.sorting import Batch, Sorter, classify

log = structlog.get_logger("jinqiao.gateway")

MAX_BATCH = 1000  # messages of one transaction
MAX_TAKE = RECEIVE_MAXIMUM  # messages the writer sorts in one round (a batch at a time): all the broker may send
LOGGED_REJECTIONS = 5  # per batch, each on its own line; the rest of a flood in one line (all are in the table)


class Link(Protocol):
    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, reply_to: Inbound | None = None
    ) -> None: ...
    def ack(self, message: Inbound) -> None: ...


def received_feedback(at: datetime) -> Callable[[str], bytes]:
    """`feedback(ref, "received", at)` byte for byte, with the part all events of a batch share made once."""
    sample = feedback("", "received", at)
    head = b'{"ref":'
    if not sample.startswith(head + b'"",'):  # feedback's layout changed: use it as it is
        return lambda ref: feedback(ref, "received", at)
    tail = sample[len(head) + 2 :]
    return lambda ref: head + encode_basestring(ref).encode() + tail


class Ingest:
    def __init__(
        self,
        engine: Engine,
        topics: Topics,
        link: Link | None = None,
        now: Callable[[], datetime] = utcnow,
        max_batch: int = MAX_BATCH,
        parse: Callable[[Inbound, Topics], DeviceEvent | StatusReport | Rejected] = classify,
        adapt: Callable[..., adapters.Parsed | None] = adapters.parse,
    ) -> None:
        self.engine = engine
        self.sorter = Sorter(engine, topics, parse, adapt)  # ports, so a test can hand in a parser that raises
        self.topics = topics
        self.link = link
        self.now = now
        self.max_batch = max_batch
        self.on_stored: Callable[[], None] = lambda: None  # in one process, wakes the dispatcher at once
        self._queue: queue.Queue[Inbound] = queue.Queue()
        self._events = RowWriter(engine)

    # paho's thread
    def submit(self, message: Inbound) -> None:
        self._queue.put(message)

    def pending(self) -> int:
        return self._queue.qsize()

    # the writer thread
    def run(self, stop: threading.Event) -> None:
        """Valid messages first: rejections wait in a backlog, stored a chunk at a time between rounds.

        Each round takes, a batch at a time, all that waits (up to the broker's window), storing and
        answering each batch's valid messages at once, then stores one chunk of the backlog. During
        a flood of bad input an alarm so waits for at most one chunk of rejections, not for every
        bad message that came before it.
        """
        backlog: list[tuple[Inbound, Rejected]] = []
        while not stop.is_set():
            taken = 0
            while taken < MAX_TAKE:
                messages = self._take(wait=0.2 if not (backlog or taken) else 0.0)
                if not messages:
                    break
                taken += len(messages)
                try:
                    batch = self.sort(messages)
                except Exception as exc:  # the registry could not be read: process_until_stored retries
                    log.error("gateway.sort_failed", error=first_line(exc), batch=len(messages))
                    if not self.process_until_stored(messages, stop):
                        return
                    continue
                valid = Batch(events=batch.events, statuses=batch.statuses, quiet=batch.quiet)
                if valid.messages() and not self.process_until_stored(valid.messages(), stop, valid):
                    return
                backlog += batch.rejections
            if backlog:
                chunk, backlog = backlog[: self.max_batch], backlog[self.max_batch :]
                if not self.process_until_stored([m for m, _ in chunk], stop, Batch(rejections=chunk)):
                    return

    def _take(self, wait: float) -> list[Inbound]:
        """What waits, up to one batch; waits `wait` seconds for a first message."""
        try:
            messages = [self._queue.get(timeout=wait) if wait else self._queue.get_nowait()]
        except queue.Empty:
            return []
        while len(messages) < self.max_batch:
            try:
                messages.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return messages

    def process_until_stored(self, messages: list[Inbound], stop: threading.Event, batch: Batch | None = None) -> bool:
        """Store and answer these messages; False only when told to stop first (then nothing is acknowledged).

        A transient failure (the connection, a lock) retries the same batch. Any other failure retries
        the batch one message at a time, so that one message the database refuses holds back no other:
        that message is recorded as a `store_failed` rejection, answered and acknowledged. A failure that
        is not the message's own (a missing table) keeps retrying that message: acknowledging every
        alarm as refused would lose them all.
        """
        delay = 0.1
        done: set[int] = set()
        while True:
            try:
                self.process(messages, done, batch)
                return True
            except Exception as exc:
                failure = exc
                messages, batch = [m for m in messages if id(m) not in done], None  # sorted anew
            if not messages:  # all of it is stored and answered; what failed came after (a wake-up)
                log.error("gateway.after_store_failed", error=first_line(failure))
                return True
            metrics.STORE_FAILURES.inc()
            if not transient(failure):
                if len(messages) > 1:
                    log.error(
                        "gateway.batch_failed",
                        error=first_line(failure),
                        batch=len(messages),
                        then="one message at a time",
                    )
                    return all(self.process_until_stored([m], stop) for m in messages)
                if of_the_message(failure):
                    return self._reject_unstorable(messages[0], failure, stop)
            log.error("gateway.store_failed", error=first_line(failure), batch=len(messages), retry_in=delay)
            if stop.wait(delay):
                return False  # unacknowledged: the broker delivers these again
            delay = min(delay * 2, 5.0)

    def _reject_unstorable(self, message: Inbound, failure: Exception, stop: threading.Event) -> bool:
        """Record a message the database refused as a `store_failed` rejection, then answer and acknowledge it."""
        where = self.topics.split(message.topic)
        device_id = where[0] if where and DEVICE_ID.match(where[0]) else None
        event_id = None
        try:
            parsed = self.sort([message]).events
            event_id = parsed[0][1].event_id if parsed else None
        except Exception:  # it is refused anyway; the id only helps the device match the answer
            pass
        rejected = Rejected("store_failed", first_line(failure), device_id, event_id)
        delay = 0.1
        while True:
            at = self.now()
            batch = Batch(rejections=[(message, rejected)])
            try:
                self.store(batch, at)
                break
            except Exception as exc:
                log.error("gateway.store_failed", error=first_line(exc), batch=1, retry_in=delay, rejection=True)
                if stop.wait(delay):
                    return False
                delay = min(delay * 2, 5.0)
        self.answer(batch, at)
        return True

    def process(self, messages: list[Inbound], done: set[int] | None = None, batch: Batch | None = None) -> Batch:
        """Store and answer a batch: its valid messages first, in their own transaction, then its rejections.

        Under a flood of bad input an alarm then waits for no rejection of its batch. `done` collects
        (by id) the messages already answered, so that a retry after a failure of the second part
        does not store the first part again. `batch` is `messages` already sorted.
        """
        at = self.now()
        batch = batch or self.sort(messages, at)
        metrics.BATCH_SIZE.observe(len(messages))
        for part in batch.lanes():
            self.store(part, at)
            self.answer(part, at)
            if done is not None:
                done.update(id(m) for m in part.messages())
            if part.events or part.quiet:
                self.on_stored()
        return batch

    def sort(self, messages: list[Inbound], at: datetime | None = None) -> Batch:
        return self.sorter.sort(messages, at or self.now())

    def store(self, batch: Batch, at: datetime) -> None:
        with write_lock(self.engine), self.engine.begin() as conn:
            if batch.events or batch.quiet:
                self._events.write(conn, [e for _, e in batch.events] + [e for _, e in batch.quiet], at)
                wakeups.notify(conn, wakeups.EVENTS)  # a dispatcher in another process looks at once
            if batch.statuses:
                self._store_presence(conn, batch.statuses, at)
            if batch.rejections:
                self._events.write_rejections(conn, batch.rejections, at)

    def _store_presence(self, conn, statuses: list[tuple[Inbound, StatusReport]], at: datetime) -> None:
        ids = sorted({s.device_id for _, s in statuses})
        current = dict(conn.execute(select(Device.id, Device.status).where(Device.id.in_(ids))).all())
        for message, report in statuses:
            # A retained status replayed on reconnect is news only if it differs from what we hold.
            if message.retained and current.get(report.device_id) == report.status:
                continue
            current[report.device_id] = report.status
            conn.execute(
                insert(PresenceChange).values(
                    device_id=report.device_id, status=report.status, at=at, retained=message.retained
                )
            )
            conn.execute(update(Device).where(Device.id == report.device_id).values(status=report.status, status_at=at))

    def answer(self, batch: Batch, at: datetime) -> None:
        """After the commit: feedback to devices, then the broker acknowledgement."""
        batched = getattr(self.link, "batch", None)  # MqttLink: paho's thread is woken once for all of it
        with batched() if batched else nullcontext():
            self._answer(batch, at)

    def _answer(self, batch: Batch, at: datetime) -> None:
        link = self.link
        for kind, n in Counter(e.type for _, e in batch.events + batch.quiet).items():
            metrics.EVENTS_ACCEPTED.labels(kind).inc(n)
        if link and batch.events:
            received = received_feedback(at)
            feedback_topic = self.topics.feedback
            for message, event in batch.events:
                link.publish(feedback_topic(event.device_id), received(event.event_id), reply_to=message)
                link.ack(message)
        if link:
            for message, _ in batch.quiet:
                link.ack(message)
        for message, report in batch.statuses:
            metrics.PRESENCE.labels(report.status).inc()
            if link:
                link.ack(message)
        if batch.rejections:
            self._answer_rejections(batch.rejections, at)

    def _answer_rejections(self, rejections: list[tuple[Inbound, Rejected]], at: datetime) -> None:
        """Counted and logged per reason, each told to its device once, all acknowledged.

        Cheap on purpose, for a flood: a log line for the first few of a batch and one summary line,
        and identical feedback (a device's many refused messages without an id) published once.
        """
        link = self.link
        reasons = Counter(r.reason for _, r in rejections)
        for reason, n in reasons.items():
            metrics.REJECTIONS.labels(reason).inc(n)
        for message, rejected in rejections[:LOGGED_REJECTIONS]:
            log.warning(
                "gateway.rejected",
                reason=rejected.reason,
                detail=rejected.detail,
                topic=message.topic[:200],
                device_id=rejected.device_id,
                event_id=rejected.event_id,
                size=len(message.payload),
            )
        if len(rejections) > LOGGED_REJECTIONS:
            log.warning(
                "gateway.rejected_more",
                count=len(rejections) - LOGGED_REJECTIONS,
                reasons=dict(reasons),
                devices=len({r.device_id for _, r in rejections}),
            )
        if not link:
            return
        told: set[tuple[str, str | None, str]] = set()
        for message, rejected in rejections:
            if rejected.device_id and rejected.reason != "bad_device_id" and message.topic.endswith("/event"):
                key = (rejected.device_id, rejected.event_id, rejected.reason)
                if key not in told:
                    told.add(key)
                    link.publish(
                        self.topics.feedback(rejected.device_id),
                        feedback(rejected.event_id, "rejected", at, reason=rejected.reason),
                        reply_to=message,
                    )
            link.ack(message)
