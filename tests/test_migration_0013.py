"""Migration 0013 (devices.supervise_at, its trigger, the index on check-in deadlines) goes down and
up, and a device already heard from is looked at by the first pass after the upgrade."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from core.db import alembic_config, make_engine, upgrade
from devices.health import LOOK_NOW


def test_0013_goes_down_and_up_and_marks_the_devices_heard_from(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)
    command.downgrade(cfg, "0012")  # back to before 0013 (and whatever came after it)
    engine = make_engine(db_url)
    try:
        inspector = inspect(engine)
        assert "supervise_at" not in {c["name"] for c in inspector.get_columns("devices")}
        assert "ix_residents_checkin_deadline" not in {i["name"] for i in inspector.get_indexes("residents")}
        assert "ix_alerts_kind_state" not in {i["name"] for i in inspector.get_indexes("alerts")}
        seen = datetime(2026, 12, 1, 2, 0)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO devices (id, kind, adapter, active, last_seen_at) VALUES ('heard', 'pager', 'native', :t, :s)"
                ),
                {"t": True, "s": seen},
            )
            conn.execute(
                text("INSERT INTO devices (id, kind, adapter, active) VALUES ('new', 'pager', 'native', :t)"),
                {"t": True},
            )
        upgrade(db_url)
        inspector = inspect(engine)
        assert "supervise_at" in {c["name"] for c in inspector.get_columns("devices")}
        assert "ix_devices_supervise_at" in {i["name"] for i in inspector.get_indexes("devices")}
        assert "ix_residents_checkin_deadline" in {i["name"] for i in inspector.get_indexes("residents")}
        assert "ix_alerts_kind_state" in {i["name"] for i in inspector.get_indexes("alerts")}
        with engine.begin() as conn:
            due = dict(conn.execute(text("SELECT id, supervise_at FROM devices")).all())
            assert due["new"] is None  # never heard from: nothing to watch
            # the trigger: a write that changes what health depends on, without the column, marks it
            conn.execute(text("UPDATE devices SET status = 'offline' WHERE id = 'new'"))
            conn.execute(text("UPDATE devices SET supervise_at = :t WHERE id = 'heard'"), {"t": seen})
            conn.execute(text("UPDATE devices SET battery = 50 WHERE id = 'heard'"))  # not a health column
            after = dict(conn.execute(text("SELECT id, supervise_at FROM devices")).all())
        look_now = LOOK_NOW.astimezone(UTC).replace(tzinfo=None)
        as_datetime = {k: v if not isinstance(v, str) else datetime.fromisoformat(v) for k, v in due.items() if v}
        assert as_datetime["heard"] == look_now  # backfilled: the first pass looks at it
        after = {k: v if not isinstance(v, str) else datetime.fromisoformat(v) for k, v in after.items()}
        assert after == {"new": look_now, "heard": seen}
    finally:
        engine.dispose()
