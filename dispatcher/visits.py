"""The monitoring net's visits, pure: what a `走访` SMS says, when a resident's next visit is due, and
who is told when it is missed. No database, no clock: the shell (dispatcher/visit_log.py) loads,
asks and writes.

A visit is due `every_days` local days after the last one. A resident never visited counts from the
day they were registered, as the record file is made on a home visit. On the morning of the day it falls due the resident's party members are
reminded; if the day passes without a visit the community's mediator is told the next morning, and
again each week it stays overdue. Every notice is keyed by resident, day and kind, so a pass that
runs twice, or on two dispatchers at once, sends each one once.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_EVERY_DAYS = 30  # civil affairs: every elder with special difficulties visited at least monthly
REMIND_AT = time(8, 0)  # local time: the party member is reminded that morning, before the day's round
QUIET_FROM = time(21, 0)  # and no visit notice goes out from 21:00 until REMIND_AT
OVERDUE_EVERY_DAYS = 7  # the mediator hears again each week a visit stays missed

VISIT_WORD = "走访"
NEED_WORD = re.compile(r"需要|需")  # a note that says what is needed is a need to follow up
_SEPARATORS = re.compile(r"[\s,，。、:：;；]+")


@dataclass(frozen=True)
class VisitReply:
    """`走访` [name] [note]: `name` None means the one resident the sender looks after."""

    name: str | None
    note: str
    need: str | None  # the note from `需要`/`需` on, when it names a need


def parse_visit(body: str) -> VisitReply | None:
    """The visit in an SMS body (`走访 张秀英 身体好，需要买药`), or None when it is no visit."""
    text = unicodedata.normalize("NFKC", body or "").strip()
    if not text.startswith(VISIT_WORD):
        return None
    rest = _SEPARATORS.sub(" ", text[len(VISIT_WORD) :]).strip()
    name, _, note = rest.partition(" ")
    if not name:
        return VisitReply(None, "", None)
    note = note.strip()
    if NEED_WORD.match(name):  # `走访 需要买药`: no name, only a need
        name, note = "", rest
    found = NEED_WORD.search(note)
    return VisitReply(name or None, note, note[found.start() :] if found else None)


@dataclass(frozen=True)
class VisitView:
    resident_id: str
    every_days: int | None  # None: DEFAULT_EVERY_DAYS
    last_visit: datetime | None  # UTC
    since: datetime  # UTC: when the resident was registered (counts as the visit that made the record)
    tz: str
    away: bool = False  # away from home now: nobody can visit


@dataclass(frozen=True)
class Due:
    resident_id: str
    day: date  # the local day the visit falls due
    overdue_days: int  # whole local days past it (0 on the day itself)


@dataclass(frozen=True)
class VisitNotice:
    resident_id: str
    to: str  # "party_members" | "mediator"
    due: date
    key: str  # the outbox key: one notice per resident, due day and step


def due(view: VisitView, now: datetime) -> Due:
    """When the resident's next visit falls due, in their community's days."""
    zone = ZoneInfo(view.tz)
    start = (view.last_visit or view.since).astimezone(zone).date()
    day = start + timedelta(days=view.every_days or DEFAULT_EVERY_DAYS)
    return Due(view.resident_id, day, max(0, (now.astimezone(zone).date() - day).days))


def notices(view: VisitView, now: datetime) -> list[VisitNotice]:
    """What the visit rules ask for now: the reminder from the morning of the due day (later that day
    or the next, if the pass was down), then the mediator from each overdue week's first morning."""
    local = now.astimezone(ZoneInfo(view.tz))
    if view.away or not (REMIND_AT <= local.time() < QUIET_FROM):
        return []  # nobody to visit; or night-time, when no reminder is worth waking anyone for
    d = due(view, now)
    if local.date() < d.day:
        return []
    found = [VisitNotice(view.resident_id, "party_members", d.day, f"visit-due:{view.resident_id}:{d.day}")]
    if d.overdue_days >= 1:
        week = (d.overdue_days - 1) // OVERDUE_EVERY_DAYS
        found.append(
            VisitNotice(view.resident_id, "mediator", d.day, f"visit-overdue:{view.resident_id}:{d.day}:{week}")
        )
    return found


def match_resident(reply: VisitReply, residents: dict[str, str]) -> str | None | list[str]:
    """Which of the sender's residents (id -> name) the visit is for: an id, None when no name fits,
    or the names to choose from when the reply gave none and the sender looks after several."""
    if reply.name is None:
        if len(residents) == 1:
            return next(iter(residents))
        return sorted(residents.values())
    exact = [rid for rid, name in residents.items() if name == reply.name]
    if len(exact) == 1:
        return exact[0]
    return None
