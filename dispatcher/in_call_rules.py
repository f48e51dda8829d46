"""What an operator may do during a call, pure: page the current tier again (再次通知), escalate now
(转下一级; the step itself is escalation.escalate_now), add a note. No database, no clock.

A repage is for a triggered alert only. Once someone has taken the call, paging the tier again would
ask people to go who were just told someone is going; an operator who wants the one who took it calls
them (their number is on the card). A second repage of the same step within REPAGE_GUARD_S is a double
click: nothing is sent twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from dispatcher.escalation import AlertState, State

REPAGE_GUARD_S = 30
NOTE_MAX = 2000

# why an operation is refused (the route answers 409 with the message)
NOT_TRIGGERED = "not_triggered"
NOBODY_PAGED = "nobody_paged"
REFUSALS = {
    NOT_TRIGGERED: "only a call nobody has taken yet can be paged again or escalated / 仅限尚未接警的呼叫",
    NOBODY_PAGED: "nobody has been paged yet for this call / 此呼叫尚未通知任何人",
}


@dataclass(frozen=True)
class LastRepage:
    """The newest repage of the alert, as its timeline says: when, and of which step."""

    at: datetime
    cycle: int
    step: int


@dataclass(frozen=True)
class Repage:
    """Page tier `tier_index` again (its round `tier_round`, the alert's step `step`); `n` numbers the
    repages of this step, so the new outbox rows get keys of their own and really go out."""

    tier_index: int
    tier_round: int
    step: int
    n: int


@dataclass(frozen=True)
class Refused:
    reason: str  # NOT_TRIGGERED | NOBODY_PAGED

    @property
    def message(self) -> str:
        return REFUSALS[self.reason]


@dataclass(frozen=True)
class Repeated:
    """The same repage again within the guard (a double click): nothing to do."""


def repage(
    alert: AlertState, step: int, last: LastRepage | None, repages_of_step: int, now: datetime
) -> Repage | Refused | Repeated:
    """Whether to page the alert's current tier again now.

    `step` is the alert's step counter (it keys the outbox), `last` its newest repage and
    `repages_of_step` how many repages the current step had already.
    """
    if alert.state != State.TRIGGERED:
        return Refused(NOT_TRIGGERED)
    if alert.tier_index < 0:
        return Refused(NOBODY_PAGED)
    same_step = last is not None and last.cycle == alert.cycle and last.step == step
    if same_step and last is not None and now - last.at < timedelta(seconds=REPAGE_GUARD_S):
        return Repeated()
    return Repage(alert.tier_index, alert.tier_round, step, repages_of_step + 1)


def may_escalate(alert: AlertState) -> Refused | None:
    """None: escalate (escalation.escalate_now takes the step); else why not."""
    if alert.state != State.TRIGGERED:
        return Refused(NOT_TRIGGERED)
    return None


def clean_note(text: str) -> str | None:
    """The note as stored (trimmed), or None when it is blank or longer than NOTE_MAX."""
    cleaned = (text or "").strip()
    if not cleaned or len(cleaned) > NOTE_MAX:
        return None
    return cleaned
