"""Migration 0006 (residents.checkin_since) matches the schema; existing deadlines start counting tomorrow."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from alembic import command
from sqlalchemy import select

from core.db import alembic_config, make_engine, session_factory, upgrade
from core.schema import Resident
from registry.store import import_registry


def test_0006_goes_down_and_up_and_gives_existing_deadlines_the_migration_time(db_url, example_registry):
    cfg = alembic_config(db_url)
    command.check(cfg)  # raises if core/schema/ and the migrations differ
    engine = make_engine(db_url)
    try:
        sessions = session_factory(engine)
        import_registry(sessions, example_registry, now=datetime(2020, 1, 1, tzinfo=timezone.utc))
        command.downgrade(cfg, "0005")
        before = datetime.now(timezone.utc)
        upgrade(db_url)
        with sessions() as s:
            since = dict(s.execute(select(Resident.id, Resident.checkin_since)).all())
            deadlines = dict(s.execute(select(Resident.id, Resident.checkin_deadline)).all())
        assert {r for r, d in deadlines.items() if d} == {r for r, t in since.items() if t} != set()
        assert all(before - timedelta(seconds=1) <= t <= datetime.now(timezone.utc) for t in since.values() if t)
    finally:
        engine.dispose()
