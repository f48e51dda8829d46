"""The watchdog's pure decision (dispatcher/watchdog_rules.py), as tables of literal instants."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dispatcher.watchdog_rules import (
    Beat,
    DueStep,
    Fleet,
    Snapshot,
    Thresholds,
    Waiting,
    current,
    decide,
    duration,
    recovery_text,
)

UTC = timezone.utc
NOW = datetime(2026, 3, 2, 6, 0, 0, tzinfo=UTC)
TH = Thresholds(
    process_silence=timedelta(seconds=30),
    step_overdue=timedelta(seconds=60),
    outbox_stuck=timedelta(seconds=120),
    events_slack=timedelta(seconds=120),
)


def at(seconds_before: float) -> datetime:
    return NOW - timedelta(seconds=seconds_before)


def dispatcher(name: str, beat_ago: float, stopped_ago: float | None = None, kind: str = "dispatcher") -> Beat:
    return Beat(kind, name, "host-a", 4242, at(beat_ago), None if stopped_ago is None else at(stopped_ago))


@pytest.mark.parametrize(
    "snapshot, causes",
    [
        # nothing at all: a fresh database pages for nothing
        (Snapshot(), []),
        # heartbeats: fresh, exactly at the threshold, one second past it
        (Snapshot(beats=(dispatcher("a", 5),)), []),
        (Snapshot(beats=(dispatcher("a", 30),)), []),
        (Snapshot(beats=(dispatcher("a", 31),)), ["dispatcher_silent:a"]),
        # a clean stop is no fault while another runs
        (Snapshot(beats=(dispatcher("a", 600, stopped_ago=590), dispatcher("b", 2))), []),
        # each silent process is its own cause; gateways too; the watchdog's own row is not judged here
        (
            Snapshot(
                beats=(
                    dispatcher("a", 40),
                    dispatcher("b", 50),
                    dispatcher("main", 90, kind="gateway"),
                    dispatcher("w", 900, kind="watchdog"),
                )
            ),
            ["dispatcher_silent:a", "dispatcher_silent:b", "gateway_silent:main"],
        ),
        # every dispatcher stopped on purpose: nobody escalates
        (Snapshot(beats=(dispatcher("a", 600, stopped_ago=590),)), ["no_dispatcher"]),
        # due steps: due 60 s ago is in time, 61 s is overdue; one cause however many alerts
        (Snapshot(due=(DueStep("4821", at(60)),)), []),
        (Snapshot(due=(DueStep("4821", at(61)), DueStep("1234", at(100)), DueStep("5555", at(1)))), ["steps_overdue"]),
        # outbox rows: queued or sending longer than 120 s
        (Snapshot(waiting=(Waiting(1, "queued", at(120)), Waiting(2, "sending", at(30)))), []),
        (Snapshot(waiting=(Waiting(1, "queued", at(121)),)), ["outbox_stuck"]),
        (Snapshot(waiting=(Waiting(2, "sending", at(3600)),)), ["outbox_stuck"]),
        # the fleet: quiet up to the longest heartbeat interval plus slack is plausible
        (Snapshot(fleet=Fleet(at(600 + 120), 600)), []),
        (Snapshot(fleet=Fleet(at(600 + 121), 600)), ["events_quiet"]),
        # no device promises a heartbeat, or nothing ever arrived: no plausibility to judge by
        (Snapshot(fleet=Fleet(at(86400), None)), []),
        (Snapshot(fleet=Fleet(None, 600)), []),
    ],
)
def test_current_faults(snapshot, causes):
    assert [f.cause for f in current(snapshot, NOW, TH)] == causes


def test_one_page_per_cause_and_a_recovery_when_it_is_gone():
    silent = Snapshot(beats=(dispatcher("a", 45),), due=(DueStep("4821", at(90)),))
    first = decide(silent, [], NOW, TH)
    assert [f.cause for f in first.opened] == ["dispatcher_silent:a", "steps_overdue"] and first.resolved == ()

    # looked again ten seconds later: still the same faults, already open: nothing new, nothing gone
    later = NOW + timedelta(seconds=10)
    again = decide(silent, ["dispatcher_silent:a", "steps_overdue"], later, TH)
    assert again.opened == () and again.resolved == ()

    # the dispatcher beats again and takes the step: both causes are gone
    back = Snapshot(beats=(Beat("dispatcher", "a", "host-a", 4242, later),))
    recovered = decide(back, ["dispatcher_silent:a", "steps_overdue"], later, TH)
    assert recovered.opened == () and recovered.resolved == ("dispatcher_silent:a", "steps_overdue")


def test_a_process_killed_and_not_restarted_stays_one_open_finding():
    dead = Snapshot(beats=(dispatcher("a", 31),))
    assert [f.cause for f in decide(dead, [], NOW, TH).opened] == ["dispatcher_silent:a"]
    hours_later = NOW + timedelta(hours=3)
    assert decide(dead, ["dispatcher_silent:a"], hours_later, TH) == decide(Snapshot(), [], NOW, TH)


def test_the_page_says_what_which_how_long_and_whether_another_copy_runs():
    (alone,) = current(Snapshot(beats=(dispatcher("host-a:8000", 95),)), NOW, TH)
    assert alone.summary == (
        "【金桥监护】调度进程 host-a:8000（host-a 进程4242）已1分35秒无心跳，"
        "报警可能不再升级、不再发出通知。没有其他调度进程在运行！请立即检查。"
    )
    assert alone.since == at(95) and alone.detail["others_alive"] == 0
    pair = current(Snapshot(beats=(dispatcher("a", 95), dispatcher("b", 1))), NOW, TH)
    assert "另有1个调度进程在运行" in pair[0].summary
    (late,) = current(Snapshot(due=(DueStep("4821", at(61)), DueStep("1234", at(185)))), NOW, TH)
    assert "2个报警" in late.summary and "编号1234，逾期3分5秒" in late.summary
    assert late.since == at(185)


@pytest.mark.parametrize(
    "seconds, words",
    [
        (0, "0秒"),
        (42, "42秒"),
        (60, "1分"),
        (192, "3分12秒"),
        (3600, "1小时"),
        (7500, "2小时5分"),
        (-3, "0秒"),
    ],
)
def test_durations_in_words(seconds, words):
    assert duration(timedelta(seconds=seconds)) == words


def test_the_recovery_message_names_the_fault_and_how_long_it_lasted():
    assert (
        recovery_text("调度进程 a 无心跳", at(150), NOW) == "【金桥监护】已恢复：调度进程 a 无心跳，故障持续约2分30秒。"
    )
