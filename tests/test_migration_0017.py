"""Migration 0017 (the record's health fields one by one: conditions, allergies, medicines, mobility,
hospital, needs) goes down and up with residents in the table; the residents already stored get
empty fields (not on file), their other notes kept."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from core.db import alembic_config, make_engine, session_factory, upgrade
from core.schema import Resident
from registry.store import import_registry

HEALTH = {"conditions", "allergies", "medicines", "mobility", "hospital", "needs"}


def test_0017_goes_down_and_up_with_rows_in_place(db_url, example_registry):
    engine = make_engine(db_url)
    try:
        import_registry(session_factory(engine), example_registry)  # a contact points at its resident
        cfg = alembic_config(db_url)
        command.downgrade(cfg, "0013")
        assert not HEALTH & {c["name"] for c in inspect(engine).get_columns("residents")}
        upgrade(db_url)
        assert {c["name"] for c in inspect(engine).get_columns("residents")} >= HEALTH
        with session_factory(engine)() as s:
            zhang = s.get(Resident, "r-zhang")
            assert zhang is not None and zhang.medical_notes == "高血压；青霉素过敏"
            assert (zhang.conditions, zhang.allergies, zhang.medicines, zhang.hospital, zhang.needs) == ("",) * 5
            assert zhang.mobility is None
    finally:
        engine.dispose()
