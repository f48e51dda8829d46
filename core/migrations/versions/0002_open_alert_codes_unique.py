"""open alerts' codes are unique

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

OPEN = sa.text("state IN ('triggered', 'acknowledged')")


def upgrade() -> None:
    op.create_index("uq_alerts_open_code", "alerts", ["code"], unique=True, postgresql_where=OPEN, sqlite_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_alerts_open_code", table_name="alerts")
