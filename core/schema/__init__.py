"""The database schema: the single source of truth for every process.

One module per part: `base.py` (Base, UtcDateTime), `registry.py`, `devices.py` (what devices send
and are told), `alerts.py` (alerts and their notifications), `accounts.py`, `audit.py` (the admins' changes), `supervision.py` (device
supervision, check-ins, the watchdog), `visits.py` (the monitoring net's visits, follow-up items), `service_team.py` (the volunteers of the service team). Import the tables from here (`from core.schema import Alert`):
importing this package registers every table on `Base.metadata`, which Alembic compares.
"""

from __future__ import annotations

from core.schema.accounts import ApiToken, SignInFailure, User, WebSession
from core.schema.alerts import Alert, DeliveryReport, InboundSms, Notification, TimelineEntry
from core.schema.audit import AuditEntry
from core.schema.base import Base, UtcDateTime
from core.schema.devices import DeviceDay, DeviceFeedback, Event, PresenceChange, Rejection
from core.schema.registry import (
    Building,
    BuildingPartyMember,
    CalendarDay,
    Community,
    Contact,
    Device,
    EscalationTier,
    PolicySetting,
    Resident,
    Responder,
    RosterShift,
)
from core.schema.service_team import ServiceMember
from core.schema.supervision import (
    CheckinMiss,
    MaintenanceItem,
    ProcessHeartbeat,
    ResidentCheckin,
    SupervisionCursor,
    WatchdogFinding,
)
from core.schema.visits import FollowUp, Visit

__all__ = [
    "Visit",
    "FollowUp",
    "ServiceMember",
    "UtcDateTime",
    "Base",
    "Community",
    "Building",
    "BuildingPartyMember",
    "Responder",
    "Resident",
    "Contact",
    "Device",
    "RosterShift",
    "EscalationTier",
    "PolicySetting",
    "CalendarDay",
    "Event",
    "Rejection",
    "PresenceChange",
    "DeviceFeedback",
    "DeviceDay",
    "Alert",
    "TimelineEntry",
    "Notification",
    "DeliveryReport",
    "InboundSms",
    "User",
    "ApiToken",
    "WebSession",
    "SignInFailure",
    "AuditEntry",
    "MaintenanceItem",
    "SupervisionCursor",
    "ResidentCheckin",
    "CheckinMiss",
    "ProcessHeartbeat",
    "WatchdogFinding",
]
