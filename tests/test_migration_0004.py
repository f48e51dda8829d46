"""Migration 0004 (device supervision) matches the schema, and goes down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from core.db import alembic_config, make_engine, upgrade

TABLES = {"maintenance_items", "supervision_cursor", "resident_checkins", "checkin_misses"}


def test_schema_and_migrations_agree_and_0004_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)  # raises if core/schema/ and the migrations differ
    command.downgrade(cfg, "0003")
    engine = make_engine(db_url)
    try:
        assert not TABLES & set(inspect(engine).get_table_names())
        upgrade(db_url)
        assert set(inspect(engine).get_table_names()) >= TABLES
        with engine.connect() as conn:  # the pass's lock row is there from the start
            assert conn.exec_driver_sql("SELECT name, last_event_id FROM supervision_cursor").all() == [("events", 0)]
    finally:
        engine.dispose()
