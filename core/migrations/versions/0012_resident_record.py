"""the resident's record file (档案表): sex, birth year, care level, the consent given and by whom, and
the household (alone or empty-nest), the ID number; a contact's country, time zone and SMS language (family abroad)

Revision ID: 0012
Revises: 0016 (0014 to 0016 were merged first)
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0016"
branch_labels = None
depends_on = None

COLUMNS = ("sex", "birth_year", "care_level", "consent_by", "consent_on", "household", "id_number")
CONTACT_COLUMNS = ("country", "timezone", "language")


def upgrade() -> None:
    with op.batch_alter_table("residents") as t:
        t.add_column(sa.Column("sex", sa.String(length=8), nullable=True))
        t.add_column(sa.Column("birth_year", sa.Integer(), nullable=True))
        t.add_column(sa.Column("care_level", sa.String(length=24), nullable=True))
        t.add_column(sa.Column("consent_by", sa.String(length=200), nullable=True))
        t.add_column(sa.Column("consent_on", sa.Date(), nullable=True))
        t.add_column(sa.Column("household", sa.String(length=16), nullable=True))
        t.add_column(sa.Column("id_number", sa.String(length=18), nullable=True))
    op.add_column("contacts", sa.Column("country", sa.String(length=64), nullable=True))
    op.add_column("contacts", sa.Column("timezone", sa.String(length=64), nullable=True))
    op.add_column("contacts", sa.Column("language", sa.String(length=8), server_default="zh", nullable=False))


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0010: a batch would copy and drop `residents`,
    # which the contacts' foreign keys refuse while rows point at it
    for name in reversed(CONTACT_COLUMNS):
        op.drop_column("contacts", name)
    for name in reversed(COLUMNS):
        op.drop_column("residents", name)
