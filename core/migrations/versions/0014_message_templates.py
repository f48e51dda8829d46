"""notifications carry their provider and the message as template kind + values (Aliyun SMS)

Revision ID: 0014
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notifications", sa.Column("provider", sa.String(length=16), nullable=True))
    op.add_column("notifications", sa.Column("template", sa.String(length=48), nullable=True))
    op.add_column("notifications", sa.Column("template_params", sa.JSON(), nullable=True))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0010 does: no batch copy of the table
    op.drop_column("notifications", "template_params")
    op.drop_column("notifications", "template")
    op.drop_column("notifications", "provider")
