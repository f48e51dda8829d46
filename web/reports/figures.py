"""The figures of a calls report, from the facts of each call (pure: no database, no clock).

What a street office hands in each month, and what telecare centres are judged on: calls by kind,
outcome and hour of day; how long from the press to the first page, to the acknowledgement and to
the resolution (median, 90th percentile, longest); the share acknowledged within 60 s and 180 s,
beside the TEC Quality figures (97.5 % within 60 s, 99 % within 180 s); how far calls escalated;
false alarms; missed check-ins; visit coverage; device availability.

Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at rank
ceil(p/100 * n), so every figure is a time some call really took and a hand count checks it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

TEC_TARGETS = ((60, 0.975), (180, 0.99))  # (seconds, share of calls to be acknowledged within)


@dataclass(frozen=True)
class CallFacts:
    """One alert, as the report needs it. Times are aware UTC; None: it never happened."""

    id: int
    community_id: str
    kind: str  # emergency | wellness | device
    reason: str
    state: str
    outcome: str | None
    opened_at: datetime
    first_page_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    tier_reached: str | None  # the furthest tier paged: building | mediator | hotline


@dataclass(frozen=True)
class Durations:
    """Seconds from the press, over the calls that got that far."""

    count: int
    p50: float | None
    p90: float | None
    max: float | None


@dataclass(frozen=True)
class Within:
    seconds: int
    share: float | None  # of acknowledged-or-not emergency calls; None when there were none
    target: float
    met: bool | None


@dataclass(frozen=True)
class VisitCoverage:
    """The monitoring net over the period: visits made, and the share of residents visited at all."""

    visits: int = 0
    residents: int = 0  # active residents (of the community)
    visited: int = 0  # of them, visited at least once in the period
    share: float | None = None  # visited / residents; None with no residents


def coverage(visits: int, residents: int, visited: int) -> VisitCoverage:
    return VisitCoverage(visits, residents, visited, visited / residents if residents else None)


@dataclass(frozen=True)
class DeviceAvailability:
    """How much of the period the residents' devices could carry a call.

    A device counts as down while a `device` alert about it (offline, heartbeat missed) is open:
    from the alert's opening to its resolution, clipped to the period and to now. The minutes of
    the grace period before the alert are not counted: availability is what the centre knew."""

    devices: int = 0  # installed devices (heard from at least once) of the community's residents
    outages: int = 0  # device alerts that overlap the period
    down_seconds: float = 0.0  # their union per device, within the period
    share: float | None = None  # 1 - down / (devices x the period so far); None with no devices or time


Outage = tuple[str, datetime, datetime | None]  # (device id, opened, resolved or still open)


def availability(devices: int, outages: Sequence[Outage], start: datetime, end: datetime) -> DeviceAvailability:
    """Availability of `devices` over [start, end) given their outages (overlaps of one device merged)."""
    span = (end - start).total_seconds()
    by_device: dict[str, list[tuple[datetime, datetime]]] = {}
    for device, opened, closed in outages:
        lo, hi = max(opened, start), min(closed or end, end)
        if lo < hi:
            by_device.setdefault(device, []).append((lo, hi))
    down = 0.0
    for spans in by_device.values():
        reach: datetime | None = None
        for lo, hi in sorted(spans):
            if reach is not None and lo < reach:
                lo = reach
            if lo < hi:
                down += (hi - lo).total_seconds()
            reach = hi if reach is None else max(reach, hi)
    counted = sum(len(v) for v in by_device.values())
    share = 1 - down / (devices * span) if devices and span > 0 else None
    return DeviceAvailability(devices, counted, down, share)


@dataclass(frozen=True)
class Report:
    since: date
    until: date  # inclusive
    calls: int
    by_kind: dict[str, int]
    by_outcome: dict[str, int]
    by_hour: list[int]  # 24 counts, by the hour of day the call opened, local time
    by_tier: dict[str, int]
    false_alarms: int
    cancelled: int
    to_first_page: Durations
    to_acknowledge: Durations
    to_resolve: Durations
    acknowledged_within: list[Within]
    checkins_missed: int
    still_open: int
    communities: list[str] = field(default_factory=list)
    visits: VisitCoverage = field(default_factory=VisitCoverage)
    devices: DeviceAvailability = field(default_factory=DeviceAvailability)


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100] of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def durations(values: Sequence[float]) -> Durations:
    return Durations(len(values), percentile(values, 50), percentile(values, 90), max(values) if values else None)


def _since(calls: Sequence[CallFacts], at: str) -> list[float]:
    out = []
    for c in calls:
        when = getattr(c, at)
        if when is not None:
            out.append((when - c.opened_at).total_seconds())
    return out


def report(
    calls: Sequence[CallFacts],
    since: date,
    until: date,
    tz: ZoneInfo,
    checkins_missed: int = 0,
    visits: VisitCoverage | None = None,
    devices: DeviceAvailability | None = None,
) -> Report:
    """The figures of `calls` (those opened from `since` to `until` inclusive, in `tz`)."""
    emergencies = [c for c in calls if c.kind == "emergency"]
    # the answer-time share is over emergencies a person should have answered: a call the resident
    # cancelled before anyone could is not counted against the centre
    answerable = [c for c in emergencies if not (c.state == "cancelled" and c.acknowledged_at is None)]
    ack_seconds = _since(answerable, "acknowledged_at")
    within = []
    for seconds, target in TEC_TARGETS:
        share = sum(1 for s in ack_seconds if s <= seconds) / len(answerable) if answerable else None
        within.append(Within(seconds, share, target, None if share is None else share >= target))
    hours = [0] * 24
    for c in calls:
        hours[c.opened_at.astimezone(tz).hour] += 1
    return Report(
        since=since,
        until=until,
        calls=len(calls),
        by_kind=dict(Counter(c.kind for c in calls)),
        by_outcome=dict(Counter(c.outcome for c in calls if c.outcome)),
        by_hour=hours,
        by_tier=dict(Counter(c.tier_reached for c in calls if c.tier_reached)),
        false_alarms=sum(1 for c in calls if c.outcome == "false_alarm"),
        cancelled=sum(1 for c in calls if c.state == "cancelled"),
        to_first_page=durations(_since(emergencies, "first_page_at")),
        to_acknowledge=durations(ack_seconds),
        to_resolve=durations(_since(emergencies, "resolved_at")),
        acknowledged_within=within,
        checkins_missed=checkins_missed,
        still_open=sum(1 for c in calls if c.state in ("triggered", "acknowledged")),
        communities=sorted({c.community_id for c in calls}),
        visits=visits or VisitCoverage(),
        devices=devices or DeviceAvailability(),
    )
