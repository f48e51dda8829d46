"""Pass `outbox`: claims queued notifications, sends them, records what the provider said.

A row is marked `sending` (committed, with a lease: dispatcher/outbox_leases.py) before the network
call, and `sent` after it (dispatcher/outbox_results.py). A process killed between the provider's
answer and the record is the one case in which a message may go out twice. Emergencies go first;
each sender number is rate limited (dispatcher/sending.py).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import structlog
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.db import reading, transaction
from core.schema import Notification
from dispatcher import outbox_leases, outbox_results
from dispatcher.outbox_leases import CHANNELS, LEASE
from dispatcher.outbox_results import Attempt
from dispatcher.sending import Notifier, RateLimiter, Refusal, SendError

log = structlog.get_logger("jinqiao.outbox")

REQUEUE_EVERY = timedelta(seconds=10)  # how often the sender looks for rows claimed without a lease


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
        self._results: list[Attempt] = []
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
        """Due rows of every channel within its rate budget, marked `sending` in one transaction."""
        budgets = {channel: min(limit, self.limiter.available(channel)) for channel in CHANNELS}
        if limit <= 0 or not any(b > 0 for b in budgets.values()):
            return []
        with transaction(self.sessions) as s:
            now = self.now()
            notes = outbox_leases.claim(s, budgets, limit, self.owner, now + self.lease, now, self.limiter.take)
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
            return outbox_leases.renew(s, ids, self.owner, now + self.lease)

    def _attempt(self, note: Notification) -> Attempt:
        started = time.monotonic()
        refusals: list[Refusal] = []  # providers that would not take it, on the way (a RoutedNotifier)
        send_noting = getattr(self.notifier, "send_noting", None)
        try:
            sid = send_noting(note, refusals) if send_noting else self.notifier.send(note)
            return Attempt(note, sid=sid, refusals=refusals)
        except SendError as exc:
            return Attempt(note, error=str(exc), temporary=exc.temporary, refusals=refusals)
        except Exception as exc:  # a bug in an adapter must not stop the sender; retried like a 5xx
            log.exception("outbox.notifier_crashed", notification_id=note.id)
            return Attempt(note, error=f"internal error: {exc}", temporary=True)
        finally:
            metrics.PROVIDER_LATENCY.labels(note.channel).observe(time.monotonic() - started)

    def _finish(self, *results: Attempt) -> None:
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
                        outbox_results.record(s, batch, self.now(), self.notifier.delivers_at_once)
                finally:
                    # recorded, or lost with a failed transaction: no longer ours to renew either way, so
                    # an unrecorded row's lease runs out and it goes out again instead of staying `sending`
                    with self._results_lock:
                        self._claimed.difference_update(r.note.id for r in batch)
                for r in batch:
                    outbox_results.log_attempt(r)
                    if r.gave_up:
                        self.on_failed(r.note.id)
        except BaseException:
            with self._results_lock:
                self._recording = False
            raise

    def requeue_stale(self) -> int:
        """Rows left in `sending` without a lease (claimed by a version before leases) go out again."""
        with transaction(self.sessions) as s:
            return outbox_leases.requeue_stale(s, self.now())

    def next_due(self) -> datetime | None:
        with reading(self.sessions) as s:
            return outbox_leases.next_due(s)
