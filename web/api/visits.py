"""Visits of the monitoring net on the board: who is due or overdue (viewer), a resident's visits
(viewer), and a visit recorded by an operator, e.g. one a party member reported by phone."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.db import transaction
from core.schema import Resident, Visit
from dispatcher.visit_log import load_views, party_members, record_visit
from dispatcher.visits import DEFAULT_EVERY_DAYS, due
from web.auth import Operator, Viewer
from web.deps import AlertsShell, Clock, ReadSession, Sessions

router = APIRouter(prefix="/api/v1", tags=["visits"])


VisitState = Literal["overdue", "due", "ok", "away"]


class ResidentDue(BaseModel):
    resident_id: str
    name: str
    address: str
    community_id: str
    building_id: str
    every_days: int
    last_visit_at: datetime | None
    last_by: str | None
    due_day: date
    overdue_days: int
    state: VisitState
    visitors: list[str]  # the building's party members


class VisitOut(BaseModel):
    id: int
    resident_id: str
    at: datetime
    by_name: str
    channel: str
    note: str
    need: str | None


class VisitIn(BaseModel):
    by: Annotated[str, Field(min_length=1, max_length=200)] | None = None  # default: the operator
    note: Annotated[str, Field(max_length=2000)] = ""
    need: Annotated[str, Field(max_length=500)] | None = None


@router.get("/visits", response_model=list[ResidentDue])
def residents_due(
    _: Viewer,
    s: ReadSession,
    now: Clock,
    community: Annotated[str | None, Query(max_length=64)] = None,
    show: Annotated[Literal["due", "all"], Query(description="due: due today or overdue")] = "due",
):
    """Residents by how late their visit is, the most overdue first."""
    at = now()
    found = []
    for r in load_views(s, at, community):
        d = due(r.view, at)
        today = d.day <= at.astimezone(ZoneInfo(r.view.tz)).date()
        state: VisitState = "away" if r.view.away else "overdue" if d.overdue_days else "due" if today else "ok"
        if show == "due" and state not in ("overdue", "due"):
            continue
        found.append(
            ResidentDue(
                resident_id=r.view.resident_id,
                name=r.name,
                address=r.address,
                community_id=r.community_id,
                building_id=r.building_id,
                every_days=r.view.every_days or DEFAULT_EVERY_DAYS,
                last_visit_at=r.view.last_visit,
                last_by=r.last_by,
                due_day=d.day,
                overdue_days=d.overdue_days,
                state=state,
                visitors=[m.name for m in party_members(s, r.building_id)],
            )
        )
    return sorted(found, key=lambda r: (-r.overdue_days, r.due_day, r.resident_id))


@router.get("/residents/{resident_id}/visits", response_model=list[VisitOut], responses={404: {}})
def visits_of(_: Viewer, s: ReadSession, resident_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 50):
    """A resident's visits, newest first."""
    _resident(s, resident_id)
    rows = s.scalars(
        select(Visit).where(Visit.resident_id == resident_id).order_by(Visit.at.desc(), Visit.id.desc()).limit(limit)
    )
    return [VisitOut.model_validate(v, from_attributes=True) for v in rows]


@router.post("/residents/{resident_id}/visits", response_model=VisitOut, status_code=201, responses={404: {}})
def add_visit(user: Operator, sessions: Sessions, alerts: AlertsShell, now: Clock, resident_id: str, body: VisitIn):
    """Record a visit made now; a need goes to the community's mediator by SMS."""
    with transaction(sessions) as s:
        _resident(s, resident_id)
        visit = record_visit(
            s,
            resident_id=resident_id,
            now=now(),
            by_name=(body.by or "").strip() or user.shown,
            channel="web",
            note=body.note.strip(),
            need=(body.need or "").strip() or None,
        )
        assert visit is not None  # no source key: always recorded
        out = VisitOut.model_validate(visit, from_attributes=True)
    if out.need:
        alerts.on_outbox()  # the mediator's SMS is queued: wake the sender
    return out


def _resident(s, resident_id: str) -> Resident:
    row = s.get(Resident, resident_id)
    if row is None or not row.active:
        raise HTTPException(404, f"no active resident '{resident_id}'")
    return row
