"""The broker link's bookkeeping without a broker: each loss logged once, reminders every REMIND_S, the return."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from structlog.testing import capture_logs

from gateway.link_status import REMIND_S, LinkWatch

T0 = datetime(2026, 11, 18, 2, 0, tzinfo=timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.at = T0

    def __call__(self) -> datetime:
        return self.at


def events(logs: list[dict]) -> list[tuple[str, str]]:
    return [(e["event"], e["log_level"]) for e in logs]


def test_a_loss_is_logged_once_then_reminded_every_remind_s_and_its_return_says_how_long():
    clock = Clock()
    watch = LinkWatch("broker", 1883, clock)
    assert not watch.status.connected and watch.status.reason == "not connected yet"
    with capture_logs() as logs:
        watch.went_down("mqtt.unreachable", "refused")
        watch.went_down("mqtt.unreachable", "refused again")  # a retry that fails: no second line
        assert events(logs) == [("mqtt.unreachable", "warning")]
        assert watch.status.reason == "refused again" and watch.status.since == T0
        watch.remind(10**9)  # far later on the monotonic clock
        clock.at = T0 + timedelta(seconds=75)
        watch.remind(10**9 + 1)  # within REMIND_S of the last reminder
        watch.remind(10**9 + REMIND_S + 1)
        assert [e["event"] for e in logs] == ["mqtt.unreachable"] * 3
        assert logs[2]["down_for_s"] == 75
        watch.came_up(generation=2)
        assert logs[-1]["event"] == "mqtt.connected" and logs[-1]["down_for_s"] == 75.0
        assert logs[-1]["generation"] == 2 and watch.status.connected
        watch.remind(10**10)
        assert len(logs) == 4  # no reminder once it is back


def test_our_own_stop_is_no_warning():
    watch = LinkWatch("broker", 1883, Clock())
    watch.came_up()
    with capture_logs() as logs:
        watch.stopped()
    assert events(logs) == [("mqtt.disconnected", "info")] and watch.status.reason == "stopped"
