"""the record's health fields one by one (issue 12): chronic conditions, allergies, medicines,
mobility, the usual hospital, and needs and services; medical_notes keeps any other notes

Revision ID: 0017
Revises: 0013

The text columns are NOT NULL with an empty default on the server too, so the residents already
stored get "" (not on file), as medical_notes has.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0013"
branch_labels = None
depends_on = None

TEXTS = ("conditions", "allergies", "medicines")
COLUMNS = (*TEXTS, "mobility", "hospital", "needs")


def upgrade() -> None:
    for name in TEXTS:
        op.add_column("residents", sa.Column(name, sa.Text(), server_default="", nullable=False))
    op.add_column("residents", sa.Column("mobility", sa.String(length=24), nullable=True))
    op.add_column("residents", sa.Column("hospital", sa.String(length=200), server_default="", nullable=False))
    op.add_column("residents", sa.Column("needs", sa.Text(), server_default="", nullable=False))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0012: a batch would copy and drop `residents`,
    # which the contacts' foreign keys refuse while rows point at it
    for name in reversed(COLUMNS):
        op.drop_column("residents", name)
