"""The facts of a calls report, read from the database: the alerts opened in a date range (local
days of the community, or of China when the report covers every community), with the first page,
the furthest tier paged, and the missed check-ins, visits and device outages of the same days."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.schema import Alert, Building, CheckinMiss, Community, Device, Notification, Resident, Visit
from dispatcher.recipients import load_policy
from web.reports.figures import CallFacts, DeviceAvailability, Report, VisitCoverage, availability, coverage, report

HOME_ZONE = "Asia/Shanghai"  # the days of a report over every community


class NoSuchCommunity(LookupError):
    pass


def zone_of(s: Session, community_id: str | None) -> ZoneInfo:
    if community_id is None:
        return ZoneInfo(HOME_ZONE)
    community = s.get(Community, community_id)
    if community is None:
        raise NoSuchCommunity(f"no community '{community_id}'")
    return ZoneInfo(community.timezone)


def day_bounds(since: date, until: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[since 00:00, the day after until 00:00) in `tz`, as instants."""
    return (
        datetime.combine(since, time(0), tz),
        datetime.combine(until + timedelta(days=1), time(0), tz),
    )


def call_facts(s: Session, since: date, until: date, community_id: str | None) -> tuple[list[CallFacts], ZoneInfo]:
    tz = zone_of(s, community_id)
    start, end = day_bounds(since, until, tz)
    stmt = (
        select(Alert, Building.community_id)
        .join(Resident, Resident.id == Alert.resident_id)
        .join(Building, Building.id == Resident.building_id)
        .where(Alert.opened_at >= start, Alert.opened_at < end)
        .order_by(Alert.id)
    )
    if community_id is not None:
        stmt = stmt.where(Building.community_id == community_id)
    rows = s.execute(stmt).all()
    ids = [a.id for a, _ in rows]
    first_page: dict[int, datetime] = {}
    furthest: dict[int, int] = {}
    if ids:
        for alert_id, sent, tier in s.execute(
            select(Notification.alert_id, func.min(Notification.sent_at), func.max(Notification.tier_index))
            .where(Notification.alert_id.in_(ids), Notification.purpose == "page")
            .group_by(Notification.alert_id)
        ):
            if alert_id is None:  # the query asked for these alerts only; the column is nullable
                continue
            if sent is not None:
                first_page[alert_id] = sent
            if tier is not None:
                furthest[alert_id] = tier
    tiers = {kind: [t.tier for t in load_policy(s, kind).tiers] for kind in {a.kind for a, _ in rows}}
    facts = []
    for alert, community in rows:
        index = furthest.get(alert.id)
        names = tiers[alert.kind]
        facts.append(
            CallFacts(
                id=alert.id,
                community_id=community,
                kind=alert.kind,
                reason=alert.reason,
                state=alert.state,
                outcome=alert.outcome,
                opened_at=alert.opened_at,
                first_page_at=first_page.get(alert.id),
                acknowledged_at=alert.acknowledged_at,
                resolved_at=alert.resolved_at,
                tier_reached=names[index] if index is not None and 0 <= index < len(names) else None,
            )
        )
    return facts, tz


def checkins_missed(s: Session, since: date, until: date, community_id: str | None) -> int:
    stmt = (
        select(func.count())
        .select_from(CheckinMiss)
        .where(CheckinMiss.day >= since.isoformat(), CheckinMiss.day <= until.isoformat())
    )
    if community_id is not None:
        stmt = (
            stmt.join(Resident, Resident.id == CheckinMiss.resident_id)
            .join(Building, Building.id == Resident.building_id)
            .where(Building.community_id == community_id)
        )
    return s.scalar(stmt) or 0


def visit_coverage(s: Session, since: date, until: date, tz: ZoneInfo, community_id: str | None) -> VisitCoverage:
    """Visits from `since` to `until` (local days in `tz`) to the residents active now."""
    residents = select(Resident.id).where(Resident.active.is_(True))
    if community_id is not None:
        residents = residents.join(Building, Building.id == Resident.building_id).where(
            Building.community_id == community_id
        )
    start = datetime.combine(since, time(0), tz)
    end = datetime.combine(until + timedelta(days=1), time(0), tz)
    made = s.execute(
        select(func.count(), func.count(func.distinct(Visit.resident_id))).where(
            Visit.resident_id.in_(residents), Visit.at >= start, Visit.at < end
        )
    ).one()
    total = s.scalar(select(func.count()).select_from(residents.subquery())) or 0
    return coverage(made[0], total, made[1])


DOWN_REASONS = ("offline", "heartbeat_missed")  # a low battery is maintenance: the device still works


def device_availability(
    s: Session, since: date, until: date, tz: ZoneInfo, community_id: str | None, now: datetime
) -> DeviceAvailability:
    """The active, installed devices of the residents (of the community), over the period up to `now`."""
    start, end = day_bounds(since, until, tz)
    end = max(start, min(end, now))
    devices = (
        select(Device.id)
        .join(Resident, Resident.id == Device.resident_id)
        .where(Device.active.is_(True), Device.last_seen_at.is_not(None))
    )
    if community_id is not None:
        devices = devices.join(Building, Building.id == Resident.building_id).where(
            Building.community_id == community_id
        )
    count = s.scalar(select(func.count()).select_from(devices.subquery())) or 0
    outages = s.execute(
        select(Alert.device_id, Alert.opened_at, Alert.resolved_at).where(
            Alert.kind == "device",
            Alert.reason.in_(DOWN_REASONS),
            Alert.device_id.in_(devices),
            Alert.opened_at < end,
        )
    ).all()
    return availability(count, [(d, opened, closed) for d, opened, closed in outages if d], start, end)


def calls_report(
    s: Session, since: date, until: date, community_id: str | None = None, now: datetime | None = None
) -> Report:
    """The report of the period; `now` (default: the period's end) cuts off what has not happened yet."""
    facts, tz = call_facts(s, since, until, community_id)
    if now is None:
        now = day_bounds(since, until, tz)[1]
    return report(
        facts,
        since,
        until,
        tz,
        checkins_missed(s, since, until, community_id),
        visit_coverage(s, since, until, tz, community_id),
        device_availability(s, since, until, tz, community_id, now),
    )
