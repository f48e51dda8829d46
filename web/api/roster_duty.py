"""The duty roster as planned: GET /api/v1/roster/duty (viewer). It loads the hotline roster, the
calendar days and the communities, asks registry/roster_plan.duty_plan (pure) once per time zone
with the Clock's now, and names the people. The roster is one for all communities; its wall-clock
times are read in each community's zone, so communities that share a zone share one plan.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import Community, Responder, RosterShift
from registry.calendar_days import load_calendar_days
from registry.china_calendar import ChinaCalendar
from registry.roster import Shift, coverage_gaps
from registry.roster_plan import DayPlan, duty_plan
from web.auth import Viewer
from web.deps import Clock, ReadSession

DEFAULT_ZONE = "Asia/Shanghai"  # a community without a zone, as dispatcher/recipients.py reads it

router = APIRouter(prefix="/api/v1", tags=["registry"])


def _person(people: dict[str, Responder], responder_id: str) -> dict:
    r = people.get(responder_id)
    if r is None:  # a shift can outlive nobody: the registry checks it, but say so rather than fail
        return {"id": responder_id, "name": responder_id, "phone": "", "active": False}
    return {"id": r.id, "name": r.name, "phone": r.phone, "active": bool(r.active)}


def _day(plan: DayPlan, people: dict[str, Responder]) -> dict:
    f = plan.facts
    return {
        "date": plan.day.isoformat(),
        "weekday": plan.day.isoweekday(),  # 1 Monday … 7 Sunday
        "today": plan.today,
        "kind": f.kind,
        "known": f.known,
        "entered": f.entered,
        "in_lieu": f.in_lieu,
        "holiday": {"zh": f.holiday_zh, "en": f.holiday_en} if f.holiday_en else None,
        "shifts": [
            {
                "start": seg.start,
                "end": seg.end,
                "current": seg.current,
                "people": [_person(people, i) for i in seg.responder_ids],
            }
            for seg in plan.segments
        ],
        "gaps": [{"start": lo, "end": hi} for lo, hi in plan.gaps],
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


@router.get("/roster/duty")
def roster_duty(
    user: Viewer,
    s: ReadSession,
    now: Clock,
    days: Annotated[int, Query(ge=1, le=31, description="today and the days after it, 1 to 31")] = 7,
    community: Annotated[str | None, Query(max_length=64, description="one community's plan")] = None,
) -> dict:
    """Who is on the hotline now and next (with the time of the change), and today and the next
    `days - 1` days: each day's kind (workday, weekend, holiday with its name, 调休 workdays), its
    shifts with names and phones, the spans nobody covers, and `known: false` for a day whose year
    China's calendar has no data for (planned by weekday, as the dispatcher pages it). 404 for an
    unknown community."""
    at = now()
    communities = _communities(s, community)
    shifts = [
        Shift(r.day_kind, r.start, r.end, r.responder_id)
        for r in s.scalars(select(RosterShift).order_by(RosterShift.position))
    ]
    people = {r.id: r for r in s.scalars(select(Responder))}
    active = {i for i, r in people.items() if r.active}
    calendar = ChinaCalendar(load_calendar_days(s), quiet=True)  # unknown days are shown, not logged
    by_zone: defaultdict[str, list[Community]] = defaultdict(list)
    for c in communities:
        by_zone[c.timezone or DEFAULT_ZONE].append(c)
    plans = []
    for zone, members in sorted(by_zone.items()) or [(DEFAULT_ZONE, [])]:
        plan = duty_plan(shifts, calendar, ZoneInfo(zone), at, days, active)
        plans.append(
            {
                "timezone": zone,
                "communities": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "mediator": _person(people, c.mediator_id) if c.mediator_id else None,
                    }
                    for c in members
                ],
                "on_duty": [_person(people, i) for i in plan.on_duty],
                "next_change_at": _iso(plan.next_change_at),
                "next_on_duty": [_person(people, i) for i in plan.next_on_duty],
                "unknown_years": list(plan.unknown_years),
                "days": [_day(d, people) for d in plan.days],
            }
        )
    gaps = coverage_gaps([sh for sh in shifts if sh.responder_id in active])
    return {
        "now": at.isoformat(),
        "gaps": [{"day_kind": k, "start": lo, "end": hi} for k, lo, hi in gaps],
        "plans": plans,
    }


def _communities(s: Session, community: str | None) -> list[Community]:
    if community is None:
        return list(s.scalars(select(Community).where(Community.active.is_(True)).order_by(Community.id)))
    found = s.get(Community, community)
    if found is None:
        raise HTTPException(404, f"no community {community}")
    return [found]
