"""Migration 0007 (an owner and a lease on each outbox claim) matches the schema, and goes down and up."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from core.db import alembic_config, make_engine, upgrade


def test_0007_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)
    command.downgrade(cfg, "0006")
    engine = make_engine(db_url)
    try:
        assert not {"claimed_by", "lease_until"} & {c["name"] for c in inspect(engine).get_columns("notifications")}
        upgrade(db_url)
        inspector = inspect(engine)
        columns = {c["name"]: c for c in inspector.get_columns("notifications")}
        assert columns["claimed_by"]["nullable"] and columns["lease_until"]["nullable"]
    finally:
        engine.dispose()
