"""responders.channels: a person's own list of channels, in order, used instead of the tier's

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("responders", sa.Column("channels", sa.JSON(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy would drop `responders`, which rows of
    # other tables refer to
    op.drop_column("responders", "channels")
