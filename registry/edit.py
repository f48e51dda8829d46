"""Editing the registry one entry at a time, with exactly the import's validation.

The database's active registry is read back into the import file's form, the change is applied to
that document, and the whole document goes through `validate_registry` and `import_registry`:
the same field rules, the same cross-checks (references, duplicate phones, a staffed hotline), and
deactivation rather than deletion for an entry taken out. A refused change writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import record
from core.schema import (
    Building,
    BuildingPartyMember,
    CalendarDay,
    Community,
    Contact,
    Device,
    EscalationTier,
    PolicySetting,
    Resident,
    Responder,
    RosterShift,
    ServiceMember,
)
from registry.entries import HEALTH_TEXTS
from registry.fields import ACK_EXPIRY_KEY, CALENDAR_KINDS, DAY_KINDS, RegistryError, day_spans, mask_id_number
from registry.store import import_registry
from registry.validation import validate_registry

SECTIONS = ("communities", "residents", "devices", "responders")
# how the audit list names each section's entries
AUDIT_NAMES = {
    "communities": "community",
    "buildings": "building",
    "residents": "resident",
    "devices": "device",
    "responders": "responder",
    "hotline": "roster",
    "escalation": "policy",
    "calendar": "calendar",
}


class EntryNotFound(LookupError):
    pass


class EntryExists(ValueError):
    pass


def _seconds(n: int | None) -> str | None:
    return None if n is None else f"{n}s"


def _drop_none(d: dict) -> dict:
    return {k: v for k, v in d.items() if v is not None}


def _away(start: datetime | None, end: datetime | None, tz: str) -> dict[str, str] | None:
    """An away period as the instants it was stored as, written in the community's zone."""
    if start is None:
        return None

    def local(v: datetime) -> str:
        return (v if v.tzinfo else v.replace(tzinfo=timezone.utc)).astimezone(ZoneInfo(tz)).isoformat()

    return _drop_none({"from": local(start), "to": local(end) if end else None})


def export_registry(s: Session) -> dict[str, Any]:
    """The active registry in the import file's form (durations as '<n>s')."""
    members: dict[str, list[str]] = {}
    for m in s.scalars(
        select(BuildingPartyMember).order_by(BuildingPartyMember.building_id, BuildingPartyMember.position)
    ):
        members.setdefault(m.building_id, []).append(m.responder_id)
    buildings: dict[str, list[dict]] = {}
    for b in s.scalars(select(Building).where(Building.active.is_(True)).order_by(Building.id)):
        buildings.setdefault(b.community_id, []).append(
            {"id": b.id, "name": b.name, "party_members": members.get(b.id, [])}
        )
    zones = {
        b: tz
        for b, tz in s.execute(
            select(Building.id, Community.timezone).join(Community, Building.community_id == Community.id)
        )
    }
    team: dict[str, list[dict]] = {}
    for sm in s.scalars(select(ServiceMember).order_by(ServiceMember.community_id, ServiceMember.position)):
        team.setdefault(sm.community_id, []).append(
            {"responder": sm.responder_id, "skills": sm.skills, "days": sm.days, "from": sm.start, "to": sm.end}
        )
    contacts: dict[str, list[dict]] = {}
    for c in s.scalars(select(Contact).order_by(Contact.resident_id, Contact.position)):
        # has_key only when set: the file says it of the few who hold a key
        contact = {"name": c.name, "phone": c.phone, "notify": c.notify, **({"has_key": True} if c.has_key else {})}
        contact |= _drop_none({"country": c.country, "timezone": c.timezone})
        if c.language != "zh":  # as has_key: only what differs from the default
            contact["language"] = c.language
        contacts.setdefault(c.resident_id, []).append(contact)
    doc: dict[str, Any] = {
        "communities": [
            _drop_none(
                {
                    "id": c.id,
                    "name": c.name,
                    "timezone": c.timezone,
                    "mediator": c.mediator_id,
                    "buildings": buildings.get(c.id, []),
                    "service_team": team.get(c.id) or None,
                }
            )
            for c in s.scalars(select(Community).where(Community.active.is_(True)).order_by(Community.id))
        ],
        "residents": [
            _drop_none(
                {
                    "id": r.id,
                    "name": r.name,
                    "building": r.building_id,
                    "address": r.address,
                    "phone": r.phone,
                    "lives_alone": r.lives_alone,
                    "language": r.language,
                    **{k: getattr(r, k) for k in HEALTH_TEXTS},
                    "checkin": {"deadline": r.checkin_deadline} if r.checkin_deadline else None,
                    "visit_every_days": r.visit_every_days,
                    "sex": r.sex,
                    "birth_year": r.birth_year,
                    "care_level": r.care_level,
                    "mobility": r.mobility,
                    "consent": {"by": r.consent_by, "given": r.consent_on.isoformat()}
                    if r.consent_by and r.consent_on
                    else None,
                    "household": r.household,
                    "id_number": r.id_number,
                    "away": _away(r.away_from, r.away_to, zones.get(r.building_id, "Asia/Shanghai")),
                    "contacts": contacts.get(r.id, []),
                }
            )
            for r in s.scalars(select(Resident).where(Resident.active.is_(True)).order_by(Resident.id))
        ],
        "devices": [
            _drop_none(
                {
                    "id": d.id,
                    "resident": d.resident_id,
                    "kind": d.kind,
                    "adapter": d.adapter,
                    "source": d.source,
                    "heartbeat": _seconds(d.heartbeat_s),
                }
            )
            for d in s.scalars(select(Device).where(Device.active.is_(True)).order_by(Device.id))
        ],
        "responders": [
            _drop_none({"id": p.id, "name": p.name, "phone": p.phone, "language": p.language, "channels": p.channels})
            for p in s.scalars(select(Responder).where(Responder.active.is_(True)).order_by(Responder.id))
        ],
    }
    shifts = s.scalars(select(RosterShift).order_by(RosterShift.day_kind, RosterShift.position)).all()
    if shifts:
        doc["hotline"] = {
            kind: [
                {"from": sh.start, "to": sh.end, "responder": sh.responder_id} for sh in shifts if sh.day_kind == kind
            ]
            for kind in DAY_KINDS
        }
    tiers = s.scalars(select(EscalationTier).order_by(EscalationTier.position)).all()
    if tiers:
        expiry = s.get(PolicySetting, ACK_EXPIRY_KEY)
        doc["escalation"] = _drop_none(
            {
                "tiers": [
                    {"tier": t.tier, "channels": list(t.channels), "timeout": _seconds(t.timeout_s)} for t in tiers
                ],
                "ack_expiry": f"{expiry.value}s" if expiry else None,
            }
        )
    days = s.scalars(select(CalendarDay).order_by(CalendarDay.day)).all()
    doc["calendar"] = {name: day_spans(d.day for d in days if d.kind == kind) for name, kind in CALENDAR_KINDS.items()}
    return doc


def to_file_form(entry: dict[str, Any]) -> dict[str, Any]:
    """An API body (a model dump by alias, durations in seconds) back into the file's form."""
    out = {}
    for k, v in entry.items():
        if v is None:
            continue
        if k in ("heartbeat", "timeout", "ack_expiry") and isinstance(v, int):
            v = f"{v}s"
        elif k == "tiers":
            v = [to_file_form(t) for t in v]
        out[k] = v
    return out


def _masked(entry: Any) -> Any:
    """An entry as the audit list keeps it: an ID number only as ***1234."""
    if isinstance(entry, dict) and entry.get("id_number"):
        return {**entry, "id_number": mask_id_number(entry["id_number"])}
    return entry


class RegistryEditor:
    def __init__(
        self, sessions: sessionmaker[Session], now: Callable[[], datetime] | None = None, actor: str | None = None
    ) -> None:
        self.sessions = sessions
        self.now = now  # when a change happens (a new check-in deadline counts from it); None: the wall clock
        self.actor = actor  # who makes the changes: each is written to the audit list as theirs; None: not audited

    def read(self) -> dict[str, Any]:
        with self.sessions() as s:
            return export_registry(s)

    def change(
        self, mutate: Callable[[dict[str, Any]], None], action: str = "", target: str = "", detail: Any = None
    ) -> None:
        """Apply `mutate` to the registry document and import it; RegistryError when it is refused.
        With an actor, the audit row (`action` on `target`) is written in the import's transaction."""
        doc = self.read()
        mutate(doc)
        actor = self.actor

        def audit(s: Session, at: datetime) -> None:
            if actor is not None and action:
                record(s, at, actor, action, target, {"entry": _masked(detail)} if detail is not None else {})

        import_registry(
            self.sessions, validate_registry(doc), now=self.now() if self.now else None, also=audit, actor=actor
        )

    # --- list sections (communities, residents, devices, responders) ----------------------------

    def create(self, section: str, entry: dict[str, Any]) -> None:
        def mutate(doc: dict) -> None:
            if any(e["id"] == entry["id"] for e in doc[section]):
                raise EntryExists(f"{section}: '{entry['id']}' exists already (edit it with PUT)")
            doc[section].append(entry)

        self.change(mutate, f"{AUDIT_NAMES[section]}.create", entry["id"], entry)

    def replace(self, section: str, entry_id: str, entry: dict[str, Any], keep: tuple[str, ...] = ()) -> None:
        def mutate(doc: dict) -> None:
            i = self._index(doc, section, entry_id)
            for key in keep:  # children edited elsewhere (a community's buildings)
                if key in doc[section][i]:
                    entry[key] = doc[section][i][key]
            doc[section][i] = entry

        self.change(mutate, f"{AUDIT_NAMES[section]}.edit", entry_id, entry)

    def deactivate(self, section: str, entry_id: str) -> None:
        def mutate(doc: dict) -> None:
            del doc[section][self._index(doc, section, entry_id)]

        self.change(mutate, f"{AUDIT_NAMES[section]}.deactivate", entry_id)

    @staticmethod
    def _index(doc: dict, section: str, entry_id: str) -> int:
        for i, e in enumerate(doc[section]):
            if e["id"] == entry_id:
                return i
        raise EntryNotFound(f"{section}: no active entry '{entry_id}'")

    # --- buildings live inside their community ----------------------------------------------------

    def put_building(self, community_id: str, building: dict[str, Any], *, create: bool) -> None:
        def mutate(doc: dict) -> None:
            where = [
                (c, i)
                for c in doc["communities"]
                for i, b in enumerate(c.get("buildings", []))
                if b["id"] == building["id"]
            ]
            if create and where:
                raise EntryExists(f"buildings: '{building['id']}' exists already (edit it with PUT)")
            if not create and not where:
                raise EntryNotFound(f"buildings: no active entry '{building['id']}'")
            for c, i in where:
                del c["buildings"][i]
            community = doc["communities"][self._index(doc, "communities", community_id)]
            community.setdefault("buildings", []).append(building)

        verb = "create" if create else "edit"
        self.change(mutate, f"building.{verb}", building["id"], {**building, "community": community_id})

    def deactivate_building(self, building_id: str) -> None:
        def mutate(doc: dict) -> None:
            for c in doc["communities"]:
                for i, b in enumerate(c.get("buildings", [])):
                    if b["id"] == building_id:
                        del c["buildings"][i]
                        return
            raise EntryNotFound(f"buildings: no active entry '{building_id}'")

        self.change(mutate, "building.deactivate", building_id)

    # --- mappings --------------------------------------------------------------------------------

    def set_section(self, section: str, value: dict[str, Any]) -> None:
        def mutate(doc: dict) -> None:
            doc[section] = value

        self.change(mutate, f"{AUDIT_NAMES[section]}.edit", section, value)


__all__ = [
    "RegistryEditor",
    "EntryNotFound",
    "EntryExists",
    "RegistryError",
    "export_registry",
    "to_file_form",
    "SECTIONS",
]
