"""派人前往: who can be sent to an alert (`viewer`), and sending one of them or yourself (`operator`).

The decision and its texts are the dispatcher's (dispatcher/dispatching.py, dispatch_rules.py); this
router checks the request, names the operator and turns the dispatcher's refusals into 409 and 422.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, model_validator

from core.schema import Alert
from dispatcher.alerts import AlertNotFound
from dispatcher.dispatching import AlertClosed, NotOffered, dispatch, offered
from dispatcher.steps import place_of
from web.api.acting import board_actor
from web.api.alerts import AlertRef, find
from web.auth import Operator, Viewer
from web.deps import AlertsShell, Clock, Reads, ReadSession

ROLE_WORDS = {"building": "楼道党员", "mediator": "调解员", "hotline": "求援热线"}
BOTH_OR_NEITHER = (
    "say who goes: either responder_id (one of GET …/dispatchable) or self: true, not both / 请选择派谁前往"
)

router = APIRouter(prefix="/api/v1", tags=["alerts"])


class DispatchIn(BaseModel):
    responder_id: str | None = Field(default=None, min_length=1, max_length=64)
    self_: bool = Field(default=False, alias="self")

    model_config = {"populate_by_name": True, "extra": "forbid"}

    @model_validator(mode="after")
    def one_of_the_two(self) -> DispatchIn:
        if (self.responder_id is not None) == self.self_:
            raise ValueError(BOTH_OR_NEITHER)
        return self


class DispatchableOut(BaseModel):
    id: str
    name: str
    tier: str  # building | mediator | hotline
    role: str  # the tier's word: 楼道党员 | 调解员 | 求援热线
    phone: str


class DispatchOut(BaseModel):
    changed: bool  # False: that person was already sent; nothing was sent again
    state: str
    dispatched_to: str | None


@router.get("/alerts/{alert_id}/dispatchable", response_model=list[DispatchableOut])
def dispatchable(user: Viewer, s: ReadSession, alerts: AlertsShell, now: Clock, alert_id: AlertRef):
    """Who can be sent: the alert's building volunteers, the community's mediator, the hotline on duty now."""
    alert = s.get(Alert, find(s, alert_id))
    if alert is None:
        raise HTTPException(404, f"no alert {alert_id}")
    people = offered(s, alerts.recipients, place_of(s, alert.resident_id), now())
    return [
        {"id": p.responder_id, "name": p.name, "tier": p.tier, "role": ROLE_WORDS[p.tier], "phone": p.phone}
        for p in people
    ]


@router.post("/alerts/{alert_id}/dispatch", response_model=DispatchOut)
def send(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef, body: DispatchIn):
    """Send someone to the resident: `{"responder_id": "pm-li"}`, or `{"self": true}` (you go). A triggered
    alert is taken in your name first. Sending the one already sent changes nothing."""
    with reads() as s:
        found = find(s, alert_id)
    try:
        outcome = dispatch(
            alerts,
            found,
            board_actor(user),
            responder_id=body.responder_id,
            operator_name=None if body.responder_id else user.shown,
        )
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    except AlertClosed as e:
        raise HTTPException(409, f"{e} / 该呼叫已结束，不能再派人") from None
    except NotOffered:
        raise HTTPException(
            422,
            f"responder {body.responder_id!r} cannot be sent to this alert: pick one of GET /api/v1/alerts/{found}/dispatchable"
            " (the building's volunteers, the mediator, the hotline on duty) / 不在可派人员名单中",
        ) from None
    return {"changed": outcome.changed, "state": outcome.state, "dispatched_to": outcome.by}
