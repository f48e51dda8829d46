"""The mediator's day, the shell: the facts of a community's day read from the database, and the
pass that sends each community's mediator the summary of yesterday (dispatcher/summary_text.py) at
the set local time. Keyed by community and day: a pass run twice sends it once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Alert, Building, CheckinMiss, Community, FollowUp, MaintenanceItem, Resident, Responder
from dispatcher.escalation import OPEN_STATES
from dispatcher.summary_text import DayFacts, summary_sms
from dispatcher.visit_log import RUN_EVERY, load_views, send_sms
from dispatcher.visits import QUIET_FROM, due


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    return datetime.combine(day, time(0), zone), datetime.combine(day + timedelta(days=1), time(0), zone)


def day_facts(s: Session, community: Community, day: date, now: datetime) -> DayFacts:
    """What the mediator of `community` reads about `day`; the open items and visits as of `now`."""
    start, end = day_bounds(day, community.timezone)
    residents = select(Resident.id).join(Building, Building.id == Resident.building_id)
    residents = residents.where(Building.community_id == community.id)
    calls = s.execute(
        select(Alert.kind, Alert.state, Alert.outcome).where(
            Alert.resident_id.in_(residents), Alert.opened_at >= start, Alert.opened_at < end
        )
    ).all()
    today = now.astimezone(ZoneInfo(community.timezone)).date()
    items = s.execute(
        select(FollowUp.promised_on).where(FollowUp.resident_id.in_(residents), FollowUp.state == "open")
    ).all()
    overdue = sorted(
        ((due(r.view, now).overdue_days, r.name) for r in load_views(s, now, community.id) if not r.view.away),
        key=lambda x: -x[0],
    )
    return DayFacts(
        community=community.name,
        day=day,
        calls=dict(Counter(kind for kind, _, _ in calls)),
        outcomes=dict(Counter(outcome for _, _, outcome in calls if outcome)),
        still_open=sum(1 for _, state, _ in calls if state in OPEN_STATES),
        checkins_missed=s.scalar(
            select(func.count()).where(CheckinMiss.resident_id.in_(residents), CheckinMiss.day == day.isoformat())
        )
        or 0,
        follow_ups_open=len(items),
        follow_ups_late=sum(1 for (promised,) in items if promised is not None and promised < today),
        visits_overdue=tuple(name for days, name in overdue if days > 0),
        devices_to_fix=s.scalar(
            select(func.count()).where(MaintenanceItem.resident_id.in_(residents), MaintenanceItem.closed_at.is_(None))
        )
        or 0,
    )


class MediatorSummaries:
    """The pass: from `at` local time, each community's mediator gets yesterday's summary, once."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime], at: str = "08:30") -> None:
        self.sessions, self.now = sessions, now
        self.at = None if at == "off" else time.fromisoformat(at)
        self._last: datetime | None = None

    def run(self) -> bool:
        now = self.now()
        if self.at is None or (self._last is not None and now - self._last < RUN_EVERY):
            return False
        with transaction(self.sessions) as s:
            for community, mediator in s.execute(
                select(Community, Responder)
                .join(Responder, Responder.id == Community.mediator_id)
                .where(Community.active.is_(True), Responder.active.is_(True))
            ):
                local = now.astimezone(ZoneInfo(community.timezone))
                if not (self.at <= local.time() < QUIET_FROM):
                    continue
                yesterday = local.date() - timedelta(days=1)
                body = summary_sms(day_facts(s, community, yesterday, now), mediator.language)
                send_sms(s, mediator, now, key=f"summary:{community.id}:{yesterday}", purpose="summary", body=body)
        self._last = now
        return False
