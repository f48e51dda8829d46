"""The registry import (`jinqiao import FILE`): parse, validate, then upsert in one transaction.

The file is the whole registry. Entities are keyed by their stable ids: an entity missing from the
file is deactivated, never deleted; child collections (party members, contacts, roster shifts,
escalation tiers) are made to match the file, touching only the rows that differ, so importing the
same file twice writes nothing. Any problem anywhere means nothing is written. One exception: a
file without a `calendar:` section leaves the stored calendar days alone (see RegistryDoc.calendar).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.db import transaction
from core.schema import (
    Building as BuildingRow,
)
from core.schema import (
    BuildingPartyMember,
    CalendarDay,
    EscalationTier,
    PolicySetting,
    RosterShift,
    ServiceMember,
)
from core.schema import (
    Community as CommunityRow,
)
from core.schema import (
    Contact as ContactRow,
)
from core.schema import (
    Device as DeviceRow,
)
from core.schema import (
    Resident as ResidentRow,
)
from core.schema import (
    Responder as ResponderRow,
)
from registry.entries import HEALTH_TEXTS, Hotline, RegistryDoc, Resident
from registry.fields import ACK_EXPIRY_KEY, DAY_KINDS, RegistryError, away_bounds
from registry.record_history import record_changes, snapshot
from registry.validation import calendar_days, check_registry, load_registry_file

# --- writing ------------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    deleted: int = 0  # child rows (contacts, shifts, …) removed to match the file

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deactivated + self.deleted


@dataclass
class ImportReport:
    tables: dict[str, Counts] = field(default_factory=dict)

    def counts(self, table: str) -> Counts:
        return self.tables.setdefault(table, Counts())

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.tables.values())

    def __str__(self) -> str:
        lines = [
            f"{table}: " + ", ".join(f"{n} {what}" for what, n in vars(c).items() if n)
            for table, c in self.tables.items()
            if c.changed
        ]
        return "\n".join(lines) or "no changes"


def import_registry(
    sessions: sessionmaker[Session],
    path_or_doc: str | os.PathLike[str] | RegistryDoc,
    *,
    now: datetime | None = None,
    also: Callable[[Session, datetime], None] | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Make the registry tables match the file, all or nothing. Raises RegistryError.

    `now` (default: the wall clock) is recorded as a resident's `checkin_since` when their check-in
    deadline is set up or changed, or their away period ends with this import. With an `actor`, each
    resident's record that changed is written to the audit list as theirs (registry/record_history.py)."""
    if isinstance(path_or_doc, RegistryDoc):
        doc = path_or_doc
        if problems := check_registry(doc):
            raise RegistryError(problems)
    else:
        doc = load_registry_file(path_or_doc)
    report = ImportReport()
    with transaction(sessions) as s:
        at = now or utcnow()
        before = snapshot(s) if actor is not None else None
        _write(s, doc, report, at)
        if actor is not None and before is not None:
            record_changes(s, at, actor, before)
        if also is not None:
            also(s, at)
    structlog.get_logger().info(
        "registry.imported", changed=report.changed, **{t: vars(c) for t, c in report.tables.items() if c.changed}
    )
    return report


_CONTACT_FIELDS = {"name", "phone", "notify", "has_key", "country", "timezone", "language"}  # as the columns


def _write(s: Session, doc: RegistryDoc, report: ImportReport, now: datetime) -> None:
    # Parents first, each section flushed before the next: the rows it refers to must exist.
    entity: dict[str, Any] = dict(key=lambda r: r.id, deactivate=True)
    _sync(
        s,
        ResponderRow,
        report,
        **entity,
        desired={
            r.id: dict(id=r.id, name=r.name, phone=r.phone, language=r.language, channels=r.channels, active=True)
            for r in doc.responders
        },
    )
    _sync(
        s,
        CommunityRow,
        report,
        **entity,
        desired={
            c.id: dict(id=c.id, name=c.name, timezone=c.timezone, mediator_id=c.mediator, active=True)
            for c in doc.communities
        },
    )
    _sync(
        s,
        BuildingRow,
        report,
        **entity,
        desired={
            b.id: dict(id=b.id, community_id=c.id, name=b.name, active=True)
            for c in doc.communities
            for b in c.buildings
        },
    )
    building_ids = {b.id for c in doc.communities for b in c.buildings}
    _sync(
        s,
        BuildingPartyMember,
        report,
        key=lambda r: (r.building_id, r.responder_id),
        only=lambda r: r.building_id in building_ids,
        desired={
            (b.id, m): dict(building_id=b.id, responder_id=m, position=i)
            for c in doc.communities
            for b in c.buildings
            for i, m in enumerate(b.party_members)
        },
    )
    community_ids = {c.id for c in doc.communities}
    _sync(
        s,
        ServiceMember,
        report,
        key=lambda r: (r.community_id, r.responder_id),
        only=lambda r: r.community_id in community_ids,
        desired={
            (c.id, m.responder): dict(
                community_id=c.id,
                responder_id=m.responder,
                skills=list(m.skills),
                days=list(m.days),
                start=m.start,
                end=m.end,
                position=i,
            )
            for c in doc.communities
            for i, m in enumerate(c.service_team)
        },
    )
    zones = {b.id: c.timezone for c in doc.communities for b in c.buildings}
    residents = {
        r.id: dict(
            id=r.id,
            name=r.name,
            building_id=r.building,
            address=r.address,
            phone=r.phone,
            lives_alone=r.lives_alone,
            language=r.language,
            **r.model_dump(include=set(HEALTH_TEXTS) | {"mobility"}),
            checkin_deadline=r.checkin.deadline if r.checkin else None,
            visit_every_days=r.visit_every_days,
            sex=r.sex,
            birth_year=r.birth_year,
            care_level=r.care_level,
            consent_by=r.consent.by if r.consent else None,
            consent_on=r.consent.given if r.consent else None,
            household=r.household,
            id_number=r.id_number,
            **_away_columns(r, zones),
            active=True,
        )
        for r in doc.residents
    }
    _checkin_since(s, residents, now)
    _sync(s, ResidentRow, report, **entity, desired=residents)
    resident_ids = {r.id for r in doc.residents}
    # Contacts of residents no longer in the file stay with them: the resident is only deactivated.
    _sync(
        s,
        ContactRow,
        report,
        key=lambda r: (r.resident_id, r.phone),
        only=lambda r: r.resident_id in resident_ids,
        desired={
            (r.id, c.phone): dict(resident_id=r.id, position=i, **c.model_dump(include=_CONTACT_FIELDS))
            for r in doc.residents
            for i, c in enumerate(r.contacts)
        },
    )
    _free_device_sources(s, doc, report)
    _sync(
        s,
        DeviceRow,
        report,
        **entity,
        desired={
            d.id: dict(
                id=d.id,
                resident_id=d.resident,
                kind=d.kind,
                adapter=d.adapter,
                source=d.source,
                heartbeat_s=d.heartbeat,
                active=True,
            )
            for d in doc.devices
        },
    )
    hotline = doc.hotline or Hotline()
    _sync(
        s,
        RosterShift,
        report,
        key=lambda r: (r.day_kind, r.position),
        desired={
            (kind, i): dict(day_kind=kind, position=i, start=sh.start, end=sh.end, responder_id=sh.responder)
            for kind in DAY_KINDS
            for i, sh in enumerate(getattr(hotline, kind))
        },
    )
    _sync(
        s,
        EscalationTier,
        report,
        key=lambda r: r.position,
        desired={
            i: dict(position=i, tier=t.tier, channels=list(t.channels), timeout_s=t.timeout)
            for i, t in enumerate(doc.escalation.tiers)
        },
    )
    _sync(
        s,
        PolicySetting,
        report,
        key=lambda r: r.key,
        only=lambda r: r.key == ACK_EXPIRY_KEY,
        desired={ACK_EXPIRY_KEY: dict(key=ACK_EXPIRY_KEY, value=str(doc.escalation.ack_expiry))},
    )
    if "calendar" in doc.model_fields_set:  # see RegistryDoc.calendar
        _sync(
            s,
            CalendarDay,
            report,
            key=lambda r: r.day,
            desired={day: dict(day=day, kind=kind) for day, kind in calendar_days(doc.calendar).items()},
        )


def _checkin_since(s: Session, residents: dict[str, dict[str, Any]], now: datetime) -> None:
    """Stamp `checkin_since` onto the residents whose check-in starts with this import: a new or
    changed deadline, a returning resident, or an away period in effect that this import ends. The
    supervision counts a deadline only on days that began after it (no day-one false alarm). A new or
    returning resident's `visits_since` is stamped too: their first visit is due from then."""
    existing = {r.id: r for r in s.scalars(select(ResidentRow).where(ResidentRow.id.in_(list(residents))))}
    for rid, values in residents.items():
        row = existing.get(rid)
        if row is None or not row.active:
            values["visits_since"] = now  # a new or returning resident: visits count from today
        deadline = values["checkin_deadline"]
        if row is None or not row.active or row.checkin_deadline != deadline:
            values["checkin_since"] = now if deadline else None
            continue
        was_away = _away_at(row.away_from, row.away_to, now)
        if (
            deadline
            and was_away
            and not _away_at(values.get("away_from", row.away_from), values.get("away_to", row.away_to), now)
        ):
            values["checkin_since"] = now


def _away_at(start: datetime | None, end: datetime | None, at: datetime) -> bool:
    return start is not None and start <= at and (end is None or at < end)


def _away_columns(r: Resident, zones: dict[str, str]) -> dict[str, datetime | None]:
    """Only a file that says `away:` manages the period (`away: null` ends it); without the key the
    columns stay as they are, so that a period set on the board survives a routine import."""
    if "away" not in r.model_fields_set:
        return {}
    if r.away is None:
        return {"away_from": None, "away_to": None}
    start, end = away_bounds(r.away.start, r.away.end, zones.get(r.building, "Asia/Shanghai"))  # type: ignore[arg-type]  # _away_time made them dates or datetimes
    return {"away_from": start, "away_to": end}


def _sync(
    s: Session,
    model: Any,
    report: ImportReport,
    *,
    key: Callable[[Any], Hashable],
    desired: Mapping[Any, Mapping[str, Any]],
    deactivate: bool = False,
    only: Callable[[Any], bool] = lambda r: True,
) -> None:
    """Make the rows of `model` (those `only` selects) match `desired`, writing only what differs.

    Rows missing from `desired` are deactivated (entities) or deleted (child rows).
    """
    counts = report.counts(model.__tablename__)
    existing = {key(r): r for r in s.scalars(select(model)).all() if only(r)}
    for k, row in existing.items():
        if k in desired:
            continue
        if not deactivate:
            s.delete(row)
            counts.deleted += 1
        elif row.active:
            row.active = False
            counts.deactivated += 1
    s.flush()  # removed rows free their unique keys before new rows take them
    for k, values in desired.items():
        row = existing.get(k)
        if row is None:
            s.add(model(**values))
            counts.created += 1
        elif _assign(row, values):
            counts.updated += 1
    s.flush()


def _assign(row: Any, values: Mapping[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _free_device_sources(s: Session, doc: RegistryDoc, report: ImportReport) -> None:
    """Release an (adapter, source) the file gives to another device, so that moves and swaps
    do not trip the unique constraint. A device left out of the file loses it for good: the
    gateway must map each physical source to exactly one device."""
    claimed: dict[tuple[str, str | None], str] = {
        (d.adapter, d.source): d.id for d in doc.devices if d.source is not None
    }
    in_file = {d.id for d in doc.devices}
    freed = [
        row
        for row in s.scalars(select(DeviceRow).where(DeviceRow.source.is_not(None))).all()
        if claimed.get((row.adapter, row.source), row.id) != row.id
    ]
    for row in freed:
        row.source = None
        if row.id not in in_file:
            report.counts(DeviceRow.__tablename__).updated += 1
    if freed:
        s.flush()
