"""The watching tables: device supervision and daily check-ins (dispatcher/passes/supervision.py), and the
watchdog for the watcher (core/heartbeat.py, dispatcher/watchdog.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class MaintenanceItem(Base):
    """Something to fix that is not an emergency (a low battery): listed for operators, closed by one."""

    __tablename__ = "maintenance_items"
    __table_args__ = (
        # one open item per device and reason, however many low readings come in
        Index(
            "uq_maintenance_open",
            "device_id",
            "reason",
            unique=True,
            postgresql_where=text("closed_at IS NULL"),
            sqlite_where=text("closed_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(String(64), index=True)
    resident_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))  # battery_low
    battery: Mapped[int | None] = mapped_column(Integer)
    source_event: Mapped[int] = mapped_column(Integer)  # events.id that opened it: never reopened by that one
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)


class SupervisionCursor(Base):
    """How far the supervision pass has read the events table; its row lock serializes the pass."""

    __tablename__ = "supervision_cursor"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    ran_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ResidentCheckin(Base):
    """The newest `checkin` of each resident (from any of their devices)."""

    __tablename__ = "resident_checkins"
    resident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CheckinMiss(Base):
    """A missed daily check-in, once per resident and local day: the marker that makes it once."""

    __tablename__ = "checkin_misses"
    resident_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, community time
    deadline_at: Mapped[datetime] = mapped_column(UtcDateTime)
    alert_id: Mapped[int | None] = mapped_column(Integer)  # None: suppressed (away)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class ProcessHeartbeat(Base):
    """One running instance of a process (a dispatcher, a gateway, the watchdog) and its last beat.

    (kind, name) is the instance: a restart under the same name takes its row over, so the watchdog
    sees the restart as the same process coming back. A clean stop sets stopped_at.
    """

    __tablename__ = "process_heartbeats"
    __table_args__ = (UniqueConstraint("kind", "name", name="uq_process_heartbeats_kind_name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # dispatcher | gateway | watchdog
    name: Mapped[str] = mapped_column(String(200))
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    beat_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class WatchdogFinding(Base):
    """A fault the watchdog paged for, open until its cause is gone: one row, so one page, per cause."""

    __tablename__ = "watchdog_findings"
    __table_args__ = (
        Index(
            "uq_watchdog_findings_open",
            "cause",
            unique=True,
            postgresql_where=text("resolved_at IS NULL"),
            sqlite_where=text("resolved_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cause: Mapped[str] = mapped_column(String(300))  # stable key, e.g. "dispatcher_silent:host:8000"
    kind: Mapped[str] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(300))  # short words for the recovery message
    summary: Mapped[str] = mapped_column(Text)  # the page's text
    since: Mapped[datetime] = mapped_column(UtcDateTime)  # when the fault began (the last beat, …)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recovery_paged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # who was paged, with what outcome
