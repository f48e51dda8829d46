"""The migrations build exactly the tables the models describe: a column added to a model without a
migration (or the other way round) shows up here, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.schema import Base


def test_the_migrated_database_is_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
