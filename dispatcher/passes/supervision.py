"""Pass `supervision`: load, ask dispatcher.supervision (the rules), write. Safe to repeat.

It reads only what may need it (passes/supervision_reads.py): the events since its cursor, the
devices whose `supervise_at` has come (the gateway moves it with every message, devices/health.py)
or that have an open device alert, and the residents whose check-in deadline passed since the
previous run. A healthy fleet costs it a few indexed reads, whatever its size.

Each run holds the row lock of `supervision_cursor` (SKIP LOCKED on PostgreSQL: a second
dispatcher skips the pass while one runs it; SQLite has one writer anyway), so two processes never
open the same alert twice. It
1. reads the events stored since its cursor: check-ins (newest per resident), battery levels
   (onto the device) and low batteries (a maintenance item, once per device until an operator
   closes it). The cursor trails `now` by MARGIN_S and the rows after it are read again next time,
   so an event whose transaction committed late is not skipped; each of these steps is idempotent;
2. opens `device` alerts for the due devices offline past the grace period or silent past their
   heartbeat interval, and queues the close of those whose device is well again (they are read
   while their alert is open; the gateway's write does not close them: closing is the dispatcher's);
3. opens one `wellness` alert per resident and local day whose check-in deadline passed unmet,
   with a `checkin_misses` row as the marker (also written, without an alert, when away).
After the commit, in short transactions of their own: the battery levels, each looked-at device's
next `supervise_at` (`look_again_at`; written only over the value read, so a gateway write in
between wins), and the closes of device alerts no longer needed, each in Alerts.resolve's own
transaction (a resolved alert is left alone, so a repeat changes nothing).
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
from core.schema import CheckinMiss, Device, Event, MaintenanceItem, ResidentCheckin, SupervisionCursor
from dispatcher import supervision
from dispatcher.alerts import Alerts
from dispatcher.notices import Actor
from dispatcher.passes import supervision_reads as reads
from dispatcher.passes.supervision_reads import DueDevice
from dispatcher.supervision import CloseDeviceAlert, OpenDeviceAlert, ResidentView, Rules

log = structlog.get_logger("jinqiao.supervision")

CURSOR = "events"
MARGIN_S = 10.0  # how far behind `now` the cursor stays: longer than any commit of a gateway batch
SCAN_LIMIT = 20_000
WRITE_CHUNK = 500  # rows of one short write transaction after the pass
SYSTEM = Actor("system", "system")


@dataclass
class PassResult:
    opened: int = 0
    closed: int = 0
    maintenance: int = 0
    more: bool = False  # the scan stopped at its limit: run again at once
    # what the run read: the seam that shows a healthy fleet costs nothing (tests, the benchmark)
    devices_examined: int = 0
    residents_examined: int = 0

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
                result.more, levels, known = self._scan(s, cursor, now, result)
                alerted = reads.open_device_alerts(s)
                retired: dict[str, datetime | None] = {}
                devices, more_due = reads.due_devices(s, self.rules.due_by(now), alerted, retired)
                result.more = result.more or more_due
                # after the scan: it may have stored a check-in
                residents = reads.residents(s, {d.view.resident_id for d in devices.values() if d.view.resident_id})
                candidates = reads.checkin_candidates(s, now, cursor.ran_at)
                closes, opened_for = self._devices_pass(s, devices, residents, alerted, now, result)
                self._checkins(s, candidates, now, result)
                result.devices_examined = len(devices)
                result.residents_examined = len(residents.keys() | candidates.keys())
                cursor.ran_at = now
        except IntegrityError:  # two first runs created the cursor at once; the next run is normal
            log.info("supervision.cursor_race")
            return result
        self._store_levels(levels, known)
        self._store_due(devices, residents, alerted.keys() | opened_for, retired, now)
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

    # --- 1. events since the cursor -----------------------------------------------------------

    def _scan(
        self, s: Session, cursor: SupervisionCursor, now: datetime, result: PassResult
    ) -> tuple[bool, dict[str, int], dict[str, tuple[str | None, int | None]]]:
        rows = s.execute(
            select(Event.id, Event.device_id, Event.type, Event.battery, Event.received_at)
            .where(Event.id > cursor.last_event_id)
            .order_by(Event.id)
            .limit(SCAN_LIMIT)
        ).all()
        devices = reads.event_devices(s, {r[1] for r in rows})  # device id -> (resident, stored battery)
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
            resident_id = device[0]
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
        return len(rows) == SCAN_LIMIT and moved, levels, devices

    def _store_levels(self, levels: dict[str, int], devices: dict[str, tuple[str | None, int | None]]) -> None:
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
        self,
        s: Session,
        low: list[tuple[int, str, int | None]],
        devices: dict[str, tuple[str | None, int | None]],
        now: datetime,
        result: PassResult,
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
                resident_id=devices[device_id][0],
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
        self,
        s: Session,
        devices: dict[str, DueDevice],
        residents: dict[str, ResidentView],
        open_alerts: dict[str, list[int]],
        now: datetime,
        result: PassResult,
    ) -> tuple[list[CloseDeviceAlert], set[str]]:
        views = [d.view for d in devices.values()]
        closes, opened_for = [], set()
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
                opened_for.add(decision.device_id)
                log.warning(
                    "supervision.device_alert", alert_id=alert.id, device_id=decision.device_id, reason=decision.reason
                )
            else:
                closes.append(decision)
        return closes, opened_for

    def _store_due(
        self,
        devices: dict[str, DueDevice],
        residents: dict[str, ResidentView],
        alerted: set[str],
        retired: dict[str, datetime | None],
        now: datetime,
    ) -> None:
        """Each looked-at device's next `supervise_at` (None for one out of service), in short
        transactions, in id order (as the gateway locks them). Only over the value read: a message
        stored meanwhile set a newer one."""
        changed = [{"d": d, "old": old, "new": None} for d, old in retired.items()]
        for device_id in sorted(devices):
            device = devices[device_id]
            view = device.view
            resident = residents.get(view.resident_id) if view.resident_id else None
            again = supervision.look_again_at(view, resident, device_id in alerted, self.rules, now)
            if again != device.stored:
                changed.append({"d": device_id, "old": device.stored, "new": again})
        table = cast(Table, Device.__table__)  # declared as a FromClause; a Table at run time
        stmt = (
            update(table)
            .where(table.c.id == bindparam("d"), table.c.supervise_at.is_not_distinct_from(bindparam("old")))
            .values(supervise_at=bindparam("new"))
        )
        changed.sort(key=lambda c: str(c["d"]))
        for i in range(0, len(changed), WRITE_CHUNK):
            with self.sessions.begin() as s:
                s.connection().execute(stmt, changed[i : i + WRITE_CHUNK])

    # --- 3. the daily check-in ----------------------------------------------------------------

    def _checkins(self, s: Session, candidates: dict[str, ResidentView], now: datetime, result: PassResult) -> None:
        """`candidates` have no marker for their local day yet (supervision_reads.checkin_candidates)."""
        for resident in candidates.values():
            miss = supervision.decide_checkin(resident, False, now)
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
