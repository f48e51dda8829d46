"""device_days: heartbeats compacted per device and day, once the rows are pruned

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_days",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("heartbeats", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("battery_min", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("device_id", "day"),
    )


def downgrade() -> None:
    op.drop_table("device_days")
