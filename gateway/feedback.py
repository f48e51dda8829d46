"""Publishes the dispatcher's device feedback (acknowledged, resolved, cancelled) to the devices.

Rows are claimed with SKIP LOCKED, so of several gateways one sends each. A gateway killed after
publishing and before recording sends that feedback again: harmless for a device. Rows for a
commodity button, or of an alert no press of the resident opened (a device alert), are marked done
without being published.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import reading, transaction
from core.schema import Device, DeviceFeedback
from devices.protocol import Topics, feedback

log = structlog.get_logger("jinqiao.gateway")


def publish_pending(
    sessions: sessionmaker[Session],
    topics: Topics,
    publish: Callable[[str, bytes], None],
    now: Callable[[], datetime],
    limit: int = 200,
) -> int:
    with reading(sessions) as s:  # the usual answer is "nothing": never take SQLite's write lock for it
        if s.scalar(select(DeviceFeedback.id).where(DeviceFeedback.sent_at.is_(None)).limit(1)) is None:
            return 0
    with transaction(sessions) as s:
        stmt = select(DeviceFeedback).where(DeviceFeedback.sent_at.is_(None)).order_by(DeviceFeedback.id).limit(limit)
        if s.bind.dialect.name == "postgresql":  # type: ignore[union-attr]  # our sessions are always bound
            stmt = stmt.with_for_update(skip_locked=True)
        rows = s.scalars(stmt).all()
        at = now()
        adapters = (
            dict(
                s.execute(select(Device.id, Device.adapter).where(Device.id.in_({row.device_id for row in rows}))).all()
            )
            if rows
            else {}
        )
        for row in rows:
            row.sent_at = at
            if row.ref is None or adapters.get(row.device_id, "native") != "native":
                # A supervision alert (the device itself was silent) answers no press of the resident's:
                # "help is on the way" would mislead them. A commodity button cannot show anything.
                log.info("device.feedback_skipped", device_id=row.device_id, state=row.state, alert=row.alert_code)
                continue
            publish(
                topics.feedback(row.device_id),
                feedback(row.ref, row.state, row.created_at, alert=row.alert_code, reason=row.reason),
            )
            log.info("device.feedback_sent", device_id=row.device_id, state=row.state, alert=row.alert_code)
        return len(rows)
