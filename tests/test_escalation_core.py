"""The pure escalation decision (dispatcher/escalation.py), table by table, with literal instants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dispatcher.escalation import (
    DEFAULT_POLICY,
    Acknowledge,
    AlertState,
    Cancel,
    Join,
    NobodyReachable,
    NoteCancel,
    Notify,
    Open,
    Policy,
    RejectCancel,
    Resolve,
    State,
    StepRef,
    TierPolicy,
    acknowledge,
    after_failed_step,
    due_step,
    escalate_now,
    first_step,
    on_cancel,
    on_press,
    policy_for_kind,
    resolve,
    tier_failed,
)

# The `escalation` section of registry.example.yaml: building, mediator, hotline, 2 minutes each.
EXAMPLE = Policy(
    tiers=(
        TierPolicy("building", ("sms", "voice"), 120),
        TierPolicy("mediator", ("sms", "voice"), 120),
        TierPolicy("hotline", ("sms", "voice"), 120),
    ),
    ack_expiry_s=24 * 3600,
)
# Distinct timeouts, so a test can tell which tier's timeout set the next step.
DISTINCT = Policy(
    tiers=(
        TierPolicy("building", ("sms",), 60),
        TierPolicy("mediator", ("sms",), 180),
        TierPolicy("hotline", ("sms",), 300),
    ),
)

T0 = datetime(2026, 11, 22, 3, 0, tzinfo=timezone.utc)  # 11:00 in Shanghai
T1 = datetime(2026, 11, 22, 3, 2, tzinfo=timezone.utc)  # T0 + 2 min: the first timeout
T2 = datetime(2026, 11, 22, 3, 4, tzinfo=timezone.utc)
EVERYONE = (2, 1, 1)  # two party members, the mediator, the person on hotline duty
NOBODY = (0, 0, 0)


def triggered(tier_index: int, tier_round: int = 0, next_action_at: datetime | None = T1) -> AlertState:
    return AlertState(State.TRIGGERED, tier_index, tier_round, next_action_at)


def acknowledged(expires_at: datetime | None) -> AlertState:
    return AlertState(State.ACKNOWLEDGED, 1, 0, None, ack_expires_at=expires_at)


def test_an_alert_opens_at_the_building_tier():
    assert first_step(EXAMPLE, EVERYONE, T0) == Notify(0, 0, T1)


@pytest.mark.parametrize(
    ("reachable", "expected"),
    [
        pytest.param((0, 1, 1), Notify(1, 0, T1, skipped=(0,)), id="no party member: mediator at once"),
        pytest.param((0, 0, 1), Notify(2, 0, T1, skipped=(0, 1)), id="only the hotline"),
        pytest.param((1, 0, 0), Notify(0, 0, T1), id="only the building"),
        pytest.param(NOBODY, NobodyReachable(T1), id="nobody: retry after the last tier's timeout"),
    ],
)
def test_first_step_skips_empty_tiers(reachable, expected):
    assert first_step(EXAMPLE, reachable, T0) == expected


@pytest.mark.parametrize(
    ("alert", "reachable", "now", "expected"),
    [
        # not due yet
        pytest.param(
            triggered(0),
            EVERYONE,
            datetime(2026, 11, 22, 3, 1, 59, tzinfo=timezone.utc),
            None,
            id="a second before the timeout: nothing",
        ),
        pytest.param(triggered(0, next_action_at=None), EVERYONE, T2, None, id="no timer: nothing"),
        # one tier after the other
        pytest.param(triggered(0), EVERYONE, T1, Notify(1, 0, T2), id="building timed out: mediator"),
        pytest.param(triggered(1), EVERYONE, T1, Notify(2, 0, T2), id="mediator timed out: hotline round 0"),
        pytest.param(triggered(2, 0), EVERYONE, T1, Notify(2, 1, T2), id="hotline repeats: round 1"),
        pytest.param(triggered(2, 1), EVERYONE, T1, Notify(2, 2, T2), id="hotline repeats: round 2"),
        pytest.param(triggered(2, 7), EVERYONE, T1, Notify(2, 8, T2), id="hotline repeats: round 8"),
        pytest.param(
            triggered(0),
            EVERYONE,
            datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc),
            Notify(1, 0, datetime(2026, 11, 22, 9, 2, tzinfo=timezone.utc)),
            id="long overdue (after a restart): one step, timed from now",
        ),
        pytest.param(triggered(-1), EVERYONE, T1, Notify(0, 0, T2), id="nobody reached before: first tier"),
        # empty tiers
        pytest.param(triggered(0), (2, 0, 1), T1, Notify(2, 0, T2, skipped=(1,)), id="empty mediator skipped"),
        pytest.param(triggered(-1), (0, 1, 1), T1, Notify(1, 0, T2, skipped=(0,)), id="empty building skipped"),
        pytest.param(triggered(1), NOBODY, T1, NobodyReachable(T2), id="everybody gone: retry"),
        pytest.param(triggered(-1), NOBODY, T1, NobodyReachable(T2), id="still nobody: retry again"),
        # the last tier is empty: wrap to the first tier with someone, a higher round
        pytest.param(
            triggered(1), (1, 1, 0), T1, Notify(0, 1, T2, skipped=(2,)), id="no hotline duty: wrap to building"
        ),
        pytest.param(
            triggered(0), (1, 0, 0), T1, Notify(0, 1, T2, skipped=(1, 2)), id="only the building: again, round 1"
        ),
        pytest.param(triggered(0, 1), (1, 0, 0), T1, Notify(0, 2, T2, skipped=(1, 2)), id="only the building: round 2"),
        pytest.param(triggered(2, 3), (0, 1, 0), T1, Notify(1, 4, T2), id="hotline emptied: mediator, higher round"),
        # acknowledged
        pytest.param(acknowledged(T2), EVERYONE, T1, None, id="acknowledged, not expired: nothing"),
        pytest.param(
            AlertState(State.ACKNOWLEDGED, 1, 0, T0, ack_expires_at=T2),
            EVERYONE,
            T1,
            None,
            id="acknowledged with a stale timer: nothing",
        ),
        pytest.param(acknowledged(None), EVERYONE, T2, None, id="acknowledged, no expiry: nothing"),
        pytest.param(
            acknowledged(T1),
            EVERYONE,
            T1,
            Notify(0, 0, T2, reopen=True),
            id="acknowledgement expired: reopen from the first tier",
        ),
        pytest.param(
            acknowledged(T0),
            (0, 1, 1),
            T1,
            Notify(1, 0, T2, skipped=(0,), reopen=True),
            id="expired, no party member: reopen at the mediator",
        ),
        pytest.param(acknowledged(T0), NOBODY, T1, NobodyReachable(T2), id="expired, nobody: retry"),
        # closed alerts never escalate, whatever their timers say
        pytest.param(AlertState(State.RESOLVED, 2, 3, T0, ack_expires_at=T0), EVERYONE, T2, None, id="resolved"),
        pytest.param(AlertState(State.CANCELLED, 0, 0, T0), EVERYONE, T2, None, id="cancelled"),
    ],
)
def test_due_step(alert, reachable, now, expected):
    assert due_step(alert, EXAMPLE, reachable, now) == expected


@pytest.mark.parametrize(
    ("alert", "reachable", "from_step", "expected"),
    [
        pytest.param(
            triggered(0),
            EVERYONE,
            (0, 0),
            Notify(1, 0, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="building passes: mediator now, before the timeout",
        ),
        pytest.param(
            triggered(1),
            EVERYONE,
            (1, 0),
            Notify(2, 0, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="mediator's deliveries all failed: hotline now",
        ),
        pytest.param(
            triggered(2, 4),
            EVERYONE,
            (2, 4),
            Notify(2, 5, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="hotline passes: hotline again, next round",
        ),
        pytest.param(
            triggered(0),
            (1, 0, 1),
            (None, None),
            Notify(2, 0, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc), skipped=(1,)),
            id="no step named: from the current step",
        ),
        pytest.param(triggered(1), EVERYONE, (0, 0), None, id="late failure of the building: no tier skipped"),
        pytest.param(triggered(2, 2), EVERYONE, (2, 1), None, id="late failure of an older hotline round"),
        pytest.param(
            triggered(0),
            NOBODY,
            (0, 0),
            NobodyReachable(datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="nobody left to pass to",
        ),
        pytest.param(acknowledged(T2), EVERYONE, (1, 0), None, id="already acknowledged"),
        pytest.param(acknowledged(T0), EVERYONE, (1, 0), None, id="acknowledged, expired: due_step's job"),
        pytest.param(AlertState(State.RESOLVED, 1, 0, None), EVERYONE, (1, 0), None, id="resolved"),
        pytest.param(AlertState(State.CANCELLED, 0, 0, T1), EVERYONE, (0, 0), None, id="cancelled"),
    ],
)
def test_escalate_now(alert, reachable, from_step, expected):
    now = datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc)
    from_tier, from_round = from_step
    assert escalate_now(alert, EXAMPLE, reachable, now, from_tier=from_tier, from_round=from_round) == expected


@pytest.mark.parametrize(
    ("alert", "from_step", "expected"),
    [
        pytest.param(
            triggered(0),
            (0, 0),
            Notify(1, 0, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="the building failed: the mediator at once",
        ),
        pytest.param(
            triggered(1),
            (1, 0),
            Notify(2, 0, datetime(2026, 11, 22, 3, 3, tzinfo=timezone.utc)),
            id="the mediator failed: the hotline at once",
        ),
        pytest.param(triggered(2), (2, 0), None, id="the hotline failed: its own repeat timer, no page loop"),
        pytest.param(triggered(2, 3), (2, 3), None, id="a later hotline round failed: the same"),
        pytest.param(triggered(2), (1, 0), None, id="a late failure of the mediator: nothing"),
    ],
)
def test_after_failed_step(alert, from_step, expected):
    now = datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc)
    assert after_failed_step(alert, EXAMPLE, EVERYONE, now, *from_step) == expected


@pytest.mark.parametrize(
    ("decide", "expected_next"),
    [
        pytest.param(lambda now: first_step(DISTINCT, EVERYONE, now), timedelta(minutes=1), id="open: building's 1m"),
        pytest.param(
            lambda now: first_step(DISTINCT, (0, 1, 1), now),
            timedelta(minutes=3),
            id="building skipped: mediator's 3m, not building's",
        ),
        pytest.param(
            lambda now: due_step(triggered(0, next_action_at=now), DISTINCT, EVERYONE, now),
            timedelta(minutes=3),
            id="to mediator: 3m",
        ),
        pytest.param(
            lambda now: due_step(triggered(1, next_action_at=now), DISTINCT, EVERYONE, now),
            timedelta(minutes=5),
            id="to hotline: 5m",
        ),
        pytest.param(
            lambda now: due_step(triggered(2, 1, next_action_at=now), DISTINCT, EVERYONE, now),
            timedelta(minutes=5),
            id="hotline repeat: 5m",
        ),
        pytest.param(
            lambda now: due_step(triggered(1, next_action_at=now), DISTINCT, (1, 1, 0), now),
            timedelta(minutes=1),
            id="wrap to building: 1m",
        ),
        pytest.param(
            lambda now: escalate_now(triggered(0), DISTINCT, EVERYONE, now, 0, 0),
            timedelta(minutes=3),
            id="pass to mediator: 3m",
        ),
        pytest.param(
            lambda now: due_step(acknowledged(now), DISTINCT, EVERYONE, now),
            timedelta(minutes=1),
            id="reopen: building's 1m",
        ),
    ],
)
def test_next_action_at_is_now_plus_the_notified_tiers_timeout(decide, expected_next):
    decision = decide(T0)
    assert isinstance(decision, Notify)
    assert decision.next_action_at == T0 + expected_next


def test_nobody_reachable_retries_after_the_last_tiers_timeout():
    assert first_step(DISTINCT, NOBODY, T0) == NobodyReachable(T0 + timedelta(minutes=5))


def test_a_policy_without_tiers_retries_in_a_minute():
    assert first_step(Policy(tiers=()), (), T0) == NobodyReachable(T0 + timedelta(minutes=1))


def _walk(reachable: tuple[int, ...], steps: int) -> list[tuple[int, int]]:
    """The (tier, round) of each step when every timeout passes unanswered."""
    decision = first_step(EXAMPLE, reachable, T0)
    seen = []
    for _ in range(steps):
        assert isinstance(decision, Notify)
        seen.append((decision.tier_index, decision.round))
        state = triggered(decision.tier_index, decision.round, decision.next_action_at)
        decision = due_step(state, EXAMPLE, reachable, decision.next_action_at)
    return seen


def test_an_unanswered_alert_walks_the_tiers_then_repeats_the_hotline():
    assert _walk(EVERYONE, 6) == [(0, 0), (1, 0), (2, 0), (2, 1), (2, 2), (2, 3)]


def test_every_step_of_a_wrapping_escalation_has_its_own_tier_and_round():
    # No hotline duty: building, mediator, wrap to building (round 1), mediator (round 1), …
    seen = _walk((1, 1, 0), 6)
    assert len(set(seen)) == len(seen), seen


DEVICE = Policy(tiers=(TierPolicy("mediator", ("sms",), 120),), repeat_s=1800)  # a dead pager: the mediator only


@pytest.mark.parametrize(
    ("policy", "reachable", "state", "expected_next"),
    [
        pytest.param(DEVICE, (1,), None, T0 + timedelta(minutes=30), id="device alert: the mediator again in 30 min"),
        pytest.param(DEVICE, (1,), triggered(0, 0, T0), T0 + timedelta(minutes=30), id="and every 30 min after"),
        pytest.param(
            Policy(EXAMPLE.tiers, repeat_s=600),
            EVERYONE,
            None,
            T1,
            id="repeat_s leaves the tiers before the last alone",
        ),
        pytest.param(
            Policy(EXAMPLE.tiers, repeat_s=600),
            EVERYONE,
            triggered(1, 0, T0),
            T0 + timedelta(minutes=10),
            id="the last tier waits repeat_s",
        ),
        pytest.param(EXAMPLE, EVERYONE, triggered(2, 0, T0), T1, id="no repeat_s: the hotline again at its timeout"),
    ],
)
def test_the_last_tier_is_called_again_after_repeat_s(policy, reachable, state, expected_next):
    decision = first_step(policy, reachable, T0) if state is None else due_step(state, policy, reachable, T0)
    assert isinstance(decision, Notify) and decision.next_action_at == expected_next


@pytest.mark.parametrize(
    ("kind", "tiers", "repeat_s"),
    [
        pytest.param("emergency", ("building", "mediator", "hotline"), None, id="an emergency climbs every tier"),
        pytest.param("wellness", ("building", "mediator"), None, id="a missed check-in never wakes the hotline"),
        pytest.param("device", ("mediator",), 30 * 60, id="a dead battery: the mediator, every half hour"),
        pytest.param("unheard-of", ("building", "mediator", "hotline"), None, id="an unknown kind: as an emergency"),
    ],
)
def test_policy_for_kind(kind, tiers, repeat_s):
    policy = policy_for_kind(EXAMPLE, kind)
    assert tuple(t.tier for t in policy.tiers) == tiers
    assert (policy.repeat_s, policy.ack_expiry_s) == (repeat_s, EXAMPLE.ack_expiry_s)


def test_the_default_policy_is_the_example_registrys():
    assert DEFAULT_POLICY == EXAMPLE


@pytest.mark.parametrize(
    ("open_presses", "expected"),
    [
        pytest.param(None, Open(), id="nothing open: a new alert"),
        pytest.param(0, Join(1), id="pressed again: joins, the first repeat"),
        pytest.param(4, Join(5), id="pressed a fifth time: still one alert"),
    ],
)
def test_on_press(open_presses, expected):
    assert on_press(open_presses) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        pytest.param(None, RejectCancel("no_open_alert"), id="nothing to take back: the device is told why"),
        pytest.param(State.TRIGGERED, Cancel(), id="before anyone took it: cancelled"),
        pytest.param(State.ACKNOWLEDGED, NoteCancel(), id="after an ack: only noted, the helper still goes"),
        pytest.param(State.RESOLVED, RejectCancel(), id="already resolved: nothing open"),
        pytest.param(State.CANCELLED, RejectCancel(), id="already cancelled: nothing open"),
    ],
)
def test_on_cancel(state, expected):
    assert on_cancel(state) == expected


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        pytest.param(
            triggered(1),
            Acknowledge(datetime(2026, 11, 23, 3, 1, tzinfo=timezone.utc)),
            id="taken: it expires a day later unless resolved",
        ),
        pytest.param(acknowledged(T2), None, id="already taken: nothing changes"),
        pytest.param(AlertState(State.RESOLVED, 1, 0, None), None, id="resolved: nothing"),
        pytest.param(AlertState(State.CANCELLED, 0, 0, None), None, id="cancelled: nothing"),
    ],
)
def test_acknowledge(alert, expected):
    assert acknowledge(alert, EXAMPLE, datetime(2026, 11, 22, 3, 1, tzinfo=timezone.utc)) == expected


def test_acknowledge_expires_after_the_policys_expiry():
    short = Policy(EXAMPLE.tiers, ack_expiry_s=600)
    assert acknowledge(triggered(0), short, T0) == Acknowledge(datetime(2026, 11, 22, 3, 10, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("alert", "expected"),
    [
        pytest.param(triggered(2, 3), Resolve(takes_the_call=True), id="nobody had taken it: resolving takes the call"),
        pytest.param(acknowledged(T2), Resolve(takes_the_call=False), id="taken before: the ack stays whose it was"),
        pytest.param(
            acknowledged(T0), Resolve(takes_the_call=False), id="ack expired, not yet reopened: still resolves"
        ),
        pytest.param(AlertState(State.RESOLVED, 1, 0, None), None, id="resolved twice: nothing changes"),
        pytest.param(AlertState(State.CANCELLED, 0, 0, None), None, id="cancelled: not to resolve"),
    ],
)
def test_resolve(alert, expected):
    assert resolve(alert) == expected


STEP_1 = StepRef(cycle=0, tier_index=1, tier_round=0)


@pytest.mark.parametrize(
    ("alert", "failed", "pages_failed", "reported", "expected"),
    [
        pytest.param(triggered(1), STEP_1, (True, True), (), True, id="every page of the step failed: tier failed"),
        pytest.param(triggered(1), STEP_1, (True,), (), True, id="its one page failed"),
        pytest.param(triggered(1), STEP_1, (True, False), (), False, id="one page still out: wait"),
        pytest.param(triggered(1), STEP_1, (True, True), (STEP_1,), False, id="said before: the step's other failure"),
        pytest.param(
            triggered(1),
            STEP_1,
            (True, True),
            (StepRef(0, 0, 0),),
            True,
            id="an earlier step's failure said: this one is news",
        ),
        pytest.param(triggered(2), STEP_1, (True, True), (), False, id="the alert moved on: a late failure"),
        pytest.param(triggered(1, 1), STEP_1, (True, True), (), False, id="an older round of the same tier"),
        pytest.param(
            AlertState(State.TRIGGERED, 1, 0, T1, cycle=1),
            STEP_1,
            (True, True),
            (),
            False,
            id="a page from before the alert reopened",
        ),
        pytest.param(acknowledged(T2), STEP_1, (True, True), (), False, id="acknowledged meanwhile"),
        pytest.param(AlertState(State.RESOLVED, 1, 0, None), STEP_1, (True, True), (), False, id="resolved"),
    ],
)
def test_tier_failed(alert, failed, pages_failed, reported, expected):
    assert tier_failed(alert, failed, pages_failed, reported) is expected
