"""notifications.claimed_by and lease_until: a sender's claim has an owner and a lease

A row a dead process left in `sending` is taken over as soon as its lease runs out, instead of
after a fixed minute. Rows in `sending` from before keep lease_until NULL and are requeued as before.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import core.schema

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMN: batch mode would rebuild a table that other rows refer to
    op.add_column("notifications", sa.Column("claimed_by", sa.String(length=32), nullable=True))
    op.add_column("notifications", sa.Column("lease_until", core.schema.UtcDateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "lease_until")  # SQLite 3.35+ drops a column in place
    op.drop_column("notifications", "claimed_by")
