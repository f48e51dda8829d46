"""The outbox rows' claims: take due rows with a lease, renew it, requeue rows left without one.

Each claim has an owner (a uuid per process start) and a lease (`lease_until`), renewed while the
owner is still sending. A row whose lease has run out belongs to a process that died: the next claim
by any sender, the restarted one included, takes it at once (SPEC 4: after a restart every due step
fires at once), instead of after a fixed stale time. Every function works in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import CursorResult, Update, and_, or_, select, update
from sqlalchemy.orm import Session

from core.channels import MEDIA
from core.schema import Notification
from dispatcher.steps import for_update

log = structlog.get_logger("jinqiao.outbox")

LEASE = timedelta(seconds=5)  # a claim not renewed for this long is a dead process's: taken over at once
SENDING_STALE = timedelta(seconds=60)  # rows claimed before leases existed (no lease_until)
CHANNELS = MEDIA  # each claimed within its own budget


def claim(
    s: Session,
    budgets: Mapping[str, int],
    limit: int,
    owner: str,
    until: datetime,
    now: datetime,
    take: Callable[[str], None],
) -> list[Notification]:
    """Due rows of each channel within its budget, best first, at most `limit`, marked `sending` for
    `owner` until `until`: queued rows whose time has come, and `sending` rows whose owner's lease ran
    out (it died mid-send). `take` is told the channel of each row claimed. The rows come back detached."""
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
        if n.status == "sending" and n.lease_until is not None:  # by the query: its lease ran out
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
        n.claimed_by, n.lease_until = owner, until
        take(n.channel)
    s.flush()
    for n in notes:
        s.expunge(n)
    return notes


def renew(s: Session, ids: list[int], owner: str, until: datetime) -> int:
    """Extend to `until` the lease of those of `ids` that `owner` is still sending."""
    result = _changed(
        s,
        update(Notification)
        .where(Notification.id.in_(ids), Notification.status == "sending", Notification.claimed_by == owner)
        .values(lease_until=until),
    )
    return result.rowcount


def requeue_stale(s: Session, now: datetime) -> int:
    """Rows left in `sending` without a lease (claimed by a version before leases) go out again."""
    result = _changed(
        s,
        update(Notification)
        .where(
            Notification.status == "sending",
            Notification.lease_until.is_(None),
            Notification.sent_at < now - SENDING_STALE,
        )
        .values(status="queued"),
    )
    if result.rowcount:
        log.warning("outbox.requeued_stale", count=result.rowcount)
    return result.rowcount


def next_due(s: Session) -> datetime | None:
    """When the next queued row may go out."""
    return s.scalar(
        select(Notification.next_attempt_at)
        .where(Notification.status == "queued")
        .order_by(Notification.next_attempt_at)
        .limit(1)
    )


def _changed(s: Session, stmt: Update) -> CursorResult[Any]:
    """Runs an UPDATE; Session.execute is declared to return a Result, but for DML it is a CursorResult."""
    return cast(CursorResult[Any], s.execute(stmt))
