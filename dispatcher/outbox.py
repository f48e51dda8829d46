"""The outbox sender: claims queued notifications, sends them, records what the provider said.

A row is marked `sending` (committed) before the network call and `sent` after it, so a process
killed in between leaves a `sending` row that is queued again after SENDING_STALE: the one case
in which a message may go out twice. Emergencies go first; each sender number is rate limited.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.alerts import for_update
from jinqiao import metrics
from jinqiao.db import reading, transaction
from jinqiao.schema import Notification, TimelineEntry

log = structlog.get_logger("jinqiao.outbox")

SENDING_STALE = timedelta(seconds=60)
REQUEUE_EVERY = timedelta(seconds=10)  # how often the sender looks for rows a dead process left in `sending`
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
        tokens = min(max(rate, 1.0), self._tokens.get(channel, max(rate, 1.0)) + (now - self._last.get(channel, now)) * rate)
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

    def __init__(self, sessions: sessionmaker[Session], notifier: Notifier, now: Callable[[], datetime],
                 limiter: RateLimiter, on_failed: Callable[[int], None] = lambda _id: None, workers: int = 1,
                 on_idle: Callable[[], None] = lambda: None, queue_per_worker: int = 4) -> None:
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

    def send_due(self, limit: int = 50) -> int:
        """Claim and send what is due, best first, within the rate limits. Returns how many were claimed."""
        with self._lock:
            now = self.now()
            if self._next_requeue is None or now >= self._next_requeue:
                self.requeue_stale()
                self._next_requeue = now + REQUEUE_EVERY
            if self._pool is None:
                notes = self._claim(limit)
                self._finish(*[self._attempt(note) for note in notes])
                return len(notes)
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
        except Exception:  # the database failed us: the row stays `sending` and is queued again later
            log.exception("outbox.record_failed", notification_id=note.id)
        finally:
            with self._results_lock:
                self._in_flight -= 1
            self.on_idle()

    def _claim(self, limit: int) -> list[Notification]:
        """Due rows of every channel within its rate budget, marked `sending` in one transaction."""
        budgets = {channel: min(limit, self.limiter.available(channel)) for channel in CHANNELS}
        if limit <= 0 or not any(b > 0 for b in budgets.values()):
            return []
        with transaction(self.sessions) as s:
            now = self.now()
            notes: list[Notification] = []
            for channel, budget in budgets.items():
                if budget > 0:
                    notes += s.scalars(for_update(select(Notification).where(
                        Notification.status == "queued", Notification.channel == channel,
                        Notification.next_attempt_at <= now
                    ).order_by(Notification.priority, Notification.created_at, Notification.id).limit(budget), s)).all()
            notes.sort(key=lambda n: (n.priority, n.created_at, n.id))
            notes = notes[:limit]
            for n in notes:
                n.status = "sending"
                n.attempts += 1
                n.sent_at = now  # when the attempt began; SENDING_STALE counts from here
                self.limiter.take(n.channel)
            s.flush()
            for n in notes:
                s.expunge(n)
            return notes

    def _attempt(self, note: Notification) -> "_Result":
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

    def _finish(self, *results: "_Result") -> None:
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
                with transaction(self.sessions) as s:
                    self._record(s, batch, self.now())
                for r in batch:
                    self._log(r)
                    if r.gave_up:
                        self.on_failed(r.note.id)
        except BaseException:
            with self._results_lock:
                self._recording = False
            raise

    def _record(self, s: Session, batch: list["_Result"], now: datetime) -> None:
        """One UPDATE per kind of outcome for the whole batch (by primary key), and their timeline rows."""
        done = "delivered" if self.notifier.delivers_at_once else "sent"
        sent, retry, failed, timeline = [], [], [], []
        for r in batch:
            note = r.note
            if r.error is None:
                sent.append(dict(id=note.id, status=done, provider_sid=r.sid, provider_status=done, sent_at=now,
                                 final=self.notifier.delivers_at_once, last_error=None))
                if note.alert_id:
                    timeline.append(TimelineEntry(
                        alert_id=note.alert_id, at=now, what=f"{note.channel}_sent", actor=note.recipient_name,
                        channel=note.channel, detail={"notification_id": note.id, "purpose": note.purpose,
                                                      "to": note.to_number, "sid": r.sid}))
            elif r.gave_up:
                failed.append(dict(id=note.id, status="failed", final=True, failed=True, last_error=r.error[:500]))
                if note.alert_id:
                    timeline.append(TimelineEntry(
                        alert_id=note.alert_id, at=now, what="delivery_failed", actor=note.recipient_name,
                        channel=note.channel, detail={"notification_id": note.id, "error": r.error[:300]}))
            else:
                wait = BACKOFF_S[min(note.attempts, len(BACKOFF_S)) - 1]
                retry.append(dict(id=note.id, status="queued", last_error=r.error[:500],
                                  next_attempt_at=now + timedelta(seconds=wait)))
        for rows in (sent, retry, failed):
            if rows:
                s.execute(update(Notification), rows)
        s.add_all(timeline)

    @staticmethod
    def _log(r: "_Result") -> None:
        note = r.note
        metrics.SENDS.labels(note.channel, "sent" if r.error is None else "failed" if r.gave_up else "retry").inc()
        if r.error is None:
            log.info(f"{note.channel}.sent", notification_id=note.id, alert_id=note.alert_id, to=note.to_number,
                     purpose=note.purpose, sid=r.sid)
        else:
            log.warning(f"{note.channel}.failed", notification_id=note.id, error=r.error[:300], temporary=r.temporary,
                        attempts=note.attempts, gave_up=r.gave_up)

    def requeue_stale(self) -> int:
        """Rows left in `sending` by a process that died mid-send go out again."""
        with transaction(self.sessions) as s:
            cutoff = self.now() - SENDING_STALE
            result = s.execute(update(Notification).where(
                Notification.status == "sending", Notification.sent_at < cutoff).values(status="queued"))
            if result.rowcount:
                log.warning("outbox.requeued_stale", count=result.rowcount)
            return result.rowcount

    def next_due(self) -> datetime | None:
        with reading(self.sessions) as s:
            return s.scalar(select(Notification.next_attempt_at).where(Notification.status == "queued")
                            .order_by(Notification.next_attempt_at).limit(1))
