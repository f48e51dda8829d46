"""Migration 0009 (display names, who resolved and who went, key holders, the audit list) matches
the schema and goes down and up."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from core.db import alembic_config, make_engine, upgrade


def test_0009_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)
    command.downgrade(cfg, "0008")
    engine = make_engine(db_url)
    try:
        inspector = inspect(engine)
        assert "audit_entries" not in inspector.get_table_names()
        assert "display_name" not in {c["name"] for c in inspector.get_columns("users")}
        upgrade(db_url)
        inspector = inspect(engine)
        assert "audit_entries" in inspector.get_table_names()
        assert {"resolved_by", "dispatched_to", "dispatched_at"} <= {c["name"] for c in inspector.get_columns("alerts")}
        assert "has_key" in {c["name"] for c in inspector.get_columns("contacts")}
        assert "display_name" in {c["name"] for c in inspector.get_columns("users")}
    finally:
        engine.dispose()
