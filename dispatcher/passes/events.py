"""Pass `events`: the stored device events become alerts.

Load the unprocessed events (claimed with SKIP LOCKED), ask escalation what a press or a cancel does
(on_press, on_cancel), write the answer, mark the events processed: one transaction per batch.
Small batches on SQLite: a pass holds the one write lock, and the sender waits for it.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.db import transaction
from core.schema import Alert, Device, DeviceFeedback, Event, Resident
from dispatcher import escalation, notices, steps
from dispatcher.escalation import KIND_OF_EVENT, OPEN_STATES, Join, NoteCancel, RejectCancel, State
from dispatcher.notices import Actor
from dispatcher.steps import for_update, pass_size

if TYPE_CHECKING:
    from dispatcher.alerts import Alerts

log = structlog.get_logger("jinqiao.dispatcher")


def run(alerts: Alerts, limit: int | None = None) -> int:
    for attempt in range(3):
        try:
            count, queued = _batch(alerts, limit)
            break
        except IntegrityError as exc:
            # Another dispatcher gave its new alert the code we drew, between our check and our
            # insert (uq_alerts_open_code). Nothing was written; the next draw is another code.
            if attempt == 2 or "uq_alerts_open_code" not in str(exc):
                raise
            log.warning("alert.code_collision", attempt=attempt + 1)
    if queued:
        alerts.on_outbox()
        alerts.on_timer()
    return count


def _batch(alerts: Alerts, limit: int | None) -> tuple[int, bool]:
    with transaction(alerts.sessions) as s, s.no_autoflush:
        limit = limit or pass_size(s)
        events = s.scalars(
            for_update(select(Event).where(Event.processed_at.is_(None)).order_by(Event.id).limit(limit), s)
        ).all()
        now = alerts.now()
        queued = False
        for ev in events:
            queued |= _handle(alerts, s, ev, now)
            ev.processed_at = now
    return len(events), queued


def _handle(alerts: Alerts, s: Session, ev: Event, now: datetime) -> bool:
    device = s.get(Device, ev.device_id)
    resident_id = device.resident_id if device is not None else None
    if device is None or resident_id is None:
        log.warning("dispatcher.event_without_resident", device_id=ev.device_id, event_id=ev.event_id)
        return False
    if ev.type in KIND_OF_EVENT:
        _open_or_join(alerts, s, device, resident_id, ev, now)
        return True
    if ev.type == "cancel":
        return _cancel(s, device, ev, now)
    return False  # checkin, heartbeat, battery_low: supervision reads them from the events table


def _open_or_join(alerts: Alerts, s: Session, device: Device, resident_id: str, ev: Event, now: datetime) -> None:
    kind = KIND_OF_EVENT[ev.type]
    if s.get_bind().dialect.name == "postgresql":
        # Two dispatchers handling two presses of one resident: the second waits here, then
        # sees the first one's alert and joins it instead of opening another.
        s.execute(select(Resident.id).where(Resident.id == resident_id).with_for_update())
    alert = s.scalars(
        for_update(
            select(Alert)
            .where(Alert.resident_id == resident_id, Alert.kind == kind, Alert.state.in_(OPEN_STATES))
            .order_by(Alert.id)
            .limit(1),
            s,
        )
    ).first()
    press = escalation.on_press(alert.repeat_presses if alert is not None else None)
    if isinstance(press, Join):
        assert alert is not None
        alert.repeat_presses = press.repeat_presses
        alert.updated_at = now
        alert.source_event_id = ev.event_id
        notices.timeline(
            s,
            alert,
            now,
            "repeat_press",
            Actor("resident", "device"),
            {"event_id": ev.event_id, "type": ev.type, "device_id": device.id, "count": alert.repeat_presses},
        )
        log.info("alert.repeat_press", alert_id=alert.id, device_id=device.id, event_id=ev.event_id)
        return
    steps.open_alert(
        s,
        alerts.recipients,
        alerts.codes,
        resident_id=resident_id,
        kind=kind,
        reason=ev.type,
        now=now,
        device_id=device.id,
        source_event_id=ev.event_id,
    )


def _cancel(s: Session, device: Device, ev: Event, now: datetime) -> bool:
    """A resident's cancel takes back their own call. The device is told what became of it, always."""
    alert = s.scalars(
        for_update(
            select(Alert)
            .where(Alert.resident_id == device.resident_id, Alert.kind == "emergency", Alert.state.in_(OPEN_STATES))
            .order_by(Alert.id.desc())
            .limit(1),
            s,
        )
    ).first()
    decision = escalation.on_cancel(State(alert.state) if alert is not None else None)
    if isinstance(decision, RejectCancel):
        s.add(
            DeviceFeedback(
                device_id=device.id,
                ref=ev.event_id,
                alert_code=None,
                state="rejected",
                reason=decision.reason,
                created_at=now,
            )
        )
        log.info("alert.cancel_without_alert", device_id=device.id, event_id=ev.event_id)
        return False
    assert alert is not None
    actor = Actor("resident", "device")
    if isinstance(decision, NoteCancel):
        notices.timeline(s, alert, now, "cancel_recorded", actor, {"event_id": ev.event_id})
        s.add(
            DeviceFeedback(
                device_id=device.id, ref=ev.event_id, alert_code=alert.code, state="acknowledged", created_at=now
            )
        )
        log.info("alert.cancel_after_ack", alert_id=alert.id, alert_code=alert.code)
        return False
    alert.state = State.CANCELLED
    alert.next_action_at = None
    alert.updated_at = now
    alert.source_event_id = ev.event_id
    notices.timeline(s, alert, now, "cancelled", actor, {"event_id": ev.event_id})
    notices.skip_unsent_pages(s, alert)
    place = steps.place_of(s, alert.resident_id)
    notices.notice_others(s, alert, place, now, actor, "cancelled")
    s.add(
        DeviceFeedback(device_id=device.id, ref=ev.event_id, alert_code=alert.code, state="cancelled", created_at=now)
    )
    notices.family(s, alert, place, now, cancelled=True)
    log.info("alert.cancelled", alert_id=alert.id, alert_code=alert.code)
    return True
