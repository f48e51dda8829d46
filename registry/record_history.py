"""Every change to a resident's record, as audit entries: who, when, and which fields went from
what to what (action "resident.changed", target the resident's id, detail {"fields": {name: [old,
new]}}). The import (`jinqiao import`, /admin, the registry API: all go through it) takes a
snapshot of the residents before and after writing, in the same transaction, and records the
difference; an import that changes nothing records nothing. Health values are kept as they were
written (the history is for admins); an ID number only as ***1234."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import record
from core.schema import AuditEntry
from core.schema import Contact as ContactRow
from core.schema import Resident as ResidentRow
from registry.fields import mask_id_number

ACTION = "resident.changed"
# bookkeeping the import keeps, not what anyone wrote on the record
_NOT_RECORD = frozenset({"checkin_since", "visits_since"})
_CONTACT_FIELDS = ("name", "phone", "notify", "has_key", "country", "timezone", "language")

Snapshot = dict[str, dict[str, Any]]


def _plain(value: Any) -> Any:
    """A column's value as JSON holds it."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def snapshot(s: Session) -> Snapshot:
    """Every resident's record (active or not) by id: their columns, and their contacts in order."""
    s.flush()
    columns = [c.key for c in ResidentRow.__table__.columns if c.key not in _NOT_RECORD and c.key != "id"]
    contacts: dict[str, list[dict[str, Any]]] = {}
    for c in s.scalars(select(ContactRow).order_by(ContactRow.resident_id, ContactRow.position)):
        contacts.setdefault(c.resident_id, []).append({f: getattr(c, f) for f in _CONTACT_FIELDS})
    return {
        r.id: {**{k: _plain(getattr(r, k)) for k in columns}, "contacts": contacts.get(r.id, [])}
        for r in s.scalars(select(ResidentRow))
    }


def changes(before: Snapshot, after: Snapshot) -> dict[str, dict[str, list[Any]]]:
    """Resident id → {field: [old, new]} for every field that differs (a new resident: from None)."""
    out: dict[str, dict[str, list[Any]]] = {}
    for rid, now in after.items():
        then = before.get(rid, {})
        fields = {k: [then.get(k), v] for k, v in now.items() if then.get(k) != v}
        if rid not in before:  # created: the fields it was given
            fields = {k: pair for k, pair in fields.items() if pair[1] not in (None, "", [])}
        if "id_number" in fields:
            fields["id_number"] = [mask_id_number(v) for v in fields["id_number"]]
        if fields:
            out[rid] = fields
    return out


def record_changes(s: Session, at: datetime, actor: str, before: Snapshot) -> None:
    """Write one "resident.changed" entry per resident whose record differs from `before`."""
    for rid, fields in changes(before, snapshot(s)).items():
        record(s, at, actor, ACTION, rid, {"fields": fields})


def history(s: Session, resident_id: str, limit: int = 200) -> list[dict[str, Any]]:
    """The changes to one resident's record, newest first."""
    rows = s.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == ACTION, AuditEntry.target == resident_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(limit)
    )
    return [{"at": r.at, "actor": r.actor, "fields": (r.detail or {}).get("fields", {})} for r in rows]
