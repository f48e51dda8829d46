"""residents.checkin_since (when the check-in deadline was set up) and device_feedback.reason

Existing residents with a deadline get the migration's time: their first supervised day is the next
local day, never the one already under way. A `rejected` feedback (a cancel with no call to take
back) carries its reason to the device.

Revision ID: 0006
Revises: 0005
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

import core.schema

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: batch mode would rebuild the table, which other tables' rows refer to
    op.add_column("residents", sa.Column("checkin_since", core.schema.UtcDateTime(), nullable=True))
    op.add_column("device_feedback", sa.Column("reason", sa.String(length=32), nullable=True))
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC, as UtcDateTime does
    op.execute(
        sa.text("UPDATE residents SET checkin_since = :now WHERE checkin_deadline IS NOT NULL").bindparams(
            sa.bindparam("now", now, type_=sa.DateTime())
        )
    )


def downgrade() -> None:
    op.drop_column("device_feedback", "reason")  # SQLite 3.35+ drops a column in place
    op.drop_column("residents", "checkin_since")
