"""Pass `escalations`: every alert whose timer has passed takes its next step (escalation.due_step).

Late steps fire at once, none skipped; an expired acknowledgement reopens the alert. Due rows are
claimed with SKIP LOCKED, so two dispatchers never take the same step.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from core.db import reading, transaction
from core.schema import Alert
from dispatcher import escalation, steps
from dispatcher.escalation import OPEN_STATES
from dispatcher.steps import for_update, pass_size

if TYPE_CHECKING:
    from dispatcher.alerts import Alerts


def run(alerts: Alerts, limit: int | None = None) -> int:
    with transaction(alerts.sessions) as s, s.no_autoflush:
        now = alerts.now()
        limit = limit or pass_size(s)
        due = s.scalars(
            for_update(
                select(Alert)
                .where(Alert.next_action_at <= now, Alert.state.in_(OPEN_STATES))
                .order_by(Alert.next_action_at)
                .limit(limit),
                s,
            )
        ).all()
        for alert in due:
            steps.take_step(s, alerts.recipients, alert, now, escalation.due_step)
    if due:
        alerts.on_outbox()
        alerts.on_timer()
    return len(due)


def next_due(alerts: Alerts) -> datetime | None:
    """When the engine must wake for the next timer."""
    with reading(alerts.sessions) as s:
        return s.scalar(
            select(Alert.next_action_at).where(Alert.state.in_(OPEN_STATES)).order_by(Alert.next_action_at).limit(1)
        )
