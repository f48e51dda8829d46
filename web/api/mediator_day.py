"""The mediator's daily summary on the board (viewer): the facts of a community's day and the SMS
text the mediator gets for it (dispatcher/mediator_day.py)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from core.schema import Community
from dispatcher.mediator_day import day_facts
from dispatcher.summary_text import summary_sms
from web.auth import Viewer
from web.deps import Clock, ReadSession

router = APIRouter(prefix="/api/v1", tags=["mediator"])


def active_community(s, community_id: str) -> Community:
    """The community of a route's path, or 404 when there is none or it was taken out of service."""
    community = s.get(Community, community_id)
    if community is None or not community.active:
        raise HTTPException(404, f"no community '{community_id}'")
    return community


@router.get("/communities/{community_id}/summary", responses={404: {}})
def summary(
    _: Viewer,
    s: ReadSession,
    now: Clock,
    community_id: str,
    day: Annotated[date | None, Query(description="YYYY-MM-DD; default: yesterday, in the community's days")] = None,
):
    community = active_community(s, community_id)
    at = now()
    day = day or at.astimezone(ZoneInfo(community.timezone)).date() - timedelta(days=1)
    facts = day_facts(s, community, day, at)
    return {**dataclasses.asdict(facts), "text": summary_sms(facts), "text_en": summary_sms(facts, "en")}
