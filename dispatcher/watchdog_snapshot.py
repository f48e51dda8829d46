"""What the watchdog reads in one round: heartbeats, due steps, waiting outbox rows, the fleet's
newest input, and who is on the hotline duty now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import (
    Alert,
    Community,
    Device,
    Event,
    Notification,
    PresenceChange,
    ProcessHeartbeat,
    Responder,
    RosterShift,
)
from dispatcher.escalation import OPEN_STATES
from dispatcher.watchdog_rules import Beat, DueStep, Fleet, Snapshot, Waiting
from registry.calendar_days import StoredCalendar
from registry.roster import Shift, on_duty

LIMIT = 50  # rows of each kind a snapshot reads: enough to count and to name the oldest


def read_snapshot(s: Session, now: datetime) -> Snapshot:
    beats = tuple(
        Beat(r.kind, r.name, r.host, r.pid, r.beat_at, r.stopped_at)
        for r in s.scalars(select(ProcessHeartbeat).order_by(ProcessHeartbeat.id))
    )
    due = tuple(
        DueStep(code, at)
        for code, at in s.execute(
            select(Alert.code, Alert.next_action_at)
            .where(Alert.state.in_(OPEN_STATES), Alert.next_action_at <= now)
            .order_by(Alert.next_action_at)
            .limit(LIMIT)
        )
        if at is not None  # always, by the where clause; the column itself is nullable
    )
    queued = s.execute(
        select(Notification.id, Notification.next_attempt_at)
        .where(Notification.status == "queued", Notification.next_attempt_at <= now)
        .order_by(Notification.next_attempt_at)
        .limit(LIMIT)
    ).all()
    sending = s.execute(
        select(Notification.id, Notification.sent_at)
        .where(Notification.status == "sending")
        .order_by(Notification.sent_at)
        .limit(LIMIT)
    ).all()
    waiting = tuple(
        sorted(
            [Waiting(i, "queued", at) for i, at in queued] + [Waiting(i, "sending", at or now) for i, at in sending],
            key=lambda w: w.since,
        )
    )
    return Snapshot(beats, due, waiting, read_fleet(s))


def read_fleet(s: Session) -> Fleet:
    longest = s.scalar(
        select(Device.heartbeat_s)
        .where(Device.active.is_(True), Device.heartbeat_s.is_not(None))
        .order_by(Device.heartbeat_s.desc())
        .limit(1)
    )
    # the newest rows by id, not max(time): the primary key answers at once on a large table
    newest = [
        t
        for t in (
            s.scalar(select(Event.received_at).order_by(Event.id.desc()).limit(1)),
            s.scalar(select(PresenceChange.at).order_by(PresenceChange.id.desc()).limit(1)),
        )
        if t
    ]
    return Fleet(max(newest) if newest else None, longest)


@dataclass(frozen=True)
class Recipient:
    name: str
    phone: str


def hotline_on_duty(s: Session, calendar: StoredCalendar, now: datetime) -> list[Recipient]:
    """Who is on the hotline duty now, as dispatcher/recipients.py finds them for the tier `hotline`,
    in every community's time zone (the roster is one for all)."""
    shifts = [
        Shift(r.day_kind, r.start, r.end, r.responder_id)
        for r in s.scalars(select(RosterShift).order_by(RosterShift.position))
    ]
    if not shifts:
        return []
    calendar.refresh(s, now)
    zones = sorted(
        {c.timezone or "Asia/Shanghai" for c in s.scalars(select(Community).where(Community.active.is_(True)))}
        or {"Asia/Shanghai"}
    )
    ids: list[str] = []
    for zone in zones:
        ids += [i for i in on_duty(shifts, calendar, ZoneInfo(zone), now) if i not in ids]
    found = {r.id: r for r in s.scalars(select(Responder).where(Responder.id.in_(ids), Responder.active.is_(True)))}
    return [Recipient(found[i].name, found[i].phone) for i in ids if i in found]
