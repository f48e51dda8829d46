"""The statements every message costs: a batch's events, its devices marked seen, its rejections.

Marking a device seen also moves its `supervise_at` (devices/health.py) in the same statement
(PostgreSQL) or transaction (SQLite), so the supervision pass need not look at it until then."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from core.schema import Device, Event, Rejection
from devices.health import SLEEPING_ADAPTERS, supervise_at
from devices.protocol import DeviceEvent, Rejected
from gateway.failures import text
from gateway.mqtt_link import Inbound

HEALTH_CHUNK = 500  # ids per read of the devices' health columns (SQLite's bound on parameters)
MAX_KEPT_PAYLOAD = 64 * 1024  # a larger rejected payload is kept truncated; its size is recorded


class RowWriter:
    """Stores a batch's events and marks their devices seen, and its rejections: the statements every message costs.

    They bypass SQLAlchemy's per-row work (every parameter of every row through its type processors,
    UtcDateTime twice a row), which under load was a quarter of the writer thread's time. Times go
    through the very same processor (received_at once a batch), so what is stored is the same. On
    PostgreSQL each statement runs once a batch, with arrays, instead of once a row; the devices are
    locked in id order, as the sorted per-row updates did, so that gateways never deadlock on them.
    """

    COLUMNS = ("device_id", "event_id", "type", "received_at", "device_ts", "battery", "rssi", "payload")
    REJECTION_COLUMNS = ("received_at", "topic", "device_id", "event_id", "reason", "detail", "size", "payload")

    def __init__(self, engine: Engine) -> None:
        dialect = engine.dialect
        # received_at, device_ts and devices.last_seen_at are all UtcDateTime
        self.to_db = Event.__table__.c.received_at.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
        self.postgres = dialect.name == "postgresql"
        events, devices, columns = Event.__tablename__, Device.__tablename__, ", ".join(self.COLUMNS)
        rejections, rejection_columns = Rejection.__tablename__, ", ".join(self.REJECTION_COLUMNS)
        if self.postgres:
            self.rejections_sql = (
                f"INSERT INTO {rejections} ({rejection_columns}) SELECT %s, t, d, e, r, x, n, p FROM unnest("
                "%b::varchar[], %b::varchar[], %b::varchar[], %b::varchar[], %b::text[], %b::int[], %b::bytea[]"
                ") AS u(t, d, e, r, x, n, p)"
            )
        else:
            self.rejections_sql = (
                f"INSERT INTO {rejections} ({rejection_columns}) "
                f"VALUES ({', '.join(['?'] * len(self.REJECTION_COLUMNS))})"
            )
        # the result processor too: SQLite hands back text, which the health rule needs as datetimes
        self.from_db = Device.__table__.c.status_at.type.dialect_impl(dialect).result_processor(dialect, None) or (
            lambda v: v
        )
        if self.postgres:
            self.insert_sql = (
                f"INSERT INTO {events} ({columns}) SELECT d, e, t, %s, ts, b, r, p FROM unnest("
                "%b::varchar[], %b::varchar[], %b::varchar[], %b::timestamp[], %b::int[], %b::int[], %b::text[]"
                ") AS u(d, e, t, ts, b, r, p) ON CONFLICT (device_id, event_id) DO NOTHING"
            )
            sleeping = ", ".join(f"'{a}'" for a in sorted(SLEEPING_ADAPTERS))
            # devices/health.py's supervise_at in SQL (LEAST skips NULLs); tests/test_supervise_at.py
            # checks both forms give the same instant
            self.touch_sql = (
                f"WITH seen AS MATERIALIZED (SELECT id FROM {devices} WHERE id = ANY(%b::varchar[]) ORDER BY id "
                f"FOR UPDATE) UPDATE {devices} SET last_seen_at = %s, supervise_at = LEAST("
                f"CASE WHEN {devices}.heartbeat_s > 0 THEN %s + make_interval(secs => {devices}.heartbeat_s) END, "
                f"CASE WHEN {devices}.status = 'offline' AND {devices}.adapter NOT IN ({sleeping}) "
                f"THEN {devices}.status_at END) FROM seen WHERE {devices}.id = seen.id"
            )
        else:
            self.insert_sql = (
                f"INSERT INTO {events} ({columns}) VALUES ({', '.join(['?'] * len(self.COLUMNS))}) "
                "ON CONFLICT (device_id, event_id) DO NOTHING"
            )
            self.health_sql = f"SELECT id, heartbeat_s, status, status_at, adapter FROM {devices} WHERE id IN "
            self.touch_sql = f"UPDATE {devices} SET last_seen_at = ?, supervise_at = ? WHERE id = ?"

    def write_rejections(self, conn, rejections: list[tuple[Inbound, Rejected]], at: datetime) -> None:
        """One statement for a batch's rejections: under a flood of bad input they must cost little."""
        rows = [
            (
                text(m.topic)[:300],
                r.device_id,
                r.event_id,
                r.reason,
                r.detail,
                len(m.payload),
                m.payload[:MAX_KEPT_PAYLOAD],
            )
            for m, r in rejections
        ]
        at_db = self.to_db(at)
        if self.postgres:
            conn.exec_driver_sql(self.rejections_sql, (at_db, *(list(column) for column in zip(*rows, strict=False))))
        else:
            conn.exec_driver_sql(self.rejections_sql, [(at_db, *row) for row in rows])

    def write(self, conn, events: list[DeviceEvent], at: datetime) -> None:
        to_db = self.to_db
        at_db = to_db(at)
        rows = [
            (
                e.device_id,
                e.event_id,
                e.type,
                None if e.device_ts is None else to_db(e.device_ts),
                e.battery,
                e.rssi,
                e.payload,
            )
            for e in events
        ]
        seen = sorted({e.device_id for e in events})
        if self.postgres:
            conn.exec_driver_sql(self.insert_sql, (at_db, *(list(column) for column in zip(*rows, strict=False))))
            conn.exec_driver_sql(self.touch_sql, (seen, at_db, at_db))
        else:
            conn.exec_driver_sql(self.insert_sql, [(d, e, t, at_db, ts, b, r, p) for d, e, t, ts, b, r, p in rows])
            conn.exec_driver_sql(self.touch_sql, self._touches(conn, seen, at))

    def _touches(self, conn, seen: list[str], at: datetime) -> list[tuple]:
        """(last_seen_at, supervise_at, id) of each device seen: one read of what health depends on."""
        to_db, from_db = self.to_db, self.from_db
        at_db = to_db(at)
        found = []
        for i in range(0, len(seen), HEALTH_CHUNK):
            ids = tuple(seen[i : i + HEALTH_CHUNK])
            found += conn.exec_driver_sql(self.health_sql + f"({', '.join('?' * len(ids))})", ids).all()
        due = {
            d: supervise_at(
                hb, at, status, None if status_at is None else from_db(status_at), adapter in SLEEPING_ADAPTERS
            )
            for d, hb, status, status_at, adapter in found
        }
        return [(at_db, None if due.get(d) is None else to_db(due[d]), d) for d in seen]
