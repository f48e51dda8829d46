"""The pure rules of what an operator does in a call (dispatcher.in_call_rules), as tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dispatcher.escalation import AlertState, State
from dispatcher.in_call_rules import (
    NOBODY_PAGED,
    NOT_TRIGGERED,
    LastRepage,
    Refused,
    Repage,
    Repeated,
    clean_note,
    may_escalate,
    repage,
)

T = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


def alert(state=State.TRIGGERED, tier=0, round_=0, cycle=0) -> AlertState:
    return AlertState(state, tier, round_, T + timedelta(minutes=2), None, cycle)


@pytest.mark.parametrize(
    ("state", "step", "last", "of_step", "now", "expected"),
    [
        # the first repage of the step: page tier 0 again, the first repage of step 1
        (alert(), 1, None, 0, T, Repage(0, 0, 1, 1)),
        # a double click: the same step repaged 10 s ago
        (alert(), 1, LastRepage(T, 0, 1), 1, T + timedelta(seconds=10), Repeated()),
        (alert(), 1, LastRepage(T, 0, 1), 1, T + timedelta(seconds=29), Repeated()),
        # 30 s later it is a new repage, the second of the step
        (alert(), 1, LastRepage(T, 0, 1), 1, T + timedelta(seconds=30), Repage(0, 0, 1, 2)),
        # the timer moved the call on since: a repage of the new step at once
        (alert(tier=1), 2, LastRepage(T, 0, 1), 0, T + timedelta(seconds=5), Repage(1, 0, 2, 1)),
        # a repage of the same step number in an earlier cycle is not this one
        (alert(cycle=1), 1, LastRepage(T, 0, 1), 0, T + timedelta(seconds=5), Repage(0, 0, 1, 1)),
        # the last tier repeating: its round is kept
        (alert(tier=2, round_=3), 6, None, 0, T, Repage(2, 3, 6, 1)),
        # taken or closed: refused
        (alert(State.ACKNOWLEDGED), 1, None, 0, T, Refused(NOT_TRIGGERED)),
        (alert(State.RESOLVED), 1, None, 0, T, Refused(NOT_TRIGGERED)),
        (alert(State.CANCELLED), 1, None, 0, T, Refused(NOT_TRIGGERED)),
        # nobody paged yet (nobody reachable)
        (alert(tier=-1), 0, None, 0, T, Refused(NOBODY_PAGED)),
    ],
)
def test_repage(state, step, last, of_step, now, expected):
    assert repage(state, step, last, of_step, now) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State.TRIGGERED, None),
        (State.ACKNOWLEDGED, Refused(NOT_TRIGGERED)),
        (State.RESOLVED, Refused(NOT_TRIGGERED)),
        (State.CANCELLED, Refused(NOT_TRIGGERED)),
    ],
)
def test_may_escalate(state, expected):
    assert may_escalate(alert(state)) == expected


def test_a_refusal_says_why_in_both_languages():
    assert "尚未接警" in Refused(NOT_TRIGGERED).message and "nobody has taken" in Refused(NOT_TRIGGERED).message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  已电话联系家属  ", "已电话联系家属"),
        ("a", "a"),
        ("x" * 2000, "x" * 2000),
        ("", None),
        ("   \n\t", None),
        ("x" * 2001, None),
    ],
)
def test_clean_note(text, expected):
    assert clean_note(text) == expected
