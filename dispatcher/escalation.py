"""Every escalation rule, pure: an alert's state, the policy, who is reachable, and now in; a decision out.

No database, no clock, no network. Read top to bottom:
- the states (State) and the policy (Policy, DEFAULT_POLICY, TIERS_BY_KIND, REPEAT_BY_KIND);
- the values the shell passes in (AlertState, StepRef) and the step decisions (Notify, NobodyReachable);
- the transitions: a press opens or joins (on_press), a cancel cancels, is only noted or is refused
  (on_cancel), acknowledge (with its expiry), resolve (takes the call), a failed step (tier_failed);
- the steps: first_step (open), due_step (a timer, or an expired ack), escalate_now (a pass),
  after_failed_step (every page of a step failed), and _advance, which they share.
The shell (dispatcher/alerts.py, dispatcher/passes/, dispatcher/steps.py) loads an alert, asks, and
writes the answer in the same transaction. Tiers are indexed in policy order; `round` counts how
often the last tier has been repeated.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class State(StrEnum):
    """An alert's state, as stored in alerts.state (a StrEnum: it compares equal to the stored text).

    triggered -> acknowledged -> resolved; triggered -> resolved (resolving takes the call);
    triggered -> cancelled (the resident's cancel); acknowledged -> triggered (the ack expired).
    """

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    CANCELLED = "cancelled"


OPEN_STATES = (State.TRIGGERED, State.ACKNOWLEDGED)
CLOSED_STATES = (State.RESOLVED, State.CANCELLED)


@dataclass(frozen=True)
class TierPolicy:
    tier: str  # building | mediator | hotline
    channels: tuple[str, ...]
    timeout_s: int


@dataclass(frozen=True)
class Policy:
    tiers: tuple[TierPolicy, ...]
    ack_expiry_s: int = 24 * 3600
    # How often the last tier is called again; None: at its timeout. A dead pager must not wake the
    # mediator every two minutes all night, an emergency must.
    repeat_s: int | None = None

    @property
    def last(self) -> int:
        return len(self.tiers) - 1


# --- the policy tables ------------------------------------------------------------------------

# The escalation the registry's `escalation` section defaults to: building, mediator, hotline.
DEFAULT_POLICY = Policy(
    tiers=(
        TierPolicy("building", ("sms", "voice"), 120),
        TierPolicy("mediator", ("sms", "voice"), 120),
        TierPolicy("hotline", ("sms", "voice"), 120),
    ),
    ack_expiry_s=24 * 3600,
)

# Which tiers each kind of alert climbs: a dead battery must not wake the hotline at night.
TIERS_BY_KIND = {
    "emergency": ("building", "mediator", "hotline"),
    "wellness": ("building", "mediator"),
    "device": ("mediator",),
}

# How often the last tier hears of it again while nobody acknowledges (None: at the tier's timeout).
REPEAT_BY_KIND = {"device": 30 * 60}


def policy_for_kind(base: Policy, kind: str) -> Policy:
    """The stored policy narrowed to the tiers a kind of alert climbs, with that kind's repeat."""
    wanted = TIERS_BY_KIND.get(kind, TIERS_BY_KIND["emergency"])
    return Policy(tuple(t for t in base.tiers if t.tier in wanted), base.ack_expiry_s, REPEAT_BY_KIND.get(kind))


@dataclass(frozen=True)
class AlertState:
    state: State
    tier_index: int  # -1: nobody notified yet in this cycle
    tier_round: int
    next_action_at: datetime | None
    ack_expires_at: datetime | None = None
    cycle: int = 0  # how often the alert was reopened (an expired acknowledgement starts a new cycle)


@dataclass(frozen=True)
class StepRef:
    """One step of an escalation: the pages of tier `tier_index`, its `tier_round`-th time, in `cycle`."""

    cycle: int
    tier_index: int
    tier_round: int


@dataclass(frozen=True)
class Notify:
    """Notify tier `tier_index` (its `round`-th time) now; the next step is due at `next_action_at`."""

    tier_index: int
    round: int
    next_action_at: datetime
    skipped: tuple[int, ...] = ()  # tiers passed over because nobody could be reached
    reopen: bool = False  # an expired acknowledgement: back to triggered, a new cycle from the top


@dataclass(frozen=True)
class NobodyReachable:
    """No tier has anybody to reach. Try again after `retry_at`; the shell raises the alarm in logs."""

    retry_at: datetime


Decision = Notify | NobodyReachable


# --- what the resident's button does -------------------------------------------------------------

# Which kind of alert a press opens; other events (checkin, heartbeat, battery_low) open none here.
KIND_OF_EVENT = {"alarm": "emergency", "fall": "emergency"}


@dataclass(frozen=True)
class Open:
    """No open alert of this kind for the resident: open one (then first_step)."""


@dataclass(frozen=True)
class Join:
    """The resident pressed again while their alert is open: count the press, open nothing new."""

    repeat_presses: int


def on_press(open_alert_presses: int | None) -> Open | Join:
    """A press, given the repeat count of the resident's open alert of that kind (None: none open)."""
    if open_alert_presses is None:
        return Open()
    return Join(open_alert_presses + 1)


NO_OPEN_EMERGENCY = "no_open_alert"  # a device's cancel found no call of the resident's to take back


@dataclass(frozen=True)
class Cancel:
    """The resident takes back their call before anyone took it: close it, tell the device `cancelled`."""


@dataclass(frozen=True)
class NoteCancel:
    """Someone is on their way: the cancel is only noted, the helper still goes, and the device is told
    its press is still acknowledged."""


@dataclass(frozen=True)
class RejectCancel:
    """Nothing of the resident's is open to take back; the device is told why."""

    reason: str = NO_OPEN_EMERGENCY


def on_cancel(emergency: State | None) -> Cancel | NoteCancel | RejectCancel:
    """A resident's cancel, given the state of their newest open emergency (None: none open).

    Only an emergency is theirs to cancel from the button: a wellness or device alert is not.
    """
    if emergency is None or emergency not in OPEN_STATES:
        return RejectCancel()
    if emergency == State.ACKNOWLEDGED:
        return NoteCancel()
    return Cancel()


# --- what responders and operators do ------------------------------------------------------------


@dataclass(frozen=True)
class Acknowledge:
    """Take the call: no more pages; the only timer left is the expiry, when it reopens if not resolved."""

    expires_at: datetime


def acknowledge(alert: AlertState, policy: Policy, now: datetime) -> Acknowledge | None:
    """None: already taken, or closed (the caller reports who has it)."""
    if alert.state != State.TRIGGERED:
        return None
    return Acknowledge(now + timedelta(seconds=policy.ack_expiry_s))


@dataclass(frozen=True)
class Resolve:
    """Close the call. `takes_the_call`: nobody had acknowledged it, so the resolver is recorded as
    having taken it too (the board and the notices name who handled it)."""

    takes_the_call: bool


def resolve(alert: AlertState) -> Resolve | None:
    """None: already resolved or cancelled; a repeat changes nothing."""
    if alert.state not in OPEN_STATES:
        return None
    return Resolve(takes_the_call=alert.state == State.TRIGGERED)


def tier_failed(
    alert: AlertState, failed: StepRef, pages_failed: Sequence[bool], reported: Collection[StepRef]
) -> bool:
    """A page of step `failed` failed for good: is that the news that the whole step failed?

    True only when the step is the alert's current one, the alert is still triggered, every page of
    the step has failed for good (`pages_failed`, one per page), and the step's failure was not
    reported before (`reported`: the other failures of the step arrive too). The shell then records
    `tier_failed` and asks after_failed_step.
    """
    if alert.state != State.TRIGGERED or failed != StepRef(alert.cycle, alert.tier_index, alert.tier_round):
        return False
    return all(pages_failed) and failed not in reported


def first_step(policy: Policy, reachable: Sequence[int], now: datetime) -> Decision:
    """What to do when an alert opens: the first tier with anybody in it."""
    return _advance(policy, reachable, now, tier_index=-1, tier_round=0)


def due_step(alert: AlertState, policy: Policy, reachable: Sequence[int], now: datetime) -> Decision | None:
    """What to do when the alert's timer may have come due; None when nothing is due."""
    if alert.state == State.TRIGGERED:
        if alert.next_action_at is None or alert.next_action_at > now:
            return None
        return _advance(policy, reachable, now, alert.tier_index, alert.tier_round)
    if alert.state == State.ACKNOWLEDGED and alert.ack_expires_at is not None and alert.ack_expires_at <= now:
        step = _advance(policy, reachable, now, tier_index=-1, tier_round=0)
        return (
            Notify(step.tier_index, step.round, step.next_action_at, step.skipped, reopen=True)
            if isinstance(step, Notify)
            else step
        )
    return None


def escalate_now(
    alert: AlertState,
    policy: Policy,
    reachable: Sequence[int],
    now: datetime,
    from_tier: int | None = None,
    from_round: int | None = None,
) -> Decision | None:
    """A responder passed, or every delivery of a tier failed: the next tier at once.

    `from_tier`/`from_round` name the step the trigger belongs to; a trigger about an older step
    (the alert has moved on since) changes nothing, so a late failure report never skips a tier.
    """
    if alert.state != State.TRIGGERED:
        return None
    if from_tier is not None and from_tier != alert.tier_index:
        return None
    if from_round is not None and from_round != alert.tier_round:
        return None
    return _advance(policy, reachable, now, alert.tier_index, alert.tier_round)


def after_failed_step(
    alert: AlertState, policy: Policy, reachable: Sequence[int], now: datetime, from_tier: int, from_round: int
) -> Decision | None:
    """Every delivery of a step failed: the next tier at once, as escalate_now does, except after
    the last tier. There nobody comes next, and paging the same failing numbers again at once would
    loop as fast as the provider answers; the last tier's own repeat timer (already set) calls it
    again, and the operators see `tier_failed` on the board.
    """
    if from_tier == policy.last and alert.tier_index == policy.last:
        return None
    return escalate_now(alert, policy, reachable, now, from_tier=from_tier, from_round=from_round)


def _advance(policy: Policy, reachable: Sequence[int], now: datetime, tier_index: int, tier_round: int) -> Decision:
    """The step after (tier_index, tier_round), skipping tiers with nobody in them.

    After the last tier comes the last tier again (round + 1). If the last tier is empty, the
    escalation wraps to the first tier that has someone: calling anybody beats calling nobody.
    """
    if not policy.tiers:
        return NobodyReachable(now + timedelta(minutes=1))
    skipped: list[int] = []
    if tier_index < policy.last:
        for candidate in range(tier_index + 1, len(policy.tiers)):
            if reachable[candidate] > 0:
                # keep the round: after a wrap, (tier, round) must not repeat an earlier step
                return _notify(policy, candidate, tier_round, now, skipped)
            skipped.append(candidate)
    if reachable[policy.last] > 0:
        next_round = tier_round + 1 if tier_index == policy.last else 0
        return _notify(policy, policy.last, next_round, now, [s for s in skipped if s != policy.last])
    for candidate in range(len(policy.tiers)):
        if reachable[candidate] > 0:
            return _notify(policy, candidate, tier_round + 1, now, skipped)
    return NobodyReachable(now + timedelta(seconds=policy.tiers[policy.last].timeout_s))


def _notify(policy: Policy, tier_index: int, round_: int, now: datetime, skipped: list[int]) -> Notify:
    wait = policy.tiers[tier_index].timeout_s
    if tier_index == policy.last and policy.repeat_s is not None:
        wait = policy.repeat_s  # nobody after this tier: the wait is until it is called again
    timeout = timedelta(seconds=wait)
    return Notify(tier_index, round_, now + timeout, tuple(skipped))
