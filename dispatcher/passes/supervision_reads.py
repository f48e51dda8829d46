"""What the supervision pass reads: only the rows that may need it, each through an index.

- the devices whose `supervise_at` (devices/health.py) has come, given the slack and grace of the
  rules (`Rules.due_by`), oldest first and at most DUE_LIMIT of them, and those with an open device
  alert, to close it once the device is well again;
- the residents of those devices (for their away periods);
- the residents whose check-in deadline passed since the previous pass: per community time zone,
  those with a deadline in the local window (`checkin_window`), no marker for the local day yet
  and no check-in since local midnight; `decide_checkin` still decides each of them;
- the devices named by the events since the cursor.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from core.schema import Alert, Building, CheckinMiss, Community, Device, Resident, ResidentCheckin
from dispatcher.escalation import OPEN_STATES
from dispatcher.supervision import SLEEPING_ADAPTERS, DeviceView, ResidentView, checkin_window

DEFAULT_TZ = "Asia/Shanghai"
DUE_LIMIT = 5_000  # devices a pass looks at; more are left to the next run, at once
CHUNK = 500  # ids per IN (...)

DEVICE_COLUMNS = (
    Device.id,
    Device.resident_id,
    Device.heartbeat_s,
    Device.last_seen_at,
    Device.status,
    Device.status_at,
    Device.adapter,
    Device.supervise_at,
)


class DueDevice:
    __slots__ = ("view", "stored")

    def __init__(self, view: DeviceView, stored: datetime | None) -> None:
        self.view = view
        self.stored = stored  # supervise_at as read: the pass writes its answer only over this value


def chunks(ids: Iterable[str]) -> Iterable[list[str]]:
    ordered = sorted(set(ids))
    for i in range(0, len(ordered), CHUNK):
        yield ordered[i : i + CHUNK]


def open_device_alerts(s: Session) -> dict[str, list[int]]:
    found: dict[str, list[int]] = defaultdict(list)
    for alert_id, device_id in s.execute(
        select(Alert.id, Alert.device_id).where(
            Alert.kind == "device", Alert.state.in_(OPEN_STATES), Alert.device_id.is_not(None)
        )
    ):
        if device_id is not None:  # always, by the where clause; the column itself is nullable
            found[device_id].append(alert_id)
    return found


def _due(row) -> tuple[str, DueDevice]:
    view = DeviceView(row[0], row[1], row[2], row[3], row[4], row[5], sleeps=row[6] in SLEEPING_ADAPTERS)
    return row[0], DueDevice(view, row[7])


def due_devices(
    s: Session, due_by: datetime, alerted: Iterable[str], retired: dict[str, datetime | None]
) -> tuple[dict[str, DueDevice], bool]:
    """The active devices to look at, and whether more were due than one pass takes. The inactive
    ones that were due go into `retired` (id -> its supervise_at as read)."""
    alerted = set(alerted)
    # a device with an open alert stays due while in trouble: room for those on top of the limit,
    # so that a mass outage neither crowds out the devices newly due nor makes every run "more"
    limit = DUE_LIMIT + len(alerted)
    rows = s.execute(
        select(*DEVICE_COLUMNS, Device.active)
        .where(Device.supervise_at <= due_by)
        .order_by(Device.supervise_at)
        .limit(limit)
    ).all()
    devices = dict(_due(r) for r in rows if r[8])
    # a device taken out of service is not supervised: its instant is cleared, and it is not read again
    retired.update((r[0], r[7]) for r in rows if not r[8])
    missing = [d for d in alerted if d not in devices]
    for ids in chunks(missing):
        devices.update(
            _due(r) for r in s.execute(select(*DEVICE_COLUMNS).where(Device.active.is_(True), Device.id.in_(ids)))
        )
    return devices, len(rows) == limit


def _resident_select():
    return (
        select(
            Resident.id,
            Community.timezone,
            Resident.checkin_deadline,
            Resident.away_from,
            Resident.away_to,
            ResidentCheckin.last_at,
            Resident.checkin_since,
        )
        .join(Building, Building.id == Resident.building_id)
        .join(Community, Community.id == Building.community_id)
        .outerjoin(ResidentCheckin, ResidentCheckin.resident_id == Resident.id)
        .where(Resident.active.is_(True))
    )


def _view(r) -> ResidentView:
    return ResidentView(r[0], r[1] or DEFAULT_TZ, *r[2:])


def residents(s: Session, ids: Iterable[str]) -> dict[str, ResidentView]:
    found: dict[str, ResidentView] = {}
    for chunk in chunks(ids):
        found.update((r[0], _view(r)) for r in s.execute(_resident_select().where(Resident.id.in_(chunk))))
    return found


def checkin_candidates(s: Session, now: datetime, previous: datetime | None) -> dict[str, ResidentView]:
    """`previous`: when the pass last ran. Through the index on residents.checkin_deadline."""
    zones = set(s.scalars(select(Community.timezone).distinct()))
    found: dict[str, ResidentView] = {}
    for zone in sorted({z or DEFAULT_TZ for z in zones}):
        window = checkin_window(zone, now, previous)
        in_zone = Community.timezone == zone
        if zone == DEFAULT_TZ and None in zones:
            in_zone = or_(in_zone, Community.timezone.is_(None))
        stmt = _resident_select().where(
            in_zone,
            Resident.checkin_deadline.is_not(None),
            or_(ResidentCheckin.last_at.is_(None), ResidentCheckin.last_at < window.day_start),
            ~exists().where(and_(CheckinMiss.resident_id == Resident.id, CheckinMiss.day == window.day.isoformat())),
        )
        if window.after is not None:
            stmt = stmt.where(Resident.checkin_deadline > window.after)
        if window.until is not None:
            stmt = stmt.where(Resident.checkin_deadline <= window.until)
        found.update((r[0], _view(r)) for r in s.execute(stmt))
    return found


def event_devices(s: Session, ids: Iterable[str]) -> dict[str, tuple[str | None, int | None]]:
    """The active devices among `ids`: their resident and the battery level stored on them."""
    found: dict[str, tuple[str | None, int | None]] = {}
    for chunk in chunks(ids):
        rows = s.execute(
            select(Device.id, Device.resident_id, Device.battery).where(Device.active.is_(True), Device.id.in_(chunk))
        )
        found.update((r[0], (r[1], r[2])) for r in rows)
    return found
