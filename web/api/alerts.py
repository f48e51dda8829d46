"""Alerts API: list (filter, search, paginate), one with its timeline and notifications, ack, resolve,
and the board's view of open alerts. Reading needs `viewer`; taking and closing a call `operator`.
Every action is done in the signed-in person's name, so the timeline shows who did it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from core.schema import Alert, Building, EscalationTier, Notification, Resident, TimelineEntry
from dispatcher.alerts import OUTCOMES, AlertNotFound, NoteRequired
from dispatcher.escalation import CLOSED_STATES, OPEN_STATES, State
from dispatcher.steps import policy_of
from web.api import alert_filters
from web.api.acting import board_actor
from web.api.next_tier import TierPerson, people_by_alert
from web.auth import Operator, Viewer
from web.deps import AlertsShell, Clock, Reads, ReadSession

# An alert is named by its id (`17`) or by the code every SMS shows, after `#` (`#8150`, written
# `%238150` in a URL). A bare number stays the id: ids and codes overlap, and the board uses ids.
AlertRef = Annotated[str, Path(pattern=r"^#?[0-9]{1,10}$", description="an alert id (17), or # and its code (#8150)")]
MAX_ID = 2**31 - 1
KIND_ORDER = {"emergency": 0, "wellness": 1, "device": 2}


class AlertOut(BaseModel):
    id: int
    code: str
    resident_id: str
    resident_name: str = ""
    address: str = ""
    building_id: str | None = None
    community_id: str | None = None
    device_id: str | None
    kind: str
    reason: str
    state: str
    opened_at: datetime
    updated_at: datetime
    tier_index: int
    tier: str | None = None  # the tier reached: building | mediator | hotline
    next_tier: str | None = None  # the tier the next step reaches, while triggered (the last one repeats)
    tier_round: int
    next_action_at: datetime | None
    repeat_presses: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    dispatched_to: str | None = None  # who went (a responder's name, or the operator's)
    dispatched_at: datetime | None = None
    resolved_by: str | None = None
    resolved_at: datetime | None
    outcome: str | None
    note: str | None

    model_config = {"from_attributes": True}


class TimelineOut(BaseModel):
    id: int
    at: datetime
    what: str
    actor: str | None
    channel: str | None
    detail: dict

    model_config = {"from_attributes": True}


class NotificationOut(BaseModel):
    id: int
    recipient_name: str
    to_number: str
    channel: str
    purpose: str
    status: str
    provider_status: str | None
    tier_index: int | None
    created_at: datetime
    sent_at: datetime | None

    model_config = {"from_attributes": True}


class Refused(BaseModel):
    """A provider would not take this message (over its limit for the number, or it refused): who
    did, and who carried it instead (None: nobody); from the alert's `channel_refused` entries."""

    by: str
    then: str | None
    limit: bool


class BoardNotification(NotificationOut):
    refused: list[Refused] = []


class AlertDetail(AlertOut):
    timeline: list[TimelineOut]
    notifications: list[NotificationOut]


class BoardAlert(AlertOut):
    notifications: list[BoardNotification]
    next_tier_people: list[TierPerson] = []  # who the next step pages, by name (web/api/next_tier.py)


class Board(BaseModel):
    open: list[BoardAlert]
    recent: list[AlertOut]  # the last closed ones
    tiers: list[str]  # the escalation policy's tiers, in order


class ResolveIn(BaseModel):
    outcome: Literal[OUTCOMES]  # type: ignore[valid-type]  # a Literal of a runtime tuple: pydantic reads it, mypy cannot
    note: str = Field(default="", max_length=2000)


class ActionOut(BaseModel):
    changed: bool
    state: str
    by: str | None


def _enriched(s: Session, rows: Iterable[tuple[Alert, Resident, Building]]) -> list[dict]:
    # an alert's tier_index counts in its own kind's tiers (TIERS_BY_KIND): a device alert's 0 is the mediator
    tiers_of: dict[str, list[str]] = {}
    out = []
    for alert, resident, building in rows:
        if alert.kind not in tiers_of:
            tiers_of[alert.kind] = [t.tier for t in policy_of(s, alert.kind).tiers]  # read once per request
        tiers = tiers_of[alert.kind]
        d = AlertOut.model_validate(alert).model_dump()
        d.update(
            resident_name=resident.name,
            address=resident.address,
            building_id=building.id,
            community_id=building.community_id,
            tier=tiers[alert.tier_index] if 0 <= alert.tier_index < len(tiers) else None,
            next_tier=(
                tiers[min(alert.tier_index + 1, len(tiers) - 1)] if alert.state == State.TRIGGERED and tiers else None
            ),
        )
        out.append(d)
    return out


def _joined() -> Select[Alert, Resident, Building]:
    return (
        select(Alert, Resident, Building)
        .join(Resident, Resident.id == Alert.resident_id)
        .join(Building, Building.id == Resident.building_id)
    )


router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", response_model=list[AlertOut])
def list_alerts(
    user: Viewer,
    s: ReadSession,
    response: Response,
    state: Annotated[State | Literal["open", "closed"] | None, Query()] = None,
    kind: Annotated[Literal["emergency", "wellness", "device"] | None, Query()] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200, description="resident name or id, alert code")] = None,
    since: Annotated[str | None, Query(max_length=40, description="first day, YYYY-MM-DD, in the alert's zone")] = None,
    until: Annotated[str | None, Query(max_length=40, description="last day (inclusive), YYYY-MM-DD")] = None,
    outcome: Annotated[str | None, Query(max_length=40, description="one of the resolve outcomes")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
):
    """Alerts, newest first. `open` = triggered or acknowledged; `closed` = resolved or cancelled.

    `since`/`until` are calendar days in the time zone of each alert's own community (so with one
    community, its zone; Beijing time for a community without one): a call at 23:30 Beijing time on
    12-01 is on 12-01. `until` is inclusive; since after until is a 422 (web/api/alert_filters.py).
    The `X-Total-Count` header says how many alerts match without `limit`/`offset`."""
    stmt = alert_filters.narrowed(s, _joined(), since=since, until=until, outcome=outcome)
    if state == "open":
        stmt = stmt.where(Alert.state.in_(OPEN_STATES))
    elif state == "closed":
        stmt = stmt.where(Alert.state.in_(CLOSED_STATES))
    elif state:
        stmt = stmt.where(Alert.state == state)
    if kind:
        stmt = stmt.where(Alert.kind == kind)
    if community:
        stmt = stmt.where(Building.community_id == community)
    if q:
        like = f"%{q.strip()}%"
        stmt = stmt.where(
            or_(
                Resident.name.like(like),
                Resident.id == q.strip(),
                Alert.code == q.strip().lstrip("#"),
                Resident.address.like(like),
            )
        )
    response.headers["X-Total-Count"] = str(alert_filters.count(s, stmt))
    return _enriched(s, s.execute(stmt.order_by(Alert.id.desc()).limit(limit).offset(offset)).all())


@router.get("/board", response_model=Board)
def board(
    user: Viewer,
    s: ReadSession,
    now: Clock,
    community: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[Literal["emergency", "wellness", "device"] | None, Query()] = None,
):
    """Open alerts for the board: emergencies first, then wellness, then device alerts; oldest first."""
    kind_rank = case(KIND_ORDER, value=Alert.kind, else_=9)
    open_stmt = _joined().where(Alert.state.in_(OPEN_STATES))
    recent_stmt = _joined().where(Alert.state.in_(CLOSED_STATES))
    if community:
        open_stmt = open_stmt.where(Building.community_id == community)
        recent_stmt = recent_stmt.where(Building.community_id == community)
    if kind:
        open_stmt = open_stmt.where(Alert.kind == kind)
        recent_stmt = recent_stmt.where(Alert.kind == kind)
    open_rows = s.execute(open_stmt.order_by(kind_rank, Alert.opened_at, Alert.id).limit(500)).all()
    opened = _enriched(s, open_rows)
    ids = [a["id"] for a in opened]
    # keyed as the column is typed (nullable); the query below reads only these alerts' notifications
    notes: defaultdict[int | None, list[dict]] = defaultdict(list)
    if ids:
        refused = refusals(s, ids)
        for n in s.scalars(
            select(Notification)
            .where(Notification.alert_id.in_(ids), Notification.purpose.in_(("page", "confirm")))
            .order_by(Notification.id)
        ):
            notes[n.alert_id].append(NotificationOut.model_validate(n).model_dump() | {"refused": refused[n.id]})
    recent = _enriched(s, s.execute(recent_stmt.order_by(Alert.updated_at.desc()).limit(20)).all())
    tiers = [t.tier for t in s.scalars(select(EscalationTier).order_by(EscalationTier.position))]
    upcoming = people_by_alert(s, open_rows, now())
    return {
        "open": [{**a, "notifications": notes[a["id"]], "next_tier_people": upcoming.get(a["id"], [])} for a in opened],
        "recent": recent,
        "tiers": tiers,
    }


def refusals(s: Session, alert_ids: list[int]) -> defaultdict[int, list[dict]]:
    """By notification id: the providers that would not take it (the board marks the channel)."""
    found: defaultdict[int, list[dict]] = defaultdict(list)
    for e in s.scalars(
        select(TimelineEntry)
        .where(TimelineEntry.alert_id.in_(alert_ids), TimelineEntry.what == "channel_refused")
        .order_by(TimelineEntry.id)
    ):
        d = e.detail or {}
        if isinstance(d.get("notification_id"), int):
            limit = "LIMIT_CONTROL" in str(d.get("reason") or "")
            found[d["notification_id"]].append({"by": str(d.get("by")), "then": d.get("then"), "limit": limit})
    return found


def find(s: Session, ref: str) -> int:
    """The id an alert reference names; 404 when none, 422 for an id beyond the column's range."""
    if ref.startswith("#"):  # an open alert's code is unique; a closed one's may recur: the newest
        found = s.scalar(
            select(Alert.id)
            .where(Alert.code == ref[1:])
            .order_by(Alert.state.in_(OPEN_STATES).desc(), Alert.id.desc())
            .limit(1)
        )
    elif int(ref) < 1 or int(ref) > MAX_ID:
        raise HTTPException(422, f"an alert id is 1 to {MAX_ID}; a code is written #8150 (%238150 in a URL)")
    else:
        found = int(ref)
    if found is None:
        raise HTTPException(404, f"no alert with code {ref[1:]}")
    return found


@router.get("/alerts/{alert_id}", response_model=AlertDetail)
def one_alert(user: Viewer, s: ReadSession, alert_id: AlertRef):
    return alert_detail(s, find(s, alert_id))


def alert_detail(s: Session, found: int) -> dict:
    """One alert with its timeline and notifications (what `/alerts/{id}` answers); 404 when none."""
    row = s.execute(_joined().where(Alert.id == found)).first()
    if row is None:
        raise HTTPException(404, f"no alert {found}")
    timeline = s.scalars(select(TimelineEntry).where(TimelineEntry.alert_id == found).order_by(TimelineEntry.id)).all()
    notes = s.scalars(select(Notification).where(Notification.alert_id == found).order_by(Notification.id)).all()
    return {
        **_enriched(s, [row])[0],
        "timeline": [TimelineOut.model_validate(t) for t in timeline],
        "notifications": [NotificationOut.model_validate(n) for n in notes],
    }


@router.post("/alerts/{alert_id}/ack", response_model=ActionOut)
def ack(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef):
    """Take the call, in your own name. The alert by its id, or by its code (`#8150`)."""
    with reads() as s:
        found = find(s, alert_id)
    try:
        outcome = alerts.acknowledge(found, board_actor(user))
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    return {"changed": outcome.changed, "state": outcome.state, "by": outcome.by}


@router.post("/alerts/{alert_id}/resolve", response_model=ActionOut)
def resolve(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef, body: ResolveIn):
    """Close the call with its outcome and a note, in your own name."""
    with reads() as s:
        found = find(s, alert_id)
    try:
        outcome = alerts.resolve(found, board_actor(user), body.outcome, body.note)
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    except NoteRequired as e:
        raise HTTPException(422, str(e)) from None
    return {"changed": outcome.changed, "state": outcome.state, "by": outcome.by}
