"""Migration 0012 (the resident's record: sex, birth year, care level, consent, household, ID
number; a contact's country, time zone and SMS language) goes down and up with residents and
contacts in the tables (a batch copy of `residents` would be refused by the contacts' keys)."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, select

from core.db import alembic_config, make_engine, session_factory, upgrade
from core.schema import Contact, Resident
from registry.store import import_registry

RESIDENT = {"sex", "birth_year", "care_level", "consent_by", "consent_on", "household", "id_number"}
CONTACT = {"country", "timezone", "language"}


def test_0012_goes_down_and_up_with_rows_in_place(db_url, example_registry):
    engine = make_engine(db_url)
    try:
        import_registry(session_factory(engine), example_registry)  # a contact points at its resident
        cfg = alembic_config(db_url)
        command.downgrade(cfg, "0016")
        inspector = inspect(engine)
        assert not RESIDENT & {c["name"] for c in inspector.get_columns("residents")}
        assert not CONTACT & {c["name"] for c in inspector.get_columns("contacts")}
        upgrade(db_url)
        inspector = inspect(engine)
        assert {c["name"] for c in inspector.get_columns("residents")} >= RESIDENT
        assert {c["name"] for c in inspector.get_columns("contacts")} >= CONTACT
        with session_factory(engine)() as s:
            assert s.scalars(select(Contact.language)).all() == ["zh"]  # the rows kept, given the default
            assert s.get(Resident, "r-zhang") is not None
    finally:
        engine.dispose()
