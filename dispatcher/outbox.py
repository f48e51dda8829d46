"""The outbox sender: claims queued notifications, sends them, records what the provider said.

A row is marked `sending` (committed) before the network call and `sent` after it. Each claim has
an owner (a uuid drawn when the Outbox is made, so unique per process start) and a lease
(`lease_until`), renewed while the owner is still sending. A row whose lease has run out belongs
to a process that died: the next claim by any sender, the restarted one included, takes it at
once (SPEC 4: after a restart every due step fires at once), instead of after a fixed stale time.
A process killed between the provider's answer and the record is the one case in which a message
may go out twice. Emergencies go first; each sender number is rate limited.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.db import reading, transaction
from core.schema import Notification, TimelineEntry
from dispatcher.steps import for_update

log = structlog.get_logger("jinqiao.outbox")

LEASE = timedelta(seconds=5)  # a claim not renewed for this long is a dead process's: taken over at once
SENDING_STALE = timedelta(seconds=60)  # rows claimed before leases existed (no lease_until)
REQUEUE_EVERY = timedelta(seconds=10)  # how often the sender looks for those
CHANNELS = ("sms", "voice")
MAX_ATTEMPTS = 6
BACKOFF_S = (1, 2, 5, 15, 30, 60)


class SendError(Exception):
    def __init__(self, message: str, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


@dataclass
class _Result:
    """What one attempt to send gave: the provider's id, or an error and whether to retry."""

    note: Notification
    sid: str | None = None
    error: str | None = None
    temporary: bool = False

    @property
    def gave_up(self) -> bool:
        return self.error is not None and (not self.temporary or self.note.attempts >= MAX_ATTEMPTS)


class Notifier(Protocol):
    """A port: the console in the demo, Twilio in production, a recorder in unit tests."""

    sender_id: str
    delivers_at_once: bool  # the console has no delivery reports: sent is delivered

    def send(self, note: Notification) -> str:
        """Send; return the provider's id. Raise SendError on failure."""


@dataclass
class RateLimiter:
    """A token bucket per channel of one sender number (Twilio: about 1 SMS a second for a long code)."""

    per_second: dict[str, float]
    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, float] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)

    def available(self, channel: str) -> int:
        rate = self.per_second.get(channel)
        if rate is None:
            return 1_000_000
        now = self.clock()
        tokens = min(
            max(rate, 1.0), self._tokens.get(channel, max(rate, 1.0)) + (now - self._last.get(channel, now)) * rate
        )
        self._tokens[channel], self._last[channel] = tokens, now
        return int(tokens)

    def take(self, channel: str) -> None:
        if channel in self.per_second:
            self._tokens[channel] = self._tokens.get(channel, 1.0) - 1

    def wait_time(self, channel: str) -> float:
        rate = self.per_second.get(channel)
        if not rate:
            return 0.0
        return max(0.0, (1 - self._tokens.get(channel, 0.0)) / rate)


class Outbox:
    """Sends queued notifications through `workers` concurrent requests (1: in the caller's thread).

    With several workers, send_due claims up to `queue_per_worker` rows per worker, less those still
    in flight, and returns; each worker sends one at a time, its result joins the next group commit,
    and `on_idle` wakes the caller to claim more. One slow provider answer delays only its own message.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        notifier: Notifier,
        now: Callable[[], datetime],
        limiter: RateLimiter,
        on_failed: Callable[[int], None] = lambda _id: None,
        workers: int = 1,
        on_idle: Callable[[], None] = lambda: None,
        queue_per_worker: int = 4,
        owner: str | None = None,
        lease: timedelta = LEASE,
    ) -> None:
        self.owner = owner or uuid.uuid4().hex  # this process start's name on its claims
        self.lease = lease
        self.sessions = sessions
        self.notifier = notifier
        self.now = now
        self.limiter = limiter
        self.on_failed = on_failed  # a page failed for good: the escalation may move on at once
        self.on_idle = on_idle  # a worker came free: the sender may claim more
        self.workers = max(1, workers)
        self.queue_per_worker = max(1, queue_per_worker)
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="outbox") if self.workers > 1 else None
        self._in_flight = 0
        self._results: list[_Result] = []
        self._results_lock = threading.Lock()
        self._recording = False  # a worker is writing results: the others leave theirs to it
        self._next_requeue: datetime | None = None
        self._claimed: set[int] = set()  # rows this process claimed and has not recorded yet
        self._next_renew: datetime | None = None

    def send_due(self, limit: int = 50) -> int:
        """Claim and send what is due, best first, within the rate limits. Returns how many were claimed."""
        with self._lock:
            now = self.now()
            if self._next_requeue is None or now >= self._next_requeue:
                self.requeue_stale()
                self._next_requeue = now + REQUEUE_EVERY
            if self._pool is None:
                notes = self._claim(limit)
                results = []
                for note in notes:
                    self.renew_leases()  # a long batch in the caller's thread keeps its later rows
                    results.append(self._attempt(note))
                self._finish(*results)
                return len(notes)
            self.renew_leases()  # called every tick by the engine: the workers' rows stay ours
            with self._results_lock:
                # a few rows queued per worker keep them busy between claims; not more, so that a new
                # emergency is never stuck behind a long queue of claimed family SMS
                free = self.workers * self.queue_per_worker - self._in_flight
            notes = self._claim(min(limit, free))  # nothing when free <= 0
            with self._results_lock:
                self._in_flight += len(notes)
            for note in notes:
                self._pool.submit(self._work, note)
            return len(notes)

    def idle(self) -> bool:
        with self._results_lock:
            return self._in_flight == 0

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def _work(self, note: Notification) -> None:
        try:
            self._finish(self._attempt(note))
        except Exception:  # the database failed us: the row stays `sending` until its lease runs out
            log.exception("outbox.record_failed", notification_id=note.id)
        finally:
            with self._results_lock:
                self._in_flight -= 1
            self.on_idle()

    def _claim(self, limit: int) -> list[Notification]:
        """Due rows of every channel within its rate budget, marked `sending` in one transaction: queued
        rows whose time has come, and `sending` rows whose owner's lease ran out (it died mid-send)."""
        budgets = {channel: min(limit, self.limiter.available(channel)) for channel in CHANNELS}
        if limit <= 0 or not any(b > 0 for b in budgets.values()):
            return []
        with transaction(self.sessions) as s:
            now = self.now()
            notes: list[Notification] = []
            for channel, budget in budgets.items():
                if budget > 0:
                    notes += s.scalars(
                        for_update(
                            select(Notification)
                            .where(
                                Notification.channel == channel,
                                or_(
                                    and_(Notification.status == "queued", Notification.next_attempt_at <= now),
                                    and_(Notification.status == "sending", Notification.lease_until < now),
                                ),
                            )
                            .order_by(Notification.priority, Notification.created_at, Notification.id)
                            .limit(budget),
                            s,
                        )
                    ).all()
            notes.sort(key=lambda n: (n.priority, n.created_at, n.id))
            notes = notes[:limit]
            for n in notes:
                if n.status == "sending":
                    log.warning(
                        "outbox.lease_taken_over",
                        notification_id=n.id,
                        alert_id=n.alert_id,
                        previous_owner=n.claimed_by,
                        lease_until=n.lease_until.isoformat(),
                    )
                n.status = "sending"
                n.attempts += 1
                n.sent_at = now  # when the attempt began
                n.claimed_by, n.lease_until = self.owner, now + self.lease
                self.limiter.take(n.channel)
            s.flush()
            for n in notes:
                s.expunge(n)
        with self._results_lock:
            if notes and not self._claimed:
                self._next_renew = now + self.lease / 5  # just claimed with a full lease
            self._claimed.update(n.id for n in notes)
        return notes

    def renew_leases(self) -> int:
        """Extend the lease of the rows this process is still sending, at most every fifth of a lease."""
        now = self.now()
        with self._results_lock:
            ids = sorted(self._claimed)
        if not ids or (self._next_renew is not None and now < self._next_renew):
            return 0
        self._next_renew = now + self.lease / 5  # about every tick of the engine (1 s)
        with transaction(self.sessions) as s:
            result = s.execute(
                update(Notification)
                .where(
                    Notification.id.in_(ids), Notification.status == "sending", Notification.claimed_by == self.owner
                )
                .values(lease_until=now + self.lease)
            )
            return result.rowcount

    def _attempt(self, note: Notification) -> _Result:
        started = time.monotonic()
        try:
            return _Result(note, sid=self.notifier.send(note))
        except SendError as exc:
            return _Result(note, error=str(exc), temporary=exc.temporary)
        except Exception as exc:  # a bug in an adapter must not stop the sender; retried like a 5xx
            log.exception("outbox.notifier_crashed", notification_id=note.id)
            return _Result(note, error=f"internal error: {exc}", temporary=True)
        finally:
            metrics.PROVIDER_LATENCY.labels(note.channel).observe(time.monotonic() - started)

    def _finish(self, *results: _Result) -> None:
        """Record results. While one worker writes, the others' results wait and go in its next
        transaction: under load, one commit records many sends."""
        with self._results_lock:
            self._results.extend(results)
            if self._recording or not self._results:
                return  # the worker that is recording takes these along
            self._recording = True
        try:
            while True:
                with self._results_lock:
                    batch, self._results = self._results, []
                    if not batch:
                        self._recording = False
                        return
                try:
                    with transaction(self.sessions) as s:
                        self._record(s, batch, self.now())
                finally:
                    # recorded, or lost with a failed transaction: no longer ours to renew either way, so
                    # an unrecorded row's lease runs out and it goes out again instead of staying `sending`
                    with self._results_lock:
                        self._claimed.difference_update(r.note.id for r in batch)
                for r in batch:
                    self._log(r)
                    if r.gave_up:
                        self.on_failed(r.note.id)
        except BaseException:
            with self._results_lock:
                self._recording = False
            raise

    def _record(self, s: Session, batch: list[_Result], now: datetime) -> None:
        """One UPDATE per kind of outcome for the whole batch (by primary key), and their timeline rows."""
        done = "delivered" if self.notifier.delivers_at_once else "sent"
        sent, retry, failed, timeline = [], [], [], []
        for r in batch:
            note = r.note
            if r.error is None:
                sent.append(
                    dict(
                        id=note.id,
                        status=done,
                        provider_sid=r.sid,
                        provider_status=done,
                        sent_at=now,
                        final=self.notifier.delivers_at_once,
                        last_error=None,
                        lease_until=None,
                    )
                )
                if note.alert_id:
                    timeline.append(
                        TimelineEntry(
                            alert_id=note.alert_id,
                            at=now,
                            what=f"{note.channel}_sent",
                            actor=note.recipient_name,
                            channel=note.channel,
                            detail={
                                "notification_id": note.id,
                                "purpose": note.purpose,
                                "to": note.to_number,
                                "sid": r.sid,
                            },
                        )
                    )
            elif r.gave_up:
                failed.append(
                    dict(
                        id=note.id, status="failed", final=True, failed=True, last_error=r.error[:500], lease_until=None
                    )
                )
                if note.alert_id:
                    timeline.append(
                        TimelineEntry(
                            alert_id=note.alert_id,
                            at=now,
                            what="delivery_failed",
                            actor=note.recipient_name,
                            channel=note.channel,
                            detail={"notification_id": note.id, "error": r.error[:300]},
                        )
                    )
            else:
                wait = BACKOFF_S[min(note.attempts, len(BACKOFF_S)) - 1]
                retry.append(
                    dict(
                        id=note.id,
                        status="queued",
                        last_error=r.error[:500],
                        next_attempt_at=now + timedelta(seconds=wait),
                        lease_until=None,
                    )
                )
        for rows in (sent, retry, failed):
            if rows:
                s.execute(update(Notification), rows)
        s.add_all(timeline)

    @staticmethod
    def _log(r: _Result) -> None:
        note = r.note
        metrics.SENDS.labels(note.channel, "sent" if r.error is None else "failed" if r.gave_up else "retry").inc()
        if r.error is None:
            log.info(
                f"{note.channel}.sent",
                notification_id=note.id,
                alert_id=note.alert_id,
                to=note.to_number,
                purpose=note.purpose,
                sid=r.sid,
            )
        else:
            log.warning(
                f"{note.channel}.failed",
                notification_id=note.id,
                error=r.error[:300],
                temporary=r.temporary,
                attempts=note.attempts,
                gave_up=r.gave_up,
            )

    def requeue_stale(self) -> int:
        """Rows left in `sending` without a lease (claimed by a version before leases) go out again."""
        with transaction(self.sessions) as s:
            cutoff = self.now() - SENDING_STALE
            result = s.execute(
                update(Notification)
                .where(
                    Notification.status == "sending", Notification.lease_until.is_(None), Notification.sent_at < cutoff
                )
                .values(status="queued")
            )
            if result.rowcount:
                log.warning("outbox.requeued_stale", count=result.rowcount)
            return result.rowcount

    def next_due(self) -> datetime | None:
        with reading(self.sessions) as s:
            return s.scalar(
                select(Notification.next_attempt_at)
                .where(Notification.status == "queued")
                .order_by(Notification.next_attempt_at)
                .limit(1)
            )
