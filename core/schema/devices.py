"""What devices send (events, rejections, presence) and what they are told (`device_feedback`)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class Event(Base):
    """One stored device event. (device_id, event_id) is unique: a resend is stored once."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("device_id", "event_id", name="uq_events_device_event"),
        Index("ix_events_unprocessed", "processed_at", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    device_ts: Mapped[datetime | None] = mapped_column(UtcDateTime)
    battery: Mapped[int | None] = mapped_column(Integer)
    rssi: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    # the dispatcher's seam: events not yet turned into alerts have processed_at NULL
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DeviceDay(Base):
    """A device's heartbeats of one UTC day, once the rows themselves are pruned (dispatcher/passes/
    retention.py): how many arrived, the first and last, the lowest battery reported."""

    __tablename__ = "device_days"
    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    heartbeats: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)
    battery_min: Mapped[int | None] = mapped_column(Integer)


class Rejection(Base):
    """Bad input, kept with its reason: nothing a device sent is lost, even when it is refused."""

    __tablename__ = "rejections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    topic: Mapped[str] = mapped_column(String(300))
    device_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer)
    payload: Mapped[bytes] = mapped_column(LargeBinary)  # up to MAX_KEPT_PAYLOAD bytes of it


class PresenceChange(Base):
    """Every status message (online/offline) a device's status topic carried, with its time."""

    __tablename__ = "presence_changes"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    retained: Mapped[bool] = mapped_column(Boolean, default=False)


class DeviceFeedback(Base):
    """Outbox towards devices (acknowledged, resolved, cancelled, rejected); the gateway publishes these."""

    __tablename__ = "device_feedback"
    __table_args__ = (Index("ix_device_feedback_unsent", "sent_at", "id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str | None] = mapped_column(String(64))
    alert_code: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))  # with state `rejected`: why
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
