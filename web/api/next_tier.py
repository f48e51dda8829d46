"""Who the next escalation step of a triggered alert will page, by name: the board's
"下一级：调解员 王芳 · 02:31". Nothing is decided here: it asks dispatcher.escalation.due_step what the
dispatcher will do when the alert's timer runs out (skipping a tier with nobody in it, the last tier
repeating), and dispatcher/recipients.py who that tier reaches at that instant (the hotline's people
on duty then, not now), just as dispatcher/steps.py does when the timer comes due.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import Row
from sqlalchemy.orm import Session

from core.schema import Alert, Building, Community, Resident
from dispatcher import escalation
from dispatcher.escalation import Notify, State
from dispatcher.recipients import Person, Place, Recipients
from dispatcher.steps import policy_of, state_of, tiers_of
from registry.calendar_days import StoredCalendar
from registry.china_calendar import ChinaCalendar


class TierPerson(BaseModel):
    name: str
    role: str  # the tier they are paged as: building | mediator | hotline


class BoardRecipients(Recipients):
    """Recipients for one look at the board: a tier's people read once per building (volunteers),
    community (mediator) or minute (the hotline; on_duty reads the wall clock to the minute), not
    once per alert: a flood of open alerts must not cost the board a query per alert and tier."""

    def __init__(self) -> None:
        super().__init__(StoredCalendar(ChinaCalendar(quiet=True)))  # one per look: no log line each time
        self._seen: dict[tuple, list[Person]] = {}

    def tier(self, s: Session, tier: str, place: Place, now: datetime) -> list[Person]:
        where = place.building.id if tier == "building" else place.community.id
        minute = now.replace(second=0, microsecond=0) if tier == "hotline" else None
        key = (tier, where, minute, place.community.timezone)
        if key not in self._seen:
            self._seen[key] = super().tier(s, tier, place, now)
        return self._seen[key]


def next_tier_people(s: Session, recipients: Recipients, alert: Alert, place: Place, now: datetime) -> list[dict]:
    """The people the alert's next step pages, in paging order; [] unless it is triggered with a timer."""
    if alert.state != State.TRIGGERED or alert.next_action_at is None:
        return []
    at = max(alert.next_action_at, now)  # an overdue timer is taken at the dispatcher's next tick
    policy = policy_of(s, alert.kind)
    tiers = tiers_of(s, recipients, policy, place, at)
    decision = escalation.due_step(state_of(alert), policy, tiers, at)
    if not isinstance(decision, Notify):
        return []
    role = policy.tiers[decision.tier_index].tier
    return [{"name": p.name, "role": role} for p in tiers.people(decision.tier_index)]


def people_by_alert(s: Session, rows: Iterable[Row[Alert, Resident, Building]], now: datetime) -> dict[int, list[dict]]:
    """next_tier_people for each of the board's triggered alerts, from the rows its query loaded
    (the place of each without a query of its own, as dispatcher.steps.place_of would read it)."""
    recipients = BoardRecipients()  # one calendar read, and each tier's people once, for the whole board
    communities: dict[str, Community | None] = {}
    found = {}
    for alert, resident, building in rows:
        if alert.state != State.TRIGGERED:
            continue
        if building.community_id not in communities:
            communities[building.community_id] = s.get(Community, building.community_id)
        community = communities[building.community_id]
        if community is not None:
            found[alert.id] = next_tier_people(s, recipients, alert, Place(resident, building, community), now)
    return found
