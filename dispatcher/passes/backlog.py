"""The dispatcher's backlog as gauges: due escalation steps not yet taken, the oldest one's age, and
the outbox by state.

A pass of its own, on a thread of its own: the gauges must go on moving when the escalator or the
sender is stuck, since that is when somebody needs to read them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.db import reading
from core.schema import Alert, Notification
from dispatcher.escalation import OPEN_STATES

OUTBOX_STATES = ("queued", "sending")


class Backlog:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.now = now

    def observe(self) -> bool:
        with reading(self.sessions) as s:
            now = self.now()
            due, oldest = s.execute(
                select(func.count(), func.min(Alert.next_action_at)).where(
                    Alert.next_action_at <= now, Alert.state.in_(OPEN_STATES)
                )
            ).one()
            depth = dict(
                s.execute(
                    select(Notification.status, func.count())
                    .where(Notification.status.in_(OUTBOX_STATES))
                    .group_by(Notification.status)
                ).all()
            )
        metrics.DUE_STEPS.set(due)
        metrics.OLDEST_DUE_AGE.set(max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)
        for state in OUTBOX_STATES:
            metrics.OUTBOX_DEPTH.labels(state).set(depth.get(state, 0))
        return False  # never "more work": it runs on the tick
