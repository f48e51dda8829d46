"""During a call: escalate now (转下一级), page again (再次通知) and notes (`operator`); the readable
timeline and the 120 hand-off (`viewer`). Each route parses, calls one operation of
dispatcher.in_call (or a read) and translates the answer: a call taken or closed is a 409."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from core.schema import Alert
from dispatcher import handoff, in_call
from dispatcher.alerts import AlertNotFound, Outcome
from dispatcher.in_call_rules import NOTE_MAX
from dispatcher.timeline_read import readable_timeline
from web.api.acting import board_actor
from web.api.alerts import AlertRef, find
from web.api.record_fields import sees_health
from web.api.record_opened import note_opened
from web.auth import Operator, Viewer
from web.deps import AlertsShell, Clock, Reads, ReadSession, Sessions

router = APIRouter(prefix="/api/v1", tags=["in a call"])
Lang = Annotated[Literal["zh", "en"], Query(description="the language of the text")]


class EscalateIn(BaseModel):
    # the step the board showed: a second click about the same step changes nothing
    from_tier: int | None = Field(default=None, ge=-1, le=100)
    from_round: int | None = Field(default=None, ge=0, le=10**6)


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=NOTE_MAX)


class CallOut(BaseModel):
    changed: bool
    state: str
    tier_index: int | None = None
    pages: int | None = None  # a repage: how many messages and calls were queued


class LineOut(BaseModel):
    at: str
    time: str
    kind: str
    text: str


class TimelineTextOut(BaseModel):
    code: str
    lang: str
    lines: list[LineOut]


class PersonOut(BaseModel):
    name: str
    phone: str
    has_key: bool
    notify: bool


class HandoffOut(BaseModel):
    code: str
    resident: str
    address: str
    medical_notes: str | None = None  # operators and admins only: a viewer's answer has no such key
    conditions: str | None = None  # the same for these five
    allergies: str | None = None
    medicines: str | None = None
    mobility: str | None = None
    hospital: str | None = None
    resident_phone: str | None
    sex: str | None = None
    age: int | None = None  # from the birth year: a year either way
    contacts: list[PersonOut]
    key_holders: list[PersonOut]
    text: str


def _found(reads, alert_ref: str) -> int:
    with reads() as s:
        return find(s, alert_ref)


def _alert(s: Session, alert_ref: str) -> Alert:
    found = find(s, alert_ref)
    alert = s.get(Alert, found)
    if alert is None:
        raise HTTPException(404, f"no alert {found}")
    return alert


def _out(o: Outcome, pages: int | None = None) -> dict:
    return {"changed": o.changed, "state": o.state, "pages": pages}


@router.post("/alerts/{alert_id}/escalate", response_model=CallOut)
def escalate(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef, body: EscalateIn | None = None):
    """转下一级: the next tier is paged now, as if its timer ran out. Only while nobody has taken the call."""
    found = _found(reads, alert_id)
    body = body or EscalateIn()
    try:
        o = in_call.escalate(alerts, found, board_actor(user), body.from_tier, body.from_round)
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    except in_call.CallRefused as e:
        raise HTTPException(409, f"{e} (the call is {e.state})") from None
    with reads() as s:
        alert = s.get(Alert, found)
        return {**_out(o), "tier_index": alert.tier_index if alert else None}


@router.post("/alerts/{alert_id}/repage", response_model=CallOut)
def repage(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef):
    """再次通知: the tier paged last hears again now. A second click within 30 s sends nothing (changed false)."""
    found = _found(reads, alert_id)
    try:
        r = in_call.repage(alerts, found, board_actor(user))
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    except in_call.CallRefused as e:
        raise HTTPException(409, f"{e} (the call is {e.state})") from None
    return _out(r.outcome, r.pages)


@router.post("/alerts/{alert_id}/notes", response_model=CallOut, status_code=201)
def add_note(user: Operator, reads: Reads, alerts: AlertsShell, alert_id: AlertRef, body: NoteIn):
    """A note on the call's timeline in your name, at any time (a follow-up on a closed call too)."""
    found = _found(reads, alert_id)
    try:
        o = in_call.add_note(alerts, found, board_actor(user), body.text)
    except AlertNotFound:
        raise HTTPException(404, f"no alert {found}") from None
    except in_call.BlankNote as e:
        raise HTTPException(422, str(e)) from None
    return _out(o)


@router.get("/alerts/{alert_id}/timeline", response_model=TimelineTextOut)
def timeline(user: Viewer, s: ReadSession, alert_id: AlertRef, lang: Lang = "zh"):
    """The call's history as sentences (every page with its text and what became of it, replies, notes)."""
    alert = _alert(s, alert_id)
    lines = readable_timeline(s, alert, lang)
    return {
        "code": alert.code,
        "lang": lang,
        "lines": [{"at": x.at.isoformat(), "time": x.time, "kind": x.kind, "text": x.text} for x in lines],
    }


@router.get("/alerts/{alert_id}/handoff", response_model=HandoffOut, response_model_exclude_unset=True)
def handoff_panel(user: Viewer, s: ReadSession, sessions: Sessions, now: Clock, alert_id: AlertRef, lang: Lang = "zh"):
    """What to read aloud to 120: the resident, the full address, the health fields (operators and
    admins: their opening is in the audit list), phones, key holders."""
    alert = _alert(s, alert_id)
    h = handoff.load(s, alert)
    if not sees_health(user):
        h = replace(h, medical_notes=None, health=None)
    else:
        note_opened(sessions, now(), user.name, alert.resident_id, "handoff")
    people = [vars(c) for c in h.contacts]
    return {
        "code": h.alert_code,
        "resident": h.resident,
        "address": h.address,
        **({"medical_notes": h.medical_notes} if h.medical_notes is not None else {}),
        **(asdict(h.health) if h.health is not None else {}),
        "resident_phone": h.resident_phone,
        "sex": h.sex,
        "age": h.age,
        "contacts": people,
        "key_holders": [vars(c) for c in h.key_holders],
        "text": handoff.text(h, lang),
    }
