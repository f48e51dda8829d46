"""Migration 0014 (a notification's provider and its template kind and values) matches the schema and
goes down and up, keeping the outbox's rows."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

from core.db import alembic_config, make_engine, upgrade

NEW = {"provider", "template", "template_params"}


def test_0014_goes_down_and_up(db_url):
    cfg = alembic_config(db_url)
    command.check(cfg)
    engine = make_engine(db_url)
    try:
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO notifications (dedupe_key, to_number, channel, purpose, cycle, priority, body,"
                    " language, status, final, failed, attempts, next_attempt_at, created_at, recipient_name)"
                    " VALUES ('k1', '+8613900000001', 'sms', 'reply', 0, 1, 'x', 'zh-CN', 'queued', false, false, 0,"
                    " '2026-12-03 06:00:00', '2026-12-03 06:00:00', '')"
                )
            )
        command.downgrade(cfg, "0011")
        assert NEW.isdisjoint(c["name"] for c in inspect(engine).get_columns("notifications"))
        upgrade(db_url)
        assert {c["name"] for c in inspect(engine).get_columns("notifications")} >= NEW
        with engine.connect() as c:
            assert c.execute(text("SELECT dedupe_key, template FROM notifications")).all() == [("k1", None)]
    finally:
        engine.dispose()
