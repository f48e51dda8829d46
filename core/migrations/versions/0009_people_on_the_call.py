"""who is on a call and who changed what: display names, who resolved and who went, key holders, the audit list

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users") as t:
        t.add_column(sa.Column("display_name", sa.String(length=100), server_default="", nullable=False))
    with op.batch_alter_table("alerts") as t:
        t.add_column(sa.Column("resolved_by", sa.String(length=200), nullable=True))
        t.add_column(sa.Column("dispatched_to", sa.String(length=200), nullable=True))
        t.add_column(sa.Column("dispatched_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("contacts") as t:
        t.add_column(sa.Column("has_key", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "audit_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entries_at", "audit_entries", ["at"])
    # who resolved a call before this column: the timeline's resolve entry names them
    op.execute(
        "UPDATE alerts SET resolved_by = (SELECT actor FROM alert_timeline t WHERE t.alert_id = alerts.id"
        " AND t.what = 'resolved' ORDER BY t.id DESC LIMIT 1) WHERE state = 'resolved'"
    )


def downgrade() -> None:
    op.drop_index("ix_audit_entries_at", table_name="audit_entries")
    op.drop_table("audit_entries")
    with op.batch_alter_table("contacts") as t:
        t.drop_column("has_key")
    with op.batch_alter_table("alerts") as t:
        t.drop_column("dispatched_at")
        t.drop_column("dispatched_to")
        t.drop_column("resolved_by")
    with op.batch_alter_table("users") as t:
        t.drop_column("display_name")
