"""What one attempt to send gave, and how a batch of them is recorded on the outbox rows.

A sent row records the provider's id; a temporary failure goes back in the queue after a back-off;
a row that failed for good (or too often) is `failed`, final. An alert's rows get a timeline entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import update
from sqlalchemy.orm import Session

from core import metrics
from core.schema import Notification, TimelineEntry
from dispatcher.sending import Refusal

log = structlog.get_logger("jinqiao.outbox")

MAX_ATTEMPTS = 6
BACKOFF_S = (1, 2, 5, 15, 30, 60)


@dataclass
class Attempt:
    """What one attempt to send gave: the provider's id, or an error and whether to retry."""

    note: Notification
    sid: str | None = None
    error: str | None = None
    temporary: bool = False
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def gave_up(self) -> bool:
        return self.error is not None and (not self.temporary or self.note.attempts >= MAX_ATTEMPTS)


def record(s: Session, batch: list[Attempt], now: datetime, delivers_at_once: bool) -> None:
    """One UPDATE per kind of outcome for the whole batch (by primary key), and their timeline rows."""
    done = "delivered" if delivers_at_once else "sent"
    sent: list[dict[str, Any]] = []
    retry: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    timeline: list[TimelineEntry] = []
    for r in batch:
        note = r.note
        if note.alert_id:
            timeline.extend(refused(note, r.refusals, now))
        if r.error is None:
            sent.append(
                dict(
                    id=note.id,
                    status=done,
                    provider_sid=r.sid,
                    provider_status=done,
                    sent_at=now,
                    final=delivers_at_once,
                    last_error=None,
                    lease_until=None,
                )
            )
            if note.alert_id:
                timeline.append(
                    note_entry(
                        note,
                        now,
                        f"{note.channel}_sent",
                        {"notification_id": note.id, "purpose": note.purpose, "to": note.to_number, "sid": r.sid},
                    )
                )
        elif r.gave_up:
            failed.append(
                dict(id=note.id, status="failed", final=True, failed=True, last_error=r.error[:500], lease_until=None)
            )
            if note.alert_id:
                timeline.append(
                    note_entry(note, now, "delivery_failed", {"notification_id": note.id, "error": r.error[:300]})
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


def note_entry(note: Notification, now: datetime, what: str, detail: dict[str, Any]) -> TimelineEntry:
    """An entry on the alert's timeline about one of its messages, by the recipient's name."""
    return TimelineEntry(
        alert_id=note.alert_id, at=now, what=what, actor=note.recipient_name, channel=note.channel, detail=detail
    )


def refused(note: Notification, refusals: list[Refusal], now: datetime) -> list[TimelineEntry]:
    """A timeline entry for each provider that would not take the row (its limit for the number)."""
    return [
        note_entry(
            note,
            now,
            "channel_refused",
            {"notification_id": note.id, "by": f.provider, "then": f.then, "reason": f.reason[:300]},
        )
        for f in refusals
    ]


def log_attempt(r: Attempt) -> None:
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
