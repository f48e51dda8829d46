"""Pass `supervision`: load, ask dispatcher.supervision (the rules), write. One transaction, safe to repeat.

Each run holds the row lock of `supervision_cursor` (SKIP LOCKED on PostgreSQL: a second
dispatcher skips the pass while one runs it; SQLite has one writer anyway), so two processes never
open the same alert twice. It
1. reads the events stored since its cursor: check-ins (newest per resident), battery levels
   (onto the device) and low batteries (a maintenance item, once per device until an operator
   closes it). The cursor trails `now` by MARGIN_S and the rows after it are read again next time,
   so an event whose transaction committed late is not skipped; each of these steps is idempotent;
2. opens `device` alerts for devices offline past the grace period or silent past their heartbeat
   interval, and queues the close of those whose device is well again;
3. opens one `wellness` alert per resident and local day whose check-in deadline passed unmet,
   with a `checkin_misses` row as the marker (also written, without an alert, when away).
Device alerts that are no longer needed are resolved by the system after the commit, each in
Alerts.resolve's own transaction (a resolved alert is left alone, so a repeat changes nothing).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import structlog
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import (
    Alert,
    Building,
    CheckinMiss,
    Community,
    Device,
    Event,
    MaintenanceItem,
    Resident,
    ResidentCheckin,
    SupervisionCursor,
)
from dispatcher import supervision
from dispatcher.alerts import Alerts
from dispatcher.escalation import OPEN_STATES
from dispatcher.notices import Actor
from dispatcher.supervision import (
    SLEEPING_ADAPTERS,
    CloseDeviceAlert,
    DeviceView,
    OpenDeviceAlert,
    ResidentView,
    Rules,
)

log = structlog.get_logger("jinqiao.supervision")

CURSOR = "events"
MARGIN_S = 10.0  # how far behind `now` the cursor stays: longer than any commit of a gateway batch
SCAN_LIMIT = 20_000
SYSTEM = Actor("system", "system")


@dataclass
class PassResult:
    opened: int = 0
    closed: int = 0
    maintenance: int = 0
    more: bool = False  # the scan stopped at its limit: run again at once

    def __bool__(self) -> bool:
        return bool(self.opened or self.closed or self.maintenance or self.more)


class Supervisor:
    def __init__(
        self, sessions: sessionmaker[Session], alerts: Alerts, now: Callable[[], datetime], rules: Rules = Rules()
    ) -> None:
        self.sessions = sessions
        self.alerts = alerts
        self.now = now
        self.rules = rules

    def run(self) -> PassResult:
        result = PassResult()
        closes: list[CloseDeviceAlert] = []
        try:
            with transaction(self.sessions) as s:
                cursor = self._claim(s)
                if cursor is None:
                    return result  # another dispatcher is running this pass right now
                now = self.now()
                devices = self._devices(s)
                result.more, levels = self._scan(s, cursor, devices, now, result)
                residents = self._residents(s)  # after the scan: it may have stored a check-in
                closes = self._devices_pass(s, devices, residents, now, result)
                self._checkins(s, residents, now, result)
                cursor.ran_at = now
        except IntegrityError:  # two first runs created the cursor at once; the next run is normal
            log.info("supervision.cursor_race")
            return result
        self._store_levels(levels, devices)
        for close in closes:
            outcome = self.alerts.resolve(close.alert_id, SYSTEM, "other", f"device {close.device_id} is back")
            if outcome.changed:
                result.closed += 1
                log.info("supervision.device_alert_closed", alert_id=close.alert_id, device_id=close.device_id)
        if result.opened:
            self.alerts.on_outbox()
            self.alerts.on_timer()
        return result

    # --- loading ----------------------------------------------------------------------------------

    def _claim(self, s: Session) -> SupervisionCursor | None:
        stmt = select(SupervisionCursor).where(SupervisionCursor.name == CURSOR)
        if s.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        cursor = s.scalars(stmt).first()
        if cursor is None:
            if s.scalar(select(func.count()).select_from(SupervisionCursor).where(SupervisionCursor.name == CURSOR)):
                return None  # it exists and is locked
            cursor = SupervisionCursor(name=CURSOR, last_event_id=0)
            s.add(cursor)
            s.flush()
        return cursor

    def _residents(self, s: Session) -> dict[str, ResidentView]:
        rows = s.execute(
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
        ).all()
        return {r[0]: ResidentView(r[0], r[1] or "Asia/Shanghai", *r[2:]) for r in rows}

    def _devices(self, s: Session) -> dict[str, tuple[DeviceView, int | None]]:
        rows = s.execute(
            select(
                Device.id,
                Device.resident_id,
                Device.heartbeat_s,
                Device.last_seen_at,
                Device.status,
                Device.status_at,
                Device.battery,
                Device.adapter,
            ).where(Device.active.is_(True))
        ).all()
        return {r[0]: (DeviceView(*r[:6], sleeps=r[7] in SLEEPING_ADAPTERS), r[6]) for r in rows}

    # --- 1. events since the cursor -----------------------------------------------------------

    def _scan(
        self, s: Session, cursor: SupervisionCursor, devices: dict, now: datetime, result: PassResult
    ) -> tuple[bool, dict[str, int]]:
        rows = s.execute(
            select(Event.id, Event.device_id, Event.type, Event.battery, Event.received_at)
            .where(Event.id > cursor.last_event_id)
            .order_by(Event.id)
            .limit(SCAN_LIMIT)
        ).all()
        settled_before = now - timedelta(seconds=MARGIN_S)
        checkins: dict[str, datetime] = {}
        levels: dict[str, int] = {}
        low: list[tuple[int, str, int | None]] = []
        advance = cursor.last_event_id
        trailing = False
        for row_id, device_id, kind, battery, received_at in rows:
            if not trailing and received_at <= settled_before:
                advance = row_id
            else:
                trailing = True  # from here on, read again next time
            device = devices.get(device_id)
            if device is None:
                continue
            resident_id = device[0].resident_id
            if kind == "checkin" and resident_id:
                checkins[resident_id] = max(received_at, checkins.get(resident_id, received_at))
            if battery is not None:
                levels[device_id] = battery
            if supervision.battery_is_low(battery, kind, self.rules):
                low.append((row_id, device_id, battery))
        self._store_checkins(s, checkins)
        self._maintenance(s, low, devices, now, result)
        moved = advance > cursor.last_event_id
        cursor.last_event_id = advance
        return len(rows) == SCAN_LIMIT and moved, levels

    def _store_levels(self, levels: dict[str, int], devices: dict) -> None:
        """Each device's newest battery level, for the API, in a short transaction of its own: the
        gateway marks devices seen with every event, and must not wait for this pass. In id order,
        as the gateway locks them, so the two never deadlock. Idempotent: a later run writes the same."""
        changed = [{"d": d, "b": levels[d]} for d in sorted(levels) if devices[d][1] != levels[d]]
        if not changed:
            return
        devices_table = cast(Table, Device.__table__)  # declared as a FromClause; a Table at run time
        stmt = update(devices_table).where(devices_table.c.id == bindparam("d")).values(battery=bindparam("b"))
        with self.sessions.begin() as s:
            s.connection().execute(stmt, changed)

    def _store_checkins(self, s: Session, checkins: dict[str, datetime]) -> None:
        if not checkins:
            return
        known = {
            r.resident_id: r
            for r in s.scalars(select(ResidentCheckin).where(ResidentCheckin.resident_id.in_(list(checkins))))
        }
        for resident_id, at in checkins.items():
            row = known.get(resident_id)
            if row is None:
                s.add(ResidentCheckin(resident_id=resident_id, last_at=at))
            elif at > row.last_at:
                row.last_at = at
        s.flush()

    def _maintenance(
        self, s: Session, low: list[tuple[int, str, int | None]], devices: dict, now: datetime, result: PassResult
    ) -> None:
        if not low:
            return
        ids = sorted({device_id for _, device_id, _ in low})
        items = s.scalars(
            select(MaintenanceItem).where(MaintenanceItem.device_id.in_(ids), MaintenanceItem.reason == "battery_low")
        ).all()
        open_now = {d: item for d, item in ((i.device_id, i) for i in items) if item.closed_at is None}
        newest: defaultdict[str, int] = defaultdict(int)
        for item in items:
            newest[item.device_id] = max(newest[item.device_id], item.source_event)
        for row_id, device_id, battery in low:
            if row_id <= newest[device_id]:
                continue  # a reading already acted on never opens an item again
            if device_id in open_now:
                # one open item is enough; it takes in this reading, so that closing it settles it too
                open_now[device_id].source_event = newest[device_id] = row_id
                continue
            item = MaintenanceItem(
                device_id=device_id,
                resident_id=devices[device_id][0].resident_id,
                reason="battery_low",
                battery=battery,
                source_event=row_id,
                opened_at=now,
            )
            s.add(item)
            open_now[device_id] = item
            newest[device_id] = row_id
            result.maintenance += 1
            log.warning("supervision.battery_low", device_id=device_id, battery=battery)
        s.flush()

    # --- 2. devices ---------------------------------------------------------------------------

    def _devices_pass(
        self, s: Session, devices: dict, residents: dict[str, ResidentView], now: datetime, result: PassResult
    ) -> list[CloseDeviceAlert]:
        open_alerts: dict[str, list[int]] = defaultdict(list)
        for alert_id, device_id in s.execute(
            select(Alert.id, Alert.device_id).where(
                Alert.kind == "device", Alert.state.in_(OPEN_STATES), Alert.device_id.is_not(None)
            )
        ):
            if device_id is not None:  # always, by the where clause; the column itself is nullable
                open_alerts[device_id].append(alert_id)
        views = [view for view, _ in devices.values()]
        closes = []
        for decision in supervision.decide_devices(views, residents, open_alerts, self.rules, now):
            if isinstance(decision, OpenDeviceAlert):
                alert = self.alerts.open_alert(
                    s,
                    resident_id=decision.resident_id,
                    kind="device",
                    reason=decision.reason,
                    now=now,
                    device_id=decision.device_id,
                )
                result.opened += 1
                log.warning(
                    "supervision.device_alert", alert_id=alert.id, device_id=decision.device_id, reason=decision.reason
                )
            else:
                closes.append(decision)
        return closes

    # --- 3. the daily check-in ----------------------------------------------------------------

    def _checkins(self, s: Session, residents: dict[str, ResidentView], now: datetime, result: PassResult) -> None:
        with_deadline = [r for r in residents.values() if r.checkin_deadline]
        if not with_deadline:
            return
        days = {supervision.local_day(r, now).isoformat() for r in with_deadline}
        marked = set(s.execute(select(CheckinMiss.resident_id, CheckinMiss.day).where(CheckinMiss.day.in_(days))).all())
        for resident in with_deadline:
            today = supervision.local_day(resident, now).isoformat()
            miss = supervision.decide_checkin(resident, (resident.id, today) in marked, now)
            if miss is None:
                continue
            alert_id = None
            if not miss.suppressed:
                alert = self.alerts.open_alert(
                    s, resident_id=resident.id, kind="wellness", reason=supervision.CHECKIN_MISSED, now=now
                )
                alert_id = alert.id
                result.opened += 1
            s.add(
                CheckinMiss(
                    resident_id=resident.id,
                    day=miss.day.isoformat(),
                    deadline_at=miss.deadline_at,
                    alert_id=alert_id,
                    at=now,
                )
            )
            log.warning(
                "supervision.checkin_missed",
                resident_id=resident.id,
                day=miss.day.isoformat(),
                alert_id=alert_id,
                away=miss.suppressed,
            )
