"""Registry API: communities, buildings, residents (the card), devices (with health), responders,
the hotline roster, the escalation policy and the calendar days. Everyone signed in reads; admins create, edit and
deactivate, through the import's own models and checks (registry.edit)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import Building, BuildingPartyMember, Community, Device, Resident, Responder
from registry import entries, fields
from registry.edit import EntryExists, EntryNotFound, RegistryEditor, RegistryError, export_registry, to_file_form
from web.api.record_fields import RECORD_ONLY, for_role, sees_health
from web.api.record_opened import note_opened
from web.api.supervision import health_of, open_maintenance
from web.auth import Admin, Viewer
from web.deps import Clock, ReadSession, Sessions, SupervisionRules

EntryId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class Problems(BaseModel):
    detail: str
    problems: list[str]


class BuildingIn(entries.Building):
    community: fields.Id


class CommunityIn(entries._Model):
    """A community without its buildings (those have their own routes)."""

    id: fields.Id
    name: fields.Name
    timezone: fields.TimeZone = "Asia/Shanghai"
    mediator: fields.Id | None = None


ERRORS: dict[int | str, dict[str, Any]] = {404: {"model": Problems}, 409: {"model": Problems}, 422: {"model": Problems}}


router = APIRouter(prefix="/api/v1", tags=["registry"])


def run(change: Callable[[], None], status: int = 200, body: Any = None) -> JSONResponse:
    try:
        change()
    except EntryNotFound as e:
        return JSONResponse({"detail": str(e), "problems": [str(e)]}, 404)
    except EntryExists as e:
        return JSONResponse({"detail": str(e), "problems": [str(e)]}, 409)
    except RegistryError as e:
        return JSONResponse(
            {
                "detail": "the registry would be inconsistent; nothing was changed",
                "problems": e.problems,
                "fields": [located(p) for p in e.problems],
            },
            422,
        )
    return JSONResponse(body if body is not None else {"ok": True}, status)


PROBLEM = re.compile(
    r"^(?P<section>\w+)(?:\[(?P<entry>[^\]]*)\])?(?P<path>(?:\.\w+|\[[^\]]*\])*): (?P<message>.*)$", re.S
)


def located(problem: str) -> dict[str, str | None]:
    """A registry problem ("residents[r-liu].contacts[0].phone: not an E.164 number") as the entry and
    the field path within it ("contacts.0.phone") that a form shows it next to; None where it names none."""
    m = PROBLEM.match(problem)
    if m is None:
        return {"section": None, "entry": None, "field": None, "message": problem}
    path = re.sub(r"\[([^\]]*)\]", r".\1", m["path"]).lstrip(".")
    return {"section": m["section"], "entry": m["entry"], "field": path or None, "message": m["message"]}


def file_form(model: BaseModel) -> dict[str, Any]:
    return to_file_form(model.model_dump(mode="json", by_alias=True, exclude_none=True))


def section(s: Session, name: str) -> list[dict]:
    return export_registry(s)[name]


def one(s: Session, name: str, entry_id: str) -> dict:
    for e in section(s, name):
        if e["id"] == entry_id:
            return e
    raise HTTPException(404, f"{name}: no active entry '{entry_id}'")


def editor(sessions: Sessions, now: Clock, admin: Admin) -> RegistryEditor:
    return RegistryEditor(sessions, now, actor=admin.name)


Editor = Annotated[RegistryEditor, Depends(editor)]  # each change reads, validates and imports in its own transaction


# --- communities and buildings -------------------------------------------------------------


@router.get("/communities")
def communities(user: Viewer, s: ReadSession) -> list[dict]:
    """Active communities with their buildings, in the import file's form."""
    return section(s, "communities")


@router.get("/communities/{entry_id}", responses=ERRORS)
def community(user: Viewer, s: ReadSession, entry_id: EntryId) -> dict:
    return one(s, "communities", entry_id)


@router.post("/communities", status_code=201, responses=ERRORS)
def create_community(user: Admin, editor: Editor, body: CommunityIn):
    return run(lambda: editor.create("communities", {**file_form(body), "buildings": []}), 201)


@router.put("/communities/{entry_id}", responses=ERRORS)
def edit_community(user: Admin, editor: Editor, entry_id: EntryId, body: CommunityIn):
    _same_id(entry_id, body.id)
    return run(lambda: editor.replace("communities", entry_id, file_form(body), keep=("buildings",)))


@router.delete("/communities/{entry_id}", responses=ERRORS)
def deactivate_community(user: Admin, editor: Editor, entry_id: EntryId):
    return run(lambda: editor.deactivate("communities", entry_id))


@router.get("/buildings")
def buildings(user: Viewer, s: ReadSession) -> list[dict]:
    return [{**b, "community": c["id"]} for c in section(s, "communities") for b in c.get("buildings", [])]


@router.post("/buildings", status_code=201, responses=ERRORS)
def create_building(user: Admin, editor: Editor, body: BuildingIn):
    b = file_form(body)
    return run(lambda: editor.put_building(b.pop("community"), b, create=True), 201)


@router.put("/buildings/{entry_id}", responses=ERRORS)
def edit_building(user: Admin, editor: Editor, entry_id: EntryId, body: BuildingIn):
    _same_id(entry_id, body.id)
    b = file_form(body)
    return run(lambda: editor.put_building(b.pop("community"), b, create=False))


@router.delete("/buildings/{entry_id}", responses=ERRORS)
def deactivate_building(user: Admin, editor: Editor, entry_id: EntryId):
    return run(lambda: editor.deactivate_building(entry_id))


# --- residents, devices, responders -------------------------------------------------------


@router.get("/residents")
def residents(user: Viewer, s: ReadSession) -> list[dict]:
    """Active residents in the import file's form, as an index: without health fields and ID numbers
    (open one resident's record for those, and that opening is audited)."""
    return [{k: v for k, v in r.items() if k not in RECORD_ONLY} for r in section(s, "residents")]


@router.get("/residents/{entry_id}", responses=ERRORS)
def resident_card(
    user: Viewer, s: ReadSession, sessions: Sessions, now: Clock, supervision: SupervisionRules, entry_id: EntryId
) -> dict:
    """The resident's card (档案表): address, health fields, contacts, responsible volunteers, devices;
    the health fields for operators and admins (and their opening audited), the ID number for admins."""
    r = s.get(Resident, entry_id)
    if r is None:
        raise HTTPException(404, f"residents: no entry '{entry_id}'")
    if sees_health(user):
        note_opened(sessions, now(), user.name, entry_id, "card")
    building = s.get(Building, r.building_id)
    community = s.get(Community, building.community_id) if building else None
    volunteers = (
        s.execute(
            select(Responder)
            .join(BuildingPartyMember, BuildingPartyMember.responder_id == Responder.id)
            .where(BuildingPartyMember.building_id == r.building_id)
            .order_by(BuildingPartyMember.position)
        )
        .scalars()
        .all()
    )
    mediator = s.get(Responder, community.mediator_id) if community and community.mediator_id else None
    devices = s.scalars(select(Device).where(Device.resident_id == entry_id).order_by(Device.id)).all()
    t = now()
    maintained = open_maintenance(s, [d.id for d in devices])
    entry = next((e for e in export_residents(s) if e["id"] == entry_id), None)
    return {
        **for_role(
            entry
            or {
                "id": r.id,
                "name": r.name,
                "building": r.building_id,
                "address": r.address,
                **{k: getattr(r, k) for k in entries.HEALTH_TEXTS},
                "care_level": r.care_level,
                "mobility": r.mobility,
                "contacts": [],
            },
            user,
        ),
        "active": r.active,
        "building_name": building.name if building else None,
        "community": community.id if community else None,
        "community_name": community.name if community else None,
        "volunteers": [{"id": v.id, "name": v.name, "phone": v.phone} for v in volunteers],
        "mediator": {"id": mediator.id, "name": mediator.name, "phone": mediator.phone} if mediator else None,
        "devices": [
            {"id": d.id, "kind": d.kind, "active": d.active, **health_of(d, supervision, t, d.id in maintained)}
            for d in devices
        ],
    }


@router.post("/residents", status_code=201, responses=ERRORS)
def create_resident(user: Admin, editor: Editor, body: entries.Resident):
    return run(lambda: editor.create("residents", file_form(body)), 201)


@router.put("/residents/{entry_id}", responses=ERRORS)
def edit_resident(user: Admin, editor: Editor, entry_id: EntryId, body: entries.Resident):
    _same_id(entry_id, body.id)
    return run(lambda: editor.replace("residents", entry_id, file_form(body)))


@router.delete("/residents/{entry_id}", responses=ERRORS)
def deactivate_resident(user: Admin, editor: Editor, entry_id: EntryId):
    return run(lambda: editor.deactivate("residents", entry_id))


@router.get("/devices")
def devices(user: Viewer, s: ReadSession, now: Clock, supervision: SupervisionRules) -> list[dict]:
    """Active devices with their health: offline, heartbeat overdue, low battery."""
    t = now()
    rows = {d.id: d for d in s.scalars(select(Device).where(Device.active.is_(True)))}
    maintained = open_maintenance(s, list(rows))
    return [
        {**e, **health_of(rows[e["id"]], supervision, t, e["id"] in maintained)}
        for e in section(s, "devices")
        if e["id"] in rows
    ]


@router.get("/devices/{entry_id}", responses=ERRORS)
def device(user: Viewer, s: ReadSession, now: Clock, supervision: SupervisionRules, entry_id: EntryId) -> dict:
    entry = one(s, "devices", entry_id)
    return {
        **entry,
        **health_of(s.get_one(Device, entry_id), supervision, now(), bool(open_maintenance(s, [entry_id]))),
    }


@router.post("/devices", status_code=201, responses=ERRORS)
def create_device(user: Admin, editor: Editor, body: entries.Device):
    return run(lambda: editor.create("devices", file_form(body)), 201)


@router.put("/devices/{entry_id}", responses=ERRORS)
def edit_device(user: Admin, editor: Editor, entry_id: EntryId, body: entries.Device):
    _same_id(entry_id, body.id)
    return run(lambda: editor.replace("devices", entry_id, file_form(body)))


@router.delete("/devices/{entry_id}", responses=ERRORS)
def deactivate_device(user: Admin, editor: Editor, entry_id: EntryId):
    return run(lambda: editor.deactivate("devices", entry_id))


@router.get("/responders")
def responders(user: Viewer, s: ReadSession) -> list[dict]:
    return section(s, "responders")


@router.get("/responders/{entry_id}", responses=ERRORS)
def responder(user: Viewer, s: ReadSession, entry_id: EntryId) -> dict:
    return one(s, "responders", entry_id)


@router.post("/responders", status_code=201, responses=ERRORS)
def create_responder(user: Admin, editor: Editor, body: entries.Responder):
    return run(lambda: editor.create("responders", file_form(body)), 201)


@router.put("/responders/{entry_id}", responses=ERRORS)
def edit_responder(user: Admin, editor: Editor, entry_id: EntryId, body: entries.Responder):
    _same_id(entry_id, body.id)
    return run(lambda: editor.replace("responders", entry_id, file_form(body)))


@router.delete("/responders/{entry_id}", responses=ERRORS)
def deactivate_responder(user: Admin, editor: Editor, entry_id: EntryId):
    return run(lambda: editor.deactivate("responders", entry_id))


# --- roster and policy ---------------------------------------------------------------------


@router.get("/roster")
def roster(user: Viewer, s: ReadSession) -> dict:
    """The hotline duty roster by kind of day (workday, weekend, holiday)."""
    return export_registry(s).get("hotline") or {kind: [] for kind in fields.DAY_KINDS}


@router.put("/roster", responses=ERRORS)
def edit_roster(user: Admin, editor: Editor, body: entries.Hotline):
    return run(lambda: editor.set_section("hotline", file_form(body)))


@router.get("/policy")
def policy(user: Viewer, s: ReadSession) -> dict:
    """The escalation policy: tiers with channels and timeouts, and how long an acknowledgement holds."""
    return export_registry(s).get("escalation") or {"tiers": []}


@router.put("/policy", responses=ERRORS)
def edit_policy(user: Admin, editor: Editor, body: entries.Escalation):
    return run(lambda: editor.set_section("escalation", file_form(body)))


# --- calendar days ---------------------------------------------------------------------------


@router.get("/calendar")
def calendar(user: Viewer, s: ReadSession) -> dict:
    """The days whose kind operators fixed over China's official calendar (holidays, adjusted working
    days, rest days), consecutive days as ranges (`2027-02-06..2027-02-12`)."""
    return export_registry(s)["calendar"]


@router.put("/calendar", responses=ERRORS)
def edit_calendar(user: Admin, editor: Editor, body: entries.Calendar):
    """Replace the calendar days (the import's `calendar:` section); the dispatcher uses them within a minute."""
    return run(lambda: editor.set_section("calendar", file_form(body)))


def export_residents(s: Session) -> list[dict]:
    return export_registry(s)["residents"]


def _same_id(path_id: str, body_id: str) -> None:
    if path_id != body_id:
        raise HTTPException(422, f"the id in the body ('{body_id}') differs from the one in the path ('{path_id}')")
