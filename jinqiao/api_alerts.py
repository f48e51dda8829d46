"""Minimal alerts API (list, one with its timeline, ack, resolve).

Until accounts exist (issue #4) every route here answers only requests from this machine.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.alerts import OUTCOMES, Actor, AlertNotFound, Alerts
from jinqiao.schema import Alert, Notification, TimelineEntry

LOCAL = {"127.0.0.1", "::1", "localhost", "testclient"}


def local_only(request: Request) -> None:
    if request.client is None or request.client.host not in LOCAL:
        raise HTTPException(status_code=403, detail="this API answers only local requests until accounts exist")


class AlertOut(BaseModel):
    id: int
    code: str
    resident_id: str
    device_id: str | None
    kind: str
    reason: str
    state: str
    opened_at: datetime
    tier_index: int
    tier_round: int
    next_action_at: datetime | None
    repeat_presses: int
    acknowledged_by: str | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    outcome: str | None
    note: str | None

    model_config = {"from_attributes": True}


class TimelineOut(BaseModel):
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

    model_config = {"from_attributes": True}


class AlertDetail(AlertOut):
    timeline: list[TimelineOut]
    notifications: list[NotificationOut]


class AckIn(BaseModel):
    by: str = Field(default="operator", min_length=1, max_length=200)


class ResolveIn(BaseModel):
    by: str = Field(default="operator", min_length=1, max_length=200)
    outcome: str = Field(pattern="^(" + "|".join(OUTCOMES) + ")$")
    note: str = Field(default="", max_length=2000)


def alerts_router(sessions: sessionmaker[Session], alerts: Alerts) -> APIRouter:
    router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"], dependencies=[Depends(local_only)])

    @router.get("", response_model=list[AlertOut])
    def list_alerts(state: str | None = Query(default=None, pattern="^(triggered|acknowledged|resolved|cancelled|open)$"),
                    limit: int = Query(default=100, ge=1, le=1000), offset: int = Query(default=0, ge=0)):
        with sessions() as s:
            stmt = select(Alert)
            if state == "open":
                stmt = stmt.where(Alert.state.in_(("triggered", "acknowledged")))
            elif state:
                stmt = stmt.where(Alert.state == state)
            return s.scalars(stmt.order_by(Alert.id.desc()).limit(limit).offset(offset)).all()

    @router.get("/{alert_id}", response_model=AlertDetail)
    def one_alert(alert_id: int):
        with sessions() as s:
            alert = s.get(Alert, alert_id)
            if alert is None:
                raise HTTPException(404, f"no alert {alert_id}")
            timeline = s.scalars(select(TimelineEntry).where(TimelineEntry.alert_id == alert_id).order_by(TimelineEntry.id)).all()
            notes = s.scalars(select(Notification).where(Notification.alert_id == alert_id).order_by(Notification.id)).all()
            return AlertDetail.model_validate({**AlertOut.model_validate(alert).model_dump(),
                                               "timeline": [TimelineOut.model_validate(t) for t in timeline],
                                               "notifications": [NotificationOut.model_validate(n) for n in notes]})

    @router.post("/{alert_id}/ack")
    def ack(alert_id: int, body: AckIn):
        try:
            outcome = alerts.acknowledge(alert_id, Actor(body.by, "web"))
        except AlertNotFound:
            raise HTTPException(404, f"no alert {alert_id}")
        return {"changed": outcome.changed, "state": outcome.state, "acknowledged_by": outcome.by}

    @router.post("/{alert_id}/resolve")
    def resolve(alert_id: int, body: ResolveIn):
        try:
            outcome = alerts.resolve(alert_id, Actor(body.by, "web"), body.outcome, body.note)
        except AlertNotFound:
            raise HTTPException(404, f"no alert {alert_id}")
        return {"changed": outcome.changed, "state": outcome.state}

    return router
