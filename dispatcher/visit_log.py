"""Visits, the shell: record one (by SMS reply or from the board), read who is due, and the pass
that reminds party members and tells mediators (rules in dispatcher/visits.py). Every write is
keyed, so a redelivered webhook or a pass run twice changes nothing more."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Building, BuildingPartyMember, Community, FollowUp, Resident, Responder, Visit
from dispatcher import visit_messages as texts
from dispatcher.notices import PRIORITY, enqueue
from dispatcher.visits import VisitReply, VisitView, due, match_resident, notices, parse_visit

log = structlog.get_logger("jinqiao.visits")

RUN_EVERY = timedelta(minutes=1)  # the reminders look at every resident: once a minute is enough


@dataclass(frozen=True)
class ResidentVisits:
    view: VisitView
    name: str
    address: str
    community_id: str
    building_id: str
    mediator_id: str | None
    last_by: str | None


def load_views(
    s: Session, now: datetime, community: str | None = None, resident: str | None = None
) -> list[ResidentVisits]:
    """Every active resident (of a community, or one) with their last visit, in one query."""
    newest = select(Visit.resident_id, func.max(Visit.id).label("visit_id")).group_by(Visit.resident_id).subquery()
    query = (
        select(Resident, Community.id, Community.timezone, Community.mediator_id, Visit)
        .join(Building, Building.id == Resident.building_id)
        .join(Community, Community.id == Building.community_id)
        .outerjoin(newest, newest.c.resident_id == Resident.id)
        .outerjoin(Visit, Visit.id == newest.c.visit_id)
        .where(Resident.active.is_(True))
        .order_by(Resident.id)
    )
    if community:
        query = query.where(Community.id == community)
    if resident:
        query = query.where(Resident.id == resident)
    found = []
    for r, community_id, tz, mediator, visit in s.execute(query):
        away = r.away_from is not None and r.away_from <= now and (r.away_to is None or now < r.away_to)
        view = VisitView(r.id, r.visit_every_days, visit.at if visit else None, r.visits_since or now, tz, away)
        found.append(
            ResidentVisits(
                view, r.name, r.address, community_id, r.building_id, mediator, visit.by_name if visit else None
            )
        )
    return found


def party_members(s: Session, building_id: str) -> list[Responder]:
    return list(
        s.scalars(
            select(Responder)
            .join(BuildingPartyMember, BuildingPartyMember.responder_id == Responder.id)
            .where(BuildingPartyMember.building_id == building_id, Responder.active.is_(True))
            .order_by(BuildingPartyMember.position)
        )
    )


def record_visit(
    s: Session,
    *,
    resident_id: str,
    now: datetime,
    by_name: str,
    channel: str,
    note: str = "",
    need: str | None = None,
    responder_id: str | None = None,
    source_key: str | None = None,
) -> Visit | None:
    """Add the visit; None when `source_key` was recorded before. A need goes to the mediator."""
    if source_key and s.scalar(select(Visit.id).where(Visit.source_key == source_key)):
        return None
    visit = Visit(
        resident_id=resident_id,
        at=now,
        by_name=by_name,
        responder_id=responder_id,
        channel=channel,
        note=note,
        need=need or None,
        source_key=source_key,
    )
    s.add(visit)
    s.flush()
    if need:
        _tell_mediator_of_need(s, visit, now)
    log.info("visit.recorded", resident=resident_id, channel=channel, need=bool(need))
    return visit


def _tell_mediator_of_need(s: Session, visit: Visit, now: datetime) -> None:
    """The need becomes a follow-up item the mediator owns, and the mediator hears of it by SMS."""
    row = s.execute(
        select(Resident.name, Responder)
        .join(Building, Building.id == Resident.building_id)
        .join(Community, Community.id == Building.community_id)
        .join(Responder, Responder.id == Community.mediator_id)
        .where(Resident.id == visit.resident_id, Responder.active.is_(True))
    ).first()
    s.add(
        FollowUp(
            resident_id=visit.resident_id,
            text=visit.need or "",
            owner=row[1].name if row else "",
            state="open",
            opened_at=now,
            opened_by=visit.by_name,
            visit_id=visit.id,
            outcome="",
        )
    )
    if row is None:
        return  # no mediator: the item is on the board's follow-up list all the same
    resident, mediator = row
    send_sms(
        s,
        mediator,
        now,
        key=f"visit-need:{visit.id}",
        purpose="visit_need",
        body=texts.visit_need(
            resident=resident, visitor=visit.by_name, need=visit.need or "", language=mediator.language
        ),
    )


def send_sms(s: Session, to: Responder, now: datetime, *, key: str, purpose: str, body: str) -> None:
    enqueue(
        s,
        None,
        now,
        key=f"{key}:{to.id}",
        to=to.phone,
        name=to.name,
        language=to.language,
        channel="sms",
        purpose=purpose,
        priority=PRIORITY["notice"],
        body=body,
    )


def visit_by_sms(s: Session, *, number: str, body: str, sid: str, now: datetime) -> str | None:
    """The answer to a `走访` SMS, the visit recorded when it names one of the sender's residents;
    None when the body is no visit reply (the alert replies' grammar takes it then)."""
    reply = parse_visit(body)
    if reply is None:
        return None
    sender = s.scalars(select(Responder).where(Responder.phone == number, Responder.active.is_(True))).first()
    if sender is None:
        return texts.visit_unknown_sender()
    theirs = dict(
        s.execute(
            select(Resident.id, Resident.name)
            .join(BuildingPartyMember, BuildingPartyMember.building_id == Resident.building_id)
            .where(BuildingPartyMember.responder_id == sender.id, Resident.active.is_(True))
            .order_by(Resident.name)
        ).all()
    )
    which = match_resident(reply, theirs)
    if not isinstance(which, str):
        return texts.visit_which(names=sorted(theirs.values()), language=sender.language)
    return _recorded(s, which, reply, sender, sid, now)


def _recorded(s: Session, resident_id: str, reply: VisitReply, sender: Responder, sid: str, now: datetime) -> str:
    record_visit(
        s,
        resident_id=resident_id,
        now=now,
        by_name=sender.name,
        responder_id=sender.id,
        channel="sms",
        note=reply.note,
        need=reply.need,
        source_key=f"sms:{sid}",
    )
    (r,) = load_views(s, now, resident=resident_id)
    return texts.visit_recorded(
        resident=r.name, next_due=due(r.view, now).day, need=bool(reply.need), language=sender.language
    )


class VisitReminders:
    """The pass: reminders to party members, overdue visits to mediators (at most once a minute)."""

    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.sessions, self.now = sessions, now
        self._last: datetime | None = None

    def run(self) -> bool:
        """False: the pass has looked at everyone and never asks to run again at once."""
        now = self.now()
        if self._last is not None and now - self._last < RUN_EVERY:
            return False
        with transaction(self.sessions) as s:
            s.execute(update(Resident).where(Resident.visits_since.is_(None)).values(visits_since=now))
            for r in load_views(s, now):
                for notice in notices(r.view, now):
                    self._notify(s, r, notice.to, notice.key, now)
        self._last = now  # after the commit: a pass that failed runs again next round
        return False

    def _notify(self, s: Session, r: ResidentVisits, to: str, key: str, now: datetime) -> None:
        d = due(r.view, now)
        members = party_members(s, r.building_id)
        if to == "party_members":
            for m in members:
                body = texts.visit_due(
                    resident=r.name, address=r.address, overdue_days=d.overdue_days, language=m.language
                )
                send_sms(s, m, now, key=key, purpose="visit_due", body=body)
            return
        mediator = s.get(Responder, r.mediator_id) if r.mediator_id else None
        if mediator is None or not mediator.active:
            return
        body = texts.visit_overdue(
            resident=r.name,
            address=r.address,
            due=d.day,
            overdue_days=d.overdue_days,
            visitors="、".join(m.name for m in members),
            language=mediator.language,
        )
        send_sms(s, mediator, now, key=key, purpose="visit_overdue", body=body)
