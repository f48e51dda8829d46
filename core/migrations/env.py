"""Alembic environment: run from core.db.upgrade (or `jinqiao db upgrade`)."""

from alembic import context
from sqlalchemy import pool

from core.db import make_engine
from core.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, poolclass=pool.NullPool)  # type: ignore[arg-type]  # alembic.ini or our upgrade() always sets it
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=engine.dialect.name == "sqlite",
            # UtcDateTime lives in core/schema/base.py; new migrations name it as the others do
            user_module_prefix="core.schema.",
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations_online()
