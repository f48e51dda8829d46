"""Migration 0005 (calendar days) matches the schema, and goes down and up again."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from core.db import alembic_config, make_engine, upgrade


def test_schema_and_migrations_agree_and_0005_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)  # raises if core/schema/ and the migrations differ
    command.downgrade(cfg, "0004")
    engine = make_engine(db_url)
    try:
        assert "calendar_days" not in inspect(engine).get_table_names()
        upgrade(db_url)
        columns = {c["name"]: c for c in inspect(engine).get_columns("calendar_days")}
        assert set(columns) == {"day", "kind"} and not columns["kind"]["nullable"]
        assert inspect(engine).get_pk_constraint("calendar_days")["constrained_columns"] == ["day"]
    finally:
        engine.dispose()
