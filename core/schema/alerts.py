"""Alerts and everything sent or received about them: the timeline, the notifications outbox,
delivery reports and SMS replies.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class Alert(Base):
    """One call for help from one resident. Its timer is `next_action_at`: a row, never memory."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_due", "next_action_at"),
        Index("ix_alerts_resident_open", "resident_id", "state"),
        Index("ix_alerts_code", "code"),
        Index("ix_alerts_kind_state", "kind", "state"),  # the supervision pass's open device alerts, each second
        # `1 4821` must name one alert: codes are unique among open alerts (two dispatchers may draw alike)
        Index(
            "uq_alerts_open_code",
            "code",
            unique=True,
            postgresql_where=text("state IN ('triggered', 'acknowledged')"),
            sqlite_where=text("state IN ('triggered', 'acknowledged')"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(8))  # short code for SMS replies ("1 4821")
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    device_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # emergency | wellness | device
    reason: Mapped[str] = mapped_column(String(32))  # alarm | fall | checkin_missed | offline | …
    state: Mapped[str] = mapped_column(String(16))  # triggered | acknowledged | resolved | cancelled
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    source_event_id: Mapped[str | None] = mapped_column(String(64))  # the device's event id, for feedback
    cycle: Mapped[int] = mapped_column(Integer, default=0)  # +1 each time an expired ack re-triggers
    tier_index: Mapped[int] = mapped_column(Integer, default=-1)  # last tier notified in this cycle
    tier_round: Mapped[int] = mapped_column(Integer, default=0)  # repeats of that tier
    step: Mapped[int] = mapped_column(Integer, default=0)  # escalation steps taken in this cycle; keys the outbox
    next_action_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    repeat_presses: Mapped[int] = mapped_column(Integer, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    ack_expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(200))
    # who an operator sent to the resident's home (a responder's name, or the operator), and when
    dispatched_to: Mapped[str | None] = mapped_column(String(200))
    dispatched_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)


class TimelineEntry(Base):
    """Every change to an alert: when, what, who, through which channel. Nothing is deleted."""

    __tablename__ = "alert_timeline"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    what: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(200))
    channel: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Notification(Base):
    """The outbox: a row for each SMS or call before any network call is made.

    `dedupe_key` makes every escalation step idempotent: running a step twice finds the row.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("dedupe_key", name="uq_notifications_dedupe"),
        Index("ix_notifications_due", "status", "priority", "next_attempt_at"),
        Index("ix_notifications_sid", "provider_sid"),
        Index("ix_notifications_to", "to_number", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedupe_key: Mapped[str] = mapped_column(String(200))
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    responder_id: Mapped[str | None] = mapped_column(String(64))
    recipient_name: Mapped[str] = mapped_column(String(200), default="")
    to_number: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))  # sms | voice
    purpose: Mapped[str] = mapped_column(String(16))  # page | confirm | notice | family | reply
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    tier_index: Mapped[int | None] = mapped_column(Integer)
    tier_round: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer, default=5)  # lower goes first
    body: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    # queued → sending → sent → delivered | failed (final) ; skipped when no longer needed
    status: Mapped[str] = mapped_column(String(16), default="queued")
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    failed: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    provider_sid: Mapped[str | None] = mapped_column(String(64))
    provider_status: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    # the sender process that claimed the row (`sending`), and until when its claim holds unless renewed
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # who carries it (core/channels.py): None is the deployment's provider for the channel
    provider: Mapped[str | None] = mapped_column(String(16))
    # the message as a template provider sends it (dispatcher/sms_kinds.py): its kind and its values
    template: Mapped[str | None] = mapped_column(String(48))
    template_params: Mapped[dict | None] = mapped_column(JSON)


class DeliveryReport(Base):
    """Every status callback from the provider, kept; (sid, status) once."""

    __tablename__ = "delivery_reports"
    __table_args__ = (UniqueConstraint("provider_sid", "status", name="uq_delivery_reports"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notification_id: Mapped[int | None] = mapped_column(Integer, index=True)
    provider_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class InboundSms(Base):
    """Every SMS reply received, with what we answered; MessageSid makes a redelivered webhook act once."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        UniqueConstraint("message_sid", name="uq_inbound_sms_sid"),
        Index("ix_inbound_from", "from_number", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_sid: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(32))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    understood: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_id: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text)
