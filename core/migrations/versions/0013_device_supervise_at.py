"""devices.supervise_at: when each device next needs looking at, so the supervision pass reads only those;
an index on residents.checkin_deadline, so it reads only the residents whose deadline just passed,
and one on alerts (kind, state), so it finds the open device alerts without reading the history

Revision ID: 0013
Revises: 0012

The gateway sets the column with every message it stores (devices/health.py says what it is).
Any other write that changes what a device's health depends on (the registry changing its
heartbeat or its resident, a test or a script writing `last_seen_at` or `status` directly, its
first message) and does not set the column itself is caught by a trigger, which writes LOOK_NOW
(1970-01-01): the next pass looks at the device and stores the right instant. Every device
already heard from starts at LOOK_NOW, so the first pass after the upgrade looks at each once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

LOOK_NOW_SQLITE = "'1970-01-01 00:00:00.000000'"  # SQLAlchemy's SQLite DateTime text form
LOOK_NOW_PG = "TIMESTAMP '1970-01-01 00:00:00'"
WATCHED = ("status", "status_at", "heartbeat_s", "adapter", "active", "resident_id")


def _changed(old: str, new: str, distinct: str) -> str:
    """SQL: the write changed something health depends on (last_seen_at only from never to once)."""
    parts = [f"{new}.{c} {distinct} {old}.{c}" for c in WATCHED]
    parts.append(f"({old}.last_seen_at IS NULL AND {new}.last_seen_at IS NOT NULL)")
    return "(" + " OR ".join(parts) + ")"


def upgrade() -> None:
    op.add_column("devices", sa.Column("supervise_at", sa.DateTime(), nullable=True))
    op.create_index("ix_devices_supervise_at", "devices", ["supervise_at"])
    op.create_index("ix_residents_checkin_deadline", "residents", ["checkin_deadline"])
    op.create_index("ix_alerts_kind_state", "alerts", ["kind", "state"])
    columns = ", ".join(("last_seen_at", *WATCHED))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION devices_look_now() RETURNS trigger AS $$ BEGIN "
            f"NEW.supervise_at := {LOOK_NOW_PG}; RETURN NEW; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            f"CREATE TRIGGER devices_look_now_update BEFORE UPDATE OF {columns} ON devices FOR EACH ROW "
            "WHEN (NEW.supervise_at IS NOT DISTINCT FROM OLD.supervise_at AND "
            f"{_changed('OLD', 'NEW', 'IS DISTINCT FROM')}) EXECUTE FUNCTION devices_look_now()"
        )
        op.execute(
            "CREATE TRIGGER devices_look_now_insert BEFORE INSERT ON devices FOR EACH ROW "
            "WHEN (NEW.supervise_at IS NULL AND (NEW.last_seen_at IS NOT NULL OR NEW.status IS NOT NULL)) "
            "EXECUTE FUNCTION devices_look_now()"
        )
        look_now = LOOK_NOW_PG
    else:
        op.execute(
            f"CREATE TRIGGER devices_look_now_update AFTER UPDATE OF {columns} ON devices FOR EACH ROW "
            f"WHEN NEW.supervise_at IS OLD.supervise_at AND {_changed('OLD', 'NEW', 'IS NOT')} "
            f"BEGIN UPDATE devices SET supervise_at = {LOOK_NOW_SQLITE} WHERE id = NEW.id; END"
        )
        op.execute(
            "CREATE TRIGGER devices_look_now_insert AFTER INSERT ON devices FOR EACH ROW "
            "WHEN NEW.supervise_at IS NULL AND (NEW.last_seen_at IS NOT NULL OR NEW.status IS NOT NULL) "
            f"BEGIN UPDATE devices SET supervise_at = {LOOK_NOW_SQLITE} WHERE id = NEW.id; END"
        )
        look_now = LOOK_NOW_SQLITE
    op.execute(f"UPDATE devices SET supervise_at = {look_now} WHERE last_seen_at IS NOT NULL OR status IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS devices_look_now_insert" + (" ON devices" if _pg() else ""))
    op.execute("DROP TRIGGER IF EXISTS devices_look_now_update" + (" ON devices" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION IF EXISTS devices_look_now()")
    op.drop_index("ix_alerts_kind_state", table_name="alerts")
    op.drop_index("ix_residents_checkin_deadline", table_name="residents")
    op.drop_index("ix_devices_supervise_at", table_name="devices")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+), as 0010 does: a batch would copy `devices`
    op.drop_column("devices", "supervise_at")


def _pg() -> bool:
    return op.get_bind().dialect.name == "postgresql"
