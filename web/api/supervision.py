"""Read-only views of device health and the daily check-in, and the maintenance list (close an item).

Everyone signed in reads; an operator (or admin) closes a maintenance item, under their account name.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import is_postgres, transaction
from core.schema import Alert, Building, Community, Device, MaintenanceItem, Resident, ResidentCheckin
from dispatcher.escalation import OPEN_STATES
from dispatcher.supervision import (
    HEARTBEAT_MISSED,
    SLEEPING_ADAPTERS,
    DeviceView,
    ResidentView,
    Rules,
    device_condition,
    device_problem,
    is_away,
)
from web.auth import Operator, Viewer
from web.deps import Clock, ReadSession, Sessions, SupervisionRules


class DeviceHealth(BaseModel):
    id: str
    resident_id: str | None
    resident_name: str | None = None
    kind: str
    adapter: str
    source: str | None
    # a commodity button (zigbee2mqtt, shelly, tasmota) has no display: the resident is never told
    # `received` or that help is on the way, so whoever calls back must say so
    can_show_feedback: bool
    heartbeat_s: int | None
    last_seen_at: datetime | None
    status: str | None
    status_at: datetime | None
    battery: int | None
    offline: bool  # its status topic says `offline` (a device alert follows after the grace period)
    heartbeat_overdue: bool
    battery_low: bool  # the last reading is low, or a low-battery maintenance item is open
    maintenance_open: bool  # an open maintenance item
    # the board's one word: never_seen | online | silent | offline | low_battery, worst first
    condition: str
    condition_since: datetime | None
    offline_since: datetime | None
    silent_since: datetime | None  # its last message, when its heartbeat is overdue
    open_alert_id: int | None  # its open device alert, if any


class MaintenanceOut(BaseModel):
    id: int
    device_id: str
    resident_id: str | None
    resident_name: str | None = None  # for the board's device tab
    reason: str
    battery: int | None
    opened_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    note: str | None

    model_config = {"from_attributes": True}


class ResidentSupervision(BaseModel):
    resident_id: str
    checkin_deadline: str | None
    last_checkin_at: datetime | None
    away_from: datetime | None
    away_to: datetime | None
    away_now: bool
    can_show_feedback: bool  # at least one of the resident's devices can show feedback
    devices: list[DeviceHealth]


Offset = Annotated[int, Query(ge=0, le=10**9)]  # beyond the database's 64 bits an offset was a 500
ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]  # the column's range: a larger id is a 422, not a crash
ResidentId = Annotated[str, Path(min_length=1, max_length=64)]


class CloseIn(BaseModel):
    note: str = Field(default="", max_length=2000)


def open_maintenance(s: Session, device_ids: list[str]) -> set[str]:
    """The devices among these with an open maintenance item."""
    if not device_ids:
        return set()
    return set(
        s.scalars(
            select(MaintenanceItem.device_id).where(
                MaintenanceItem.closed_at.is_(None), MaintenanceItem.device_id.in_(device_ids)
            )
        )
    )


def health_of(d: Device, rules: Rules, at: datetime, maintenance_open: bool = False) -> dict:
    """A device's health by the supervision rules: what the board and both device APIs show."""
    view = DeviceView(
        d.id, d.resident_id, d.heartbeat_s, d.last_seen_at, d.status, d.status_at, sleeps=d.adapter in SLEEPING_ADAPTERS
    )
    problem = device_problem(view, rules, at)
    condition = device_condition(view, d.battery, maintenance_open, rules, at)
    overdue = bool(
        d.heartbeat_s
        and d.last_seen_at
        and (at - d.last_seen_at).total_seconds() > d.heartbeat_s + rules.heartbeat_slack_s
    )
    return dict(
        adapter=d.adapter,
        can_show_feedback=d.adapter == "native",
        status=d.status,
        last_seen_at=d.last_seen_at,
        battery=d.battery,
        offline=d.status == "offline",  # as it said; a device alert follows after the grace period
        heartbeat_overdue=overdue or problem == HEARTBEAT_MISSED,
        battery_low=maintenance_open or (d.battery is not None and d.battery < rules.battery_low),
        maintenance_open=maintenance_open,
        condition=condition.word,
        condition_since=condition.since,
        offline_since=condition.offline_since,
        silent_since=condition.silent_since,
    )


router = APIRouter(prefix="/api/v1/supervision", tags=["supervision"])


def health(s: Session, devices: Sequence[Device], rules: Rules, at: datetime) -> list[DeviceHealth]:
    ids = [d.id for d in devices]
    alerts = (
        dict(
            s.execute(
                select(Alert.device_id, Alert.id).where(
                    Alert.kind == "device", Alert.state.in_(OPEN_STATES), Alert.device_id.in_(ids)
                )
            ).all()
        )
        if ids
        else {}
    )
    maintained = open_maintenance(s, ids)
    residents = [d.resident_id for d in devices if d.resident_id]
    names = (
        dict(s.execute(select(Resident.id, Resident.name).where(Resident.id.in_(residents))).all()) if residents else {}
    )
    return [
        DeviceHealth(
            id=d.id,
            resident_id=d.resident_id,
            resident_name=names.get(d.resident_id) if d.resident_id else None,
            kind=d.kind,
            source=d.source,
            heartbeat_s=d.heartbeat_s,
            status_at=d.status_at,
            open_alert_id=alerts.get(d.id),
            **health_of(d, rules, at, d.id in maintained),
        )
        for d in devices
    ]


@router.get("/devices", response_model=list[DeviceHealth])
def device_health(
    _: Viewer,
    s: ReadSession,
    rules: SupervisionRules,
    now: Clock,
    problems: bool = Query(default=False, description="only devices with something wrong"),
    limit: int = Query(default=1000, ge=1, le=10000),
    offset: Offset = 0,
):
    devices = s.scalars(
        select(Device).where(Device.active.is_(True)).order_by(Device.id).limit(limit).offset(offset)
    ).all()
    rows = health(s, devices, rules, now())
    if problems:
        rows = [r for r in rows if r.offline or r.heartbeat_overdue or r.battery_low or r.open_alert_id]
    return rows


@router.get("/residents/{resident_id}", response_model=ResidentSupervision)
def resident(_: Viewer, s: ReadSession, rules: SupervisionRules, now: Clock, resident_id: ResidentId):
    r = s.get(Resident, resident_id)
    if r is None:
        raise HTTPException(404, f"no resident {resident_id}")
    devices = s.scalars(
        select(Device).where(Device.resident_id == resident_id, Device.active.is_(True)).order_by(Device.id)
    ).all()
    checkin = s.get(ResidentCheckin, resident_id)
    zone = s.scalar(
        select(Community.timezone)
        .join(Building, Building.community_id == Community.id)
        .where(Building.id == r.building_id)
    )
    view = ResidentView(
        r.id, zone or "Asia/Shanghai", r.checkin_deadline, r.away_from, r.away_to, checkin.last_at if checkin else None
    )
    rows = health(s, devices, rules, now())
    return ResidentSupervision(
        resident_id=r.id,
        checkin_deadline=r.checkin_deadline,
        last_checkin_at=view.last_checkin_at,
        away_from=r.away_from,
        away_to=r.away_to,
        away_now=is_away(view, now()),
        can_show_feedback=any(d.can_show_feedback for d in rows),
        devices=rows,
    )


@router.get("/maintenance", response_model=list[MaintenanceOut])
def maintenance(
    _: Viewer,
    s: ReadSession,
    state: str = Query(default="open", pattern="^(open|closed|all)$"),
    limit: int = Query(default=100, ge=1, le=1000),
    offset: Offset = 0,
):
    stmt = select(MaintenanceItem, Resident.name).outerjoin(Resident, Resident.id == MaintenanceItem.resident_id)
    if state == "open":
        stmt = stmt.where(MaintenanceItem.closed_at.is_(None))
    elif state == "closed":
        stmt = stmt.where(MaintenanceItem.closed_at.is_not(None))
    rows = s.execute(stmt.order_by(MaintenanceItem.id.desc()).limit(limit).offset(offset)).all()
    return [MaintenanceOut.model_validate(item).model_copy(update={"resident_name": name}) for item, name in rows]


@router.post("/maintenance/{item_id}/close")
def close(user: Operator, sessions: Sessions, now: Clock, item_id: ItemId, body: CloseIn):
    with transaction(sessions) as s:
        stmt = select(MaintenanceItem).where(MaintenanceItem.id == item_id)
        if is_postgres(s.get_bind()):
            stmt = stmt.with_for_update()  # two operators closing the same item: one wins, the other sees it closed
        item = s.scalars(stmt).first()
        if item is None:
            raise HTTPException(404, f"no maintenance item {item_id}")
        if item.closed_at is not None:
            return {"changed": False, "closed_by": item.closed_by, "closed_at": item.closed_at}
        item.closed_at, item.closed_by, item.note = now().astimezone(timezone.utc), user.name, body.note or None
        return {"changed": True, "closed_by": item.closed_by, "closed_at": item.closed_at}
