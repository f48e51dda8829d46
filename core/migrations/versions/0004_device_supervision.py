"""device supervision: maintenance items, the supervision cursor, check-ins and missed check-ins

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import core.schema

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OPEN = sa.text("closed_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "maintenance_items",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("battery", sa.Integer(), nullable=True),
        sa.Column("source_event", sa.Integer(), nullable=False),
        sa.Column("opened_at", core.schema.UtcDateTime(), nullable=False),
        sa.Column("closed_at", core.schema.UtcDateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("maintenance_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_maintenance_items_device_id"), ["device_id"], unique=False)
        batch_op.create_index(
            "uq_maintenance_open", ["device_id", "reason"], unique=True, postgresql_where=OPEN, sqlite_where=OPEN
        )
    op.create_table(
        "supervision_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", core.schema.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    # the pass's lock row exists from the start, so two first runs never race to create it
    op.bulk_insert(
        sa.table("supervision_cursor", sa.column("name", sa.String), sa.column("last_event_id", sa.Integer)),
        [{"name": "events", "last_event_id": 0}],
    )
    op.create_table(
        "resident_checkins",
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("last_at", core.schema.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("resident_id"),
    )
    op.create_table(
        "checkin_misses",
        sa.Column("resident_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("deadline_at", core.schema.UtcDateTime(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=True),
        sa.Column("at", core.schema.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("resident_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("checkin_misses")
    op.drop_table("resident_checkins")
    op.drop_table("supervision_cursor")
    with op.batch_alter_table("maintenance_items", schema=None) as batch_op:
        batch_op.drop_index("uq_maintenance_open")
        batch_op.drop_index(batch_op.f("ix_maintenance_items_device_id"))
    op.drop_table("maintenance_items")
