"""responders.channels: a person's own list of channels, in order, used instead of the tier's

Revision ID: 0018
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("responders", sa.Column("channels", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("responders") as batch:
        batch.drop_column("channels")
