"""The database schema: the single source of truth for every process.

Registry tables use the stable ids of the import file as primary keys, so an import is an upsert.
All times are stored as naive UTC datetimes (UtcDateTime makes that explicit and portable).
"""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UtcDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    pass


# --- registry -------------------------------------------------------------------------------


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("responders.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BuildingPartyMember(Base):
    """Tier `building`: the volunteers (楼道党员) responsible for one building."""

    __tablename__ = "building_party_members"
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), primary_key=True)
    responder_id: Mapped[str] = mapped_column(ForeignKey("responders.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Responder(Base):
    __tablename__ = "responders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    medical_notes: Mapped[str] = mapped_column(Text, default="")
    checkin_deadline: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", community time
    # when the deadline was set up or changed (or an away period ended early): only days that began
    # after it are supervised, so a resident imported at 13:40 gets no alert for that day's 10:00
    checkin_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    away_from: Mapped[datetime | None] = mapped_column(UtcDateTime)
    away_to: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Contact(Base):
    """Family contacts; those marked notify get an informational SMS, never an ask to acknowledge."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("resident_id", "phone"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("adapter", "source"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # also its MQTT user name
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(32), default="pager")
    adapter: Mapped[str] = mapped_column(String(32), default="native")
    source: Mapped[str | None] = mapped_column(String(200))
    heartbeat_s: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str | None] = mapped_column(String(300))  # Mosquitto PBKDF2 form
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # presence, as last reported on the retained status topic
    status: Mapped[str | None] = mapped_column(String(16))
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    battery: Mapped[int | None] = mapped_column(Integer)


class RosterShift(Base):
    """Hotline duty: who is on duty, by kind of day, in the community's time zone."""

    __tablename__ = "roster_shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day_kind: Mapped[str] = mapped_column(String(16))  # workday | weekend | holiday
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", "24:00" allowed; end < start crosses midnight
    responder_id: Mapped[str] = mapped_column(ForeignKey("responders.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class EscalationTier(Base):
    __tablename__ = "escalation_tiers"
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))  # building | mediator | hotline
    channels: Mapped[list] = mapped_column(JSON)  # ["sms", "voice"]
    timeout_s: Mapped[int] = mapped_column(Integer)


class PolicySetting(Base):
    """Scalar policy values (ack_expiry_s, …) as key/value rows."""

    __tablename__ = "policy_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


# --- device ingest ----------------------------------------------------------------------------


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


# --- alerts and escalation ----------------------------------------------------------------------


class Alert(Base):
    """One call for help from one resident. Its timer is `next_action_at`: a row, never memory."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_due", "next_action_at"),
        Index("ix_alerts_resident_open", "resident_id", "state"),
        Index("ix_alerts_code", "code"),
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


# --- accounts (operator board and API) -----------------------------------------------------------


class User(Base):
    """A person who signs in to the board, or a machine's owner of API tokens. Role: viewer < operator < admin."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))  # argon2id, PHC string
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ApiToken(Base):
    """A bearer token for machines; only its SHA-256 is kept (the token itself is 256 random bits)."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random token, the database its SHA-256 and CSRF token,
    so every web process agrees and signing out ends the session everywhere."""

    __tablename__ = "web_sessions"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SignInFailure(Base):
    """One failed sign-in, by account name and by client address: the rate limit counts these rows,
    so several web processes share one limit."""

    __tablename__ = "sign_in_failures"
    __table_args__ = (Index("ix_sign_in_failures_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))  # "name:<name>" or "addr:<ip>"
    at: Mapped[datetime] = mapped_column(UtcDateTime)


# --- device supervision and daily check-in (dispatcher/supervisor.py) ----------------------------


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


class CalendarDay(Base):
    """An operator's word on one calendar day (registry section `calendar`): it wins over chinesecalendar.

    Official holidays and adjusted working days (调休) for years the library does not know yet, and
    local exceptions. Days not listed here follow the library (or plain weekday/weekend).
    """

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the community's local calendar day
    kind: Mapped[str] = mapped_column(String(16))  # workday | weekend | holiday


# --- the watchdog for the watcher (core/heartbeat.py, dispatcher/watchdog.py) ---------------


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
