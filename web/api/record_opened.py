"""Who opened a resident's record: every route that returns a resident's health fields (the card,
the 120 hand-off, /admin's resident form, which loads the card) writes an audit entry, action
"record.opened", target the resident's id, actor the signed-in account, detail {"via": …}.

One entry per account, resident and minute: opening the same record again within a minute of the
last entry (the card closed and opened again, the hand-off after the card) writes nothing more, so
the list says who looked and when without a row per click. Two requests at the same instant may
both write one; the list then holds two rows, never none. A viewer, who gets no health fields,
leaves no entry."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import record
from core.db import transaction
from core.schema import AuditEntry

ACTION = "record.opened"
WINDOW = timedelta(minutes=1)


def note_opened(sessions: sessionmaker[Session], at: datetime, actor: str, resident_id: str, via: str) -> bool:
    """Write the entry unless `actor` opened this record less than a minute ago; True when written."""
    with transaction(sessions) as s:
        recent = s.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.action == ACTION,
                AuditEntry.actor == actor,
                AuditEntry.target == resident_id,
                AuditEntry.at > at - WINDOW,
            )
            .limit(1)
        )
        if recent is not None:
            return False
        record(s, at, actor, ACTION, resident_id, {"via": via})
        return True
