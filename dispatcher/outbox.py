"""The outbox sender: claims queued notifications, sends them, records what the provider said.

A row is marked `sending` (committed) before the network call and `sent` after it, so a process
killed in between leaves a `sending` row that is queued again after SENDING_STALE: the one case
in which a message may go out twice. Emergencies go first; each sender number is rate limited.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable, Protocol

import structlog
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.alerts import for_update
from jinqiao.db import transaction
from jinqiao.schema import Notification, TimelineEntry

log = structlog.get_logger("jinqiao.outbox")

SENDING_STALE = timedelta(seconds=60)
MAX_ATTEMPTS = 6
BACKOFF_S = (1, 2, 5, 15, 30, 60)


class SendError(Exception):
    def __init__(self, message: str, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


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
    def __init__(self, sessions: sessionmaker[Session], notifier: Notifier, now: Callable[[], datetime],
                 limiter: RateLimiter, on_failed: Callable[[int], None] = lambda _id: None) -> None:
        self.sessions = sessions
        self.notifier = notifier
        self.now = now
        self.limiter = limiter
        self.on_failed = on_failed  # a page failed for good: the escalation may move on at once
        self._lock = threading.Lock()

    def send_due(self, limit: int = 50) -> int:
        """Claim and send what is due, best first, within the rate limits. Returns how many were tried."""
        with self._lock:
            self.requeue_stale()
            sent = 0
            for channel in ("sms", "voice"):
                budget = min(limit, self.limiter.available(channel))
                if budget <= 0:
                    continue
                for note_id in self._claim(channel, budget):
                    self.limiter.take(channel)
                    self._send_one(note_id)
                    sent += 1
            return sent

    def _claim(self, channel: str, budget: int) -> list[int]:
        with transaction(self.sessions) as s:
            now = self.now()
            notes = s.scalars(for_update(select(Notification).where(
                Notification.status == "queued", Notification.channel == channel, Notification.next_attempt_at <= now
            ).order_by(Notification.priority, Notification.created_at, Notification.id).limit(budget), s)).all()
            for n in notes:
                n.status = "sending"
                n.attempts += 1
                n.sent_at = now  # when the attempt began; SENDING_STALE counts from here
            return [n.id for n in notes]

    def _send_one(self, note_id: int) -> None:
        with self.sessions() as s:
            note = s.get(Notification, note_id)
            s.expunge(note)
        try:
            sid = self.notifier.send(note)
        except SendError as exc:
            self._failed(note, str(exc), exc.temporary)
            return
        except Exception as exc:  # a bug in an adapter must not stop the sender; retried like a 5xx
            log.exception("outbox.notifier_crashed", notification_id=note.id)
            self._failed(note, f"internal error: {exc}", temporary=True)
            return
        with transaction(self.sessions) as s:
            now = self.now()
            status = "delivered" if self.notifier.delivers_at_once else "sent"
            s.execute(update(Notification).where(Notification.id == note.id).values(
                status=status, provider_sid=sid, provider_status=status, sent_at=now,
                final=self.notifier.delivers_at_once, last_error=None))
            if note.alert_id:
                s.add(TimelineEntry(alert_id=note.alert_id, at=now, what=f"{note.channel}_sent", actor=note.recipient_name,
                                    channel=note.channel, detail={"notification_id": note.id, "purpose": note.purpose,
                                                                  "to": note.to_number, "sid": sid}))
        log.info(f"{note.channel}.sent", notification_id=note.id, alert_id=note.alert_id, to=note.to_number,
                 purpose=note.purpose, sid=sid)

    def _failed(self, note: Notification, error: str, temporary: bool) -> None:
        give_up = not temporary or note.attempts >= MAX_ATTEMPTS
        with transaction(self.sessions) as s:
            now = self.now()
            values = dict(last_error=error[:500])
            if give_up:
                values.update(status="failed", final=True, failed=True)
            else:
                values.update(status="queued", next_attempt_at=now + timedelta(seconds=BACKOFF_S[min(note.attempts, len(BACKOFF_S)) - 1]))
            s.execute(update(Notification).where(Notification.id == note.id).values(**values))
            if note.alert_id and give_up:
                s.add(TimelineEntry(alert_id=note.alert_id, at=now, what="delivery_failed", actor=note.recipient_name,
                                    channel=note.channel, detail={"notification_id": note.id, "error": error[:300]}))
        log.warning(f"{note.channel}.failed", notification_id=note.id, error=error[:300], temporary=temporary,
                    attempts=note.attempts, gave_up=give_up)
        if give_up:
            self.on_failed(note.id)

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
        with self.sessions() as s:
            return s.scalar(select(Notification.next_attempt_at).where(Notification.status == "queued")
                            .order_by(Notification.next_attempt_at).limit(1))
