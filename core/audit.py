"""The audit list: who changed which account or registry entry, and when. A row is written in the
same transaction as the change it records, so a change and its record are kept or lost together.
Never put a password, a hash or a token in `detail`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import AuditEntry

SECRET_KEYS = ("password", "password_hash", "hash", "token", "token_hash", "csrf_token")
MAX_PAGE = 500


def record(
    s: Session, at: datetime, actor: str, action: str, target: str, detail: dict[str, Any] | None = None
) -> None:
    """Add one audit row in the caller's transaction; secret keys in `detail` are dropped."""
    clean = {k: v for k, v in (detail or {}).items() if k not in SECRET_KEYS}
    s.add(AuditEntry(at=at, actor=actor[:64], action=action[:64], target=target[:200], detail=clean))


def entries(
    s: Session, *, limit: int = 100, offset: int = 0, actor: str | None = None, action: str | None = None
) -> list[dict[str, Any]]:
    """The audit rows, newest first, optionally of one actor or one action."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if action:
        query = query.where(AuditEntry.action == action)
    rows = s.scalars(query.limit(min(limit, MAX_PAGE)).offset(offset))
    return [
        {"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "target": r.target, "detail": r.detail or {}}
        for r in rows
    ]
