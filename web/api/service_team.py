"""The service team (一支服务队) on the board: a community's volunteers with their skills and hours,
who can be asked now, and how much open work each has (viewer); a follow-up item given to one of
them, who is told by SMS (operator). The team itself is kept in the registry (registry/service_team.py)."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from core.audit import record
from core.db import transaction
from core.schema import FollowUp, Resident, Responder, ServiceMember
from dispatcher import visit_messages as texts
from dispatcher.visit_log import send_sms
from registry.service_team import SKILL_NAMES, Skill, available, hours_text
from web.api.follow_ups import FollowUpOut, ItemId, item_out, item_query
from web.api.mediator_day import active_community
from web.auth import Operator, Viewer
from web.deps import Clock, ReadSession, Sessions

router = APIRouter(prefix="/api/v1", tags=["service team"])


class MemberOut(BaseModel):
    responder_id: str
    name: str
    phone: str
    skills: list[str]
    skill_names: list[str]  # in Chinese, as the office writes them
    hours: str  # "周一至周五 09:00–17:00"
    available_now: bool
    open_items: int  # open follow-up items they own


class Assign(BaseModel):
    responder_id: Annotated[str, Field(min_length=1, max_length=64)]


@router.get("/communities/{community_id}/service-team", response_model=list[MemberOut], responses={404: {}})
def service_team(
    _: Viewer,
    s: ReadSession,
    now: Clock,
    community_id: str,
    skill: Annotated[Skill | None, Query()] = None,
):
    """The members (of one skill), those who can be asked now first, then the least busy."""
    community = active_community(s, community_id)
    local = now().astimezone(ZoneInfo(community.timezone))
    rows = s.execute(
        select(ServiceMember, Responder)
        .join(Responder, Responder.id == ServiceMember.responder_id)
        .where(ServiceMember.community_id == community_id, Responder.active.is_(True))
        .order_by(ServiceMember.position)
    ).all()
    names = [r.name for _, r in rows]
    busy = dict(
        s.execute(
            select(FollowUp.owner, func.count())
            .where(FollowUp.state == "open", FollowUp.owner.in_(names))
            .group_by(FollowUp.owner)
        ).all()
    )
    out = [
        MemberOut(
            responder_id=r.id,
            name=r.name,
            phone=r.phone,
            skills=m.skills,
            skill_names=[SKILL_NAMES.get(k, (k, k))[0] for k in m.skills],
            hours=hours_text(m.days, m.start, m.end),
            available_now=available(m.days, m.start, m.end, local),
            open_items=busy.get(r.name, 0),
        )
        for m, r in rows
        if skill is None or skill in m.skills
    ]
    return sorted(out, key=lambda m: (not m.available_now, m.open_items))


@router.post("/follow-ups/{item_id}/assign", response_model=FollowUpOut, responses={404: {}, 409: {}, 422: {}})
def assign(user: Operator, sessions: Sessions, now: Clock, item_id: ItemId, body: Assign):
    """Give an open item to a member of the resident's community's service team; they get an SMS."""
    at = now()
    with transaction(sessions) as s:
        item = s.get(FollowUp, item_id)
        if item is None:
            raise HTTPException(404, f"no follow-up item {item_id}")
        if item.state != "open":
            raise HTTPException(409, f"follow-up item {item_id} is {item.state}: only an open item is given out")
        row = s.execute(item_query().where(FollowUp.id == item_id)).one()
        community_id = row[3]
        member = s.execute(
            select(Responder)
            .join(ServiceMember, ServiceMember.responder_id == Responder.id)
            .where(ServiceMember.community_id == community_id, Responder.id == body.responder_id)
        ).scalar_one_or_none()
        if member is None or not member.active:
            raise HTTPException(422, f"'{body.responder_id}' is not on the service team of {community_id}")
        resident = s.get(Resident, item.resident_id)
        assert resident is not None  # the item's foreign key
        item.owner = member.name
        body_text = texts.follow_up_assigned(
            resident=resident.name,
            address=resident.address,
            need=item.text,
            promised=item.promised_on,
            by=user.shown,
            language=member.language,
        )
        # one SMS per item and member: assigning the same twice does not text them twice
        send_sms(s, member, at, key=f"follow_up:{item.id}", purpose="follow_up", body=body_text)
        record(s, at, user.name, "follow_up.assign", str(item.id), {"to": member.id})
        s.flush()
        return item_out(s.execute(item_query().where(FollowUp.id == item_id)).one(), at)
