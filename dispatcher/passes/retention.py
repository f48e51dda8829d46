"""Pass `retention`: heartbeats older than the kept days are compacted into `device_days` and
deleted. A city's devices send tens of millions of heartbeats a day; nothing reads them once the
supervision pass has (devices.last_seen_at and battery hold the device's presence and health).

What is never pruned: any event that is not a heartbeat (presses, falls, check-ins, cancels, low
batteries), an event an alert names (`alerts.source_event_id`: the press that opened it), and an
event not yet processed. So nothing an alert's timeline or a report names goes away.

Each run deletes at most `batch` rows in one short transaction (SQLite has one writer: a press must
never wait behind a long delete) and runs again at once while there is more. The compaction and the
delete share the transaction, so a run that fails changes nothing and a repeat counts nothing twice;
on PostgreSQL the rows are claimed with SKIP LOCKED, so two dispatchers never count a row twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import structlog
from sqlalchemy import and_, delete, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Alert, DeviceDay, Event

log = structlog.get_logger("jinqiao.dispatcher")

RUN_EVERY = timedelta(minutes=10)  # when a run found nothing more to do


def compacted(rows: list[tuple[str, datetime, int | None]]) -> dict[tuple[str, date], dict]:
    """Heartbeats (device, received at, battery) as one `device_days` row each per device and UTC day."""
    days: dict[tuple[str, date], dict] = {}
    for device, at, battery in rows:
        key = (device, at.date())
        d = days.setdefault(
            key,
            {"device_id": device, "day": key[1], "heartbeats": 0, "first_at": at, "last_at": at, "battery_min": None},
        )
        d["heartbeats"] += 1
        d["first_at"], d["last_at"] = min(d["first_at"], at), max(d["last_at"], at)
        if battery is not None:
            d["battery_min"] = battery if d["battery_min"] is None else min(d["battery_min"], battery)
    return days


class Retention:
    def __init__(
        self, sessions: sessionmaker[Session], now: Callable[[], datetime], keep_days: int, batch: int = 5000
    ) -> None:
        self.sessions, self.now, self.keep_days, self.batch = sessions, now, keep_days, batch
        self._idle_until: datetime | None = None

    def run(self) -> bool:
        """True while more may be waiting (the engine runs it again at once)."""
        now = self.now()
        if self.keep_days <= 0 or (self._idle_until is not None and now < self._idle_until):
            return False
        cutoff = now - timedelta(days=self.keep_days)
        with transaction(self.sessions) as s:
            pruned = self._prune(s, cutoff)
        if pruned < self.batch:
            self._idle_until = now + RUN_EVERY
        if pruned:
            log.info("retention.pruned", heartbeats=pruned, older_than=cutoff.isoformat(timespec="seconds"))
        return pruned == self.batch

    def _prune(self, s: Session, cutoff: datetime) -> int:
        named = exists().where(and_(Alert.device_id == Event.device_id, Alert.source_event_id == Event.event_id))
        stmt = (
            select(Event.id, Event.device_id, Event.received_at, Event.battery)
            .where(
                Event.type == "heartbeat",
                Event.received_at < cutoff,
                Event.processed_at.is_not(None),
                ~named,
            )
            .order_by(Event.id)
            .limit(self.batch)
        )
        postgres = s.get_bind().dialect.name == "postgresql"
        if postgres:
            stmt = stmt.with_for_update(skip_locked=True, of=Event)
        rows = s.execute(stmt).all()
        if not rows:
            return 0
        days = compacted([(device, at, battery) for _, device, at, battery in rows])
        dialect = postgresql if postgres else sqlite
        insert = dialect.insert(DeviceDay.__table__)
        upsert = insert.on_conflict_do_update(
            index_elements=["device_id", "day"],
            set_={
                "heartbeats": DeviceDay.__table__.c.heartbeats + insert.excluded.heartbeats,
                "first_at": _least(DeviceDay.__table__.c.first_at, insert.excluded.first_at, postgres),
                "last_at": _greatest(DeviceDay.__table__.c.last_at, insert.excluded.last_at, postgres),
                "battery_min": _least_nullable(
                    DeviceDay.__table__.c.battery_min, insert.excluded.battery_min, postgres
                ),
            },
        )
        s.execute(upsert, list(days.values()))
        s.execute(delete(Event).where(Event.id.in_([r[0] for r in rows])))
        return len(rows)


def _least(a, b, postgres: bool):
    return func.least(a, b) if postgres else func.min(a, b)


def _greatest(a, b, postgres: bool):
    return func.greatest(a, b) if postgres else func.max(a, b)


def _least_nullable(a, b, postgres: bool):
    """The lower of two batteries, either of which may be unknown (NULL): SQLite's min() of a NULL is
    NULL, PostgreSQL's least() skips it."""
    return func.coalesce(_least(a, b, postgres), a, b)
