"""The statements every message costs: a batch's events, its devices marked seen, its rejections."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from core.schema import Device, Event, Rejection
from devices.protocol import DeviceEvent, Rejected
from gateway.failures import text
from gateway.mqtt_link import Inbound

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
        if self.postgres:
            self.insert_sql = (
                f"INSERT INTO {events} ({columns}) SELECT d, e, t, %s, ts, b, r, p FROM unnest("
                "%b::varchar[], %b::varchar[], %b::varchar[], %b::timestamp[], %b::int[], %b::int[], %b::text[]"
                ") AS u(d, e, t, ts, b, r, p) ON CONFLICT (device_id, event_id) DO NOTHING"
            )
            self.touch_sql = (
                f"WITH seen AS MATERIALIZED (SELECT id FROM {devices} WHERE id = ANY(%b::varchar[]) ORDER BY id "
                f"FOR UPDATE) UPDATE {devices} SET last_seen_at = %s FROM seen WHERE {devices}.id = seen.id"
            )
        else:
            self.insert_sql = (
                f"INSERT INTO {events} ({columns}) VALUES ({', '.join(['?'] * len(self.COLUMNS))}) "
                "ON CONFLICT (device_id, event_id) DO NOTHING"
            )
            self.touch_sql = f"UPDATE {devices} SET last_seen_at = ? WHERE id = ?"

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
            conn.exec_driver_sql(self.touch_sql, (seen, at_db))
        else:
            conn.exec_driver_sql(self.insert_sql, [(d, e, t, at_db, ts, b, r, p) for d, e, t, ts, b, r, p in rows])
            conn.exec_driver_sql(self.touch_sql, [(at_db, d) for d in seen])
