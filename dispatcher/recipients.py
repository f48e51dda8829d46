"""Who each tier reaches right now, and the escalation policy, read from the registry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.schema import (
    Building,
    BuildingPartyMember,
    Community,
    EscalationTier,
    PolicySetting,
    Resident,
    Responder,
    RosterShift,
)
from dispatcher.escalation import DEFAULT_POLICY, Policy, TierPolicy, policy_for_kind
from registry.calendar_days import StoredCalendar
from registry.roster import HolidayCalendar, Shift, on_duty


@dataclass(frozen=True)
class Person:
    responder_id: str
    name: str
    phone: str
    language: str
    channels: tuple[str, ...] | None = None  # their own list, used instead of the tier's

    def channels_in(self, tier: TierPolicy) -> tuple[str, ...]:
        return self.channels or tier.channels


@dataclass(frozen=True)
class Place:
    """Where an alert happens: what the recipients and the roster depend on."""

    resident: Resident
    building: Building
    community: Community

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.community.timezone or "Asia/Shanghai")


def load_policy(s: Session, kind: str = "emergency") -> Policy:
    rows = s.scalars(select(EscalationTier).order_by(EscalationTier.position)).all()
    expiry = s.get(PolicySetting, "ack_expiry_s")
    base = (
        Policy(
            tuple(TierPolicy(r.tier, tuple(r.channels), r.timeout_s) for r in rows),
            int(expiry.value) if expiry else DEFAULT_POLICY.ack_expiry_s,
        )
        if rows
        else DEFAULT_POLICY
    )
    return policy_for_kind(base, kind)


def load_place(s: Session, resident_id: str) -> Place:
    """One query for the three rows (on PostgreSQL every round trip counts when alarms come fast)."""
    row = s.execute(
        select(Resident, Building, Community)
        .join(Building, Building.id == Resident.building_id)
        .join(Community, Community.id == Building.community_id)
        .where(Resident.id == resident_id)
    ).first()
    if row is None:
        raise LookupError(f"resident {resident_id!r} has no building or community")
    return Place(*row)


class Recipients:
    """Resolves a tier to people. The calendar is shared so its missing-year warning is logged once.

    By default it is China's calendar with the stored calendar days as overrides, re-read at most
    once a minute (registry.calendar_days); a calendar passed in is used as it is.
    """

    def __init__(self, calendar: HolidayCalendar | None = None) -> None:
        self.calendar = calendar if calendar is not None else StoredCalendar()

    def tier(self, s: Session, tier: str, place: Place, now: datetime) -> list[Person]:
        if tier == "building":
            rows = (
                s.execute(
                    select(Responder)
                    .join(BuildingPartyMember, BuildingPartyMember.responder_id == Responder.id)
                    .where(BuildingPartyMember.building_id == place.building.id, Responder.active.is_(True))
                    .order_by(BuildingPartyMember.position)
                )
                .scalars()
                .all()
            )
        elif tier == "mediator":
            mediator = s.get(Responder, place.community.mediator_id) if place.community.mediator_id else None
            rows = [mediator] if mediator is not None and mediator.active else []
        elif tier == "hotline":
            shifts = [
                Shift(r.day_kind, r.start, r.end, r.responder_id)
                for r in s.scalars(select(RosterShift).order_by(RosterShift.position))
            ]
            if isinstance(self.calendar, StoredCalendar):
                self.calendar.refresh(s, now)
            ids = on_duty(shifts, self.calendar, place.tz, now)
            found = {
                r.id: r for r in s.scalars(select(Responder).where(Responder.id.in_(ids), Responder.active.is_(True)))
            }
            rows = [found[i] for i in ids if i in found]
        else:
            rows = []
        return [
            Person(r.id, r.name, r.phone, r.language or "zh-CN", tuple(r.channels) if r.channels else None)
            for r in rows
        ]
