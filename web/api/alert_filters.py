"""The history's filters beyond state, kind and text: a range of calendar days and the outcome.

A day is a calendar day where the alert happened: `since=2026-12-01` starts at 00:00 of 12-01 in the
time zone of the alert's own community (Beijing time for all of ours), and `until` is inclusive (up
to 00:00 of the next day there). So a call at 23:30 Beijing time on 12-01 (15:30 UTC) is on 12-01,
however the board's PC or the server's clock is set. With communities in several zones each alert is
judged in its own; filtering by one community is then that community's zone alone. `day_span` is the
pure part (with a table test); `narrowed` adds the filters to the history's query.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fastapi import HTTPException
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from core.schema import Alert, Building, Community
from dispatcher.alerts import OUTCOMES

_DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
DEFAULT_ZONE = "Asia/Shanghai"  # a community without a zone, as dispatcher/recipients.py reads it


def parse_day(name: str, text: str) -> date:
    """`since`/`until` as typed; 422 naming the parameter and the form it needs."""
    wanted = f"{name} must be a date written YYYY-MM-DD, like 2026-12-01"
    if not _DAY.match(text):
        raise HTTPException(422, f"{wanted}; {text[:20]!r} is not one")
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise HTTPException(422, f"{wanted}; {text!r} is no day of the calendar") from None
    if not 1970 <= day.year <= 9998:
        raise HTTPException(422, f"{name} {text} is out of range (years 1970 to 9998)")
    return day


def day_span(since: date | None, until: date | None, tz: ZoneInfo) -> tuple[datetime | None, datetime | None]:
    """The UTC instants [00:00 of `since`, 00:00 of the day after `until`) on the wall clock of `tz`.

    None for a side not given. A day whose midnight a DST jump skips starts at the first instant
    after it (zoneinfo's reading of the missing wall time). ValueError when since is after until.
    """
    if since is not None and until is not None and since > until:
        raise ValueError(f"since {since.isoformat()} is after until {until.isoformat()}")
    lo = _midnight(since, tz) if since is not None else None
    hi = _midnight(until + timedelta(days=1), tz) if until is not None else None
    return lo, hi


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def narrowed(s: Session, stmt: Select, *, since: str | None, until: str | None, outcome: str | None) -> Select:
    """The history's query (alerts joined to their buildings) with the day range and outcome added."""
    if outcome:
        if outcome not in OUTCOMES:
            raise HTTPException(422, f"outcome must be one of {', '.join(OUTCOMES)}; {outcome[:40]!r} is not")
        stmt = stmt.where(Alert.outcome == outcome)
    first = parse_day("since", since) if since else None
    last = parse_day("until", until) if until else None
    if first is None and last is None:
        return stmt
    if first is not None and last is not None and first > last:
        raise HTTPException(422, f"since {first.isoformat()} is after until {last.isoformat()}")
    zones: defaultdict[str, list[str]] = defaultdict(list)
    for community_id, zone in s.execute(select(Community.id, Community.timezone)):
        zones[zone or DEFAULT_ZONE].append(community_id)
    within = []
    for zone, ids in sorted(zones.items()):
        lo, hi = day_span(first, last, ZoneInfo(zone))
        bounds: list[ColumnElement[bool]] = [Building.community_id.in_(ids)]
        if lo is not None:
            bounds.append(Alert.opened_at >= lo)
        if hi is not None:
            bounds.append(Alert.opened_at < hi)
        within.append(and_(*bounds))
    return stmt.where(or_(*within) if within else false())


def count(s: Session, stmt: Select) -> int:
    """How many rows the query finds without its limit and offset (the history's "N found")."""
    return s.scalar(select(func.count()).select_from(stmt.with_only_columns(Alert.id).order_by(None).subquery())) or 0
