"""Follow-up items (跟进事项), the mediator's "promise and deliver": the list with what is late
(viewer), an item opened on the board, and an item given an owner, a promised day, or closed
(operator). Needs noted on visits open items by themselves (dispatcher/visit_log.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select

from core.audit import record
from core.db import transaction
from core.schema import Building, Community, FollowUp, Resident
from web.auth import Operator, Viewer
from web.deps import Clock, ReadSession, Sessions

router = APIRouter(prefix="/api/v1/follow-ups", tags=["follow-ups"])

State = Literal["open", "done", "dropped"]
Text = Annotated[str, Field(min_length=1, max_length=500)]
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # a larger number is no row, and too large for the database


class FollowUpOut(BaseModel):
    id: int
    resident_id: str
    resident_name: str
    address: str
    community_id: str
    text: str
    owner: str
    promised_on: date | None
    late: bool  # open past its promised day, in the community's days
    state: State
    opened_at: datetime
    opened_by: str
    visit_id: int | None
    closed_at: datetime | None
    closed_by: str | None
    outcome: str


class FollowUpIn(BaseModel):
    resident_id: Annotated[str, Field(min_length=1, max_length=64)]
    text: Text
    owner: Annotated[str, Field(max_length=200)] = ""
    promised_on: date | None = None


class FollowUpChange(BaseModel):
    owner: Annotated[str, Field(max_length=200)] | None = None
    promised_on: date | None = None
    state: State | None = None
    outcome: Annotated[str, Field(max_length=2000)] | None = None  # what was done; why it was dropped


def item_query():
    return (
        select(FollowUp, Resident.name, Resident.address, Community.id, Community.timezone)
        .join(Resident, Resident.id == FollowUp.resident_id)
        .join(Building, Building.id == Resident.building_id)
        .join(Community, Community.id == Building.community_id)
    )


def item_out(row, now: datetime) -> FollowUpOut:
    item, name, address, community_id, tz = row
    today = now.astimezone(ZoneInfo(tz)).date()
    late = item.state == "open" and item.promised_on is not None and item.promised_on < today
    return FollowUpOut(
        resident_name=name,
        address=address,
        community_id=community_id,
        late=late,
        **{k: getattr(item, k) for k in FollowUpOut.model_fields if hasattr(FollowUp, k)},
    )


@router.get("", response_model=list[FollowUpOut])
def follow_ups(
    _: Viewer,
    s: ReadSession,
    now: Clock,
    state: Annotated[State | Literal["all"], Query()] = "open",
    community: Annotated[str | None, Query(max_length=64)] = None,
    resident: Annotated[str | None, Query(max_length=64)] = None,
):
    """The items, the late ones first, then by promised day (none promised last), then the oldest."""
    query = item_query()
    if state != "all":
        query = query.where(FollowUp.state == state)
    if community:
        query = query.where(Community.id == community)
    if resident:
        query = query.where(FollowUp.resident_id == resident)
    at = now()
    items = [item_out(row, at) for row in s.execute(query.order_by(FollowUp.id).limit(1000))]
    return sorted(items, key=lambda i: (not i.late, i.promised_on is None, i.promised_on or date.max, i.id))


@router.post("", response_model=FollowUpOut, status_code=201, responses={404: {}})
def open_follow_up(user: Operator, sessions: Sessions, now: Clock, body: FollowUpIn):
    at = now()
    with transaction(sessions) as s:
        resident = s.get(Resident, body.resident_id)
        if resident is None or not resident.active:
            raise HTTPException(404, f"no active resident '{body.resident_id}'")
        item = FollowUp(
            resident_id=body.resident_id,
            text=body.text.strip(),
            owner=body.owner.strip(),
            promised_on=body.promised_on,
            state="open",
            opened_at=at,
            opened_by=user.shown,
            outcome="",
        )
        s.add(item)
        s.flush()
        record(s, at, user.name, "follow_up.open", str(item.id), {"resident": body.resident_id, "text": item.text})
        return item_out(s.execute(item_query().where(FollowUp.id == item.id)).one(), at)


@router.put("/{item_id}", response_model=FollowUpOut, responses={404: {}, 422: {}})
def change_follow_up(user: Operator, sessions: Sessions, now: Clock, item_id: ItemId, body: FollowUpChange):
    """Give an owner or a promised day, or close the item: `dropped` needs an outcome saying why."""
    at = now()
    change = body.model_dump(exclude_unset=True)
    if body.state == "dropped" and not (body.outcome or "").strip():
        raise HTTPException(422, "say why the item is dropped (outcome)")
    with transaction(sessions) as s:
        item = s.get(FollowUp, item_id)
        if item is None:
            raise HTTPException(404, f"no follow-up item {item_id}")
        if "owner" in change:
            item.owner = (body.owner or "").strip()
        if "promised_on" in change:
            item.promised_on = body.promised_on
        if body.outcome is not None:
            item.outcome = body.outcome.strip()
        if body.state is not None and body.state != item.state:
            item.state = body.state
            closed = body.state != "open"
            item.closed_at, item.closed_by = (at, user.shown) if closed else (None, None)
        record(s, at, user.name, "follow_up.change", str(item_id), {k: str(v) for k, v in change.items()})
        return item_out(s.execute(item_query().where(FollowUp.id == item_id)).one(), at)
