"""the monitoring net's visits, and how often each resident is to be visited

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("residents") as t:
        t.add_column(sa.Column("visit_every_days", sa.Integer(), nullable=True))
        t.add_column(sa.Column("visits_since", sa.DateTime(), nullable=True))  # the visit pass stamps the rest
    op.create_table(
        "visits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by_name", sa.String(length=200), nullable=False),
        sa.Column("responder_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("need", sa.Text(), nullable=True),
        sa.Column("source_key", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(["resident_id"], ["residents.id"]),
        sa.ForeignKeyConstraint(["responder_id"], ["responders.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_key"),
    )
    op.create_index("ix_visits_resident_at", "visits", ["resident_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_visits_resident_at", table_name="visits")
    op.drop_table("visits")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would copy and drop `residents`, which
    # the contacts' foreign keys refuse while rows point at it
    op.drop_column("residents", "visits_since")
    op.drop_column("residents", "visit_every_days")
