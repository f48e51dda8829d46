"""The supervision decision, table by table: a pure function of rows, rules and `now`."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dispatcher.supervision import (
    CloseDeviceAlert,
    Condition,
    DeviceView,
    OpenDeviceAlert,
    ResidentView,
    Rules,
    battery_is_low,
    decide_checkin,
    decide_devices,
    device_condition,
    device_problem,
    is_away,
)

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 10, 30, tzinfo=SH)
RULES = Rules(offline_grace_s=180, heartbeat_slack_s=30, battery_low=20)


def dev(**kw) -> DeviceView:
    base = dict(
        id="d1",
        resident_id="r1",
        heartbeat_s=600,
        last_seen_at=NOW - timedelta(minutes=1),
        status="online",
        status_at=NOW - timedelta(hours=1),
    )
    return DeviceView(**{**base, **kw})


def res(**kw) -> ResidentView:
    base = dict(
        id="r1", timezone="Asia/Shanghai", checkin_deadline="10:00", away_from=None, away_to=None, last_checkin_at=None
    )
    return ResidentView(**{**base, **kw})


@pytest.mark.parametrize(
    "device,expected",
    [
        (dev(), None),
        (dev(last_seen_at=NOW - timedelta(seconds=630)), None),  # interval + slack, not more
        (dev(last_seen_at=NOW - timedelta(seconds=631)), "heartbeat_missed"),
        (dev(heartbeat_s=None, last_seen_at=NOW - timedelta(days=3)), None),  # not supervised by heartbeat
        (dev(last_seen_at=None, status=None, status_at=None), None),  # never heard from: not installed yet
        (dev(status="offline", status_at=NOW - timedelta(seconds=180)), None),  # within the grace period
        (dev(status="offline", status_at=NOW - timedelta(seconds=181)), "offline"),
        (
            dev(status="offline", status_at=NOW - timedelta(seconds=181), last_seen_at=NOW - timedelta(hours=2)),
            "offline",
        ),
        (dev(heartbeat_s=None, status="offline", status_at=NOW - timedelta(hours=5)), "offline"),
        # a sleeping button (Shelly Button1) is offline between presses: only its heartbeat counts
        (dev(sleeps=True, status="offline", status_at=NOW - timedelta(hours=5)), None),
        (
            dev(
                sleeps=True, status="offline", status_at=NOW - timedelta(hours=5), last_seen_at=NOW - timedelta(hours=1)
            ),
            "heartbeat_missed",
        ),
    ],
)
def test_device_problem(device, expected):
    assert device_problem(device, RULES, NOW) == expected


def test_device_decisions_open_once_close_when_well_and_respect_away():
    sick = dev(id="sick", last_seen_at=NOW - timedelta(hours=1))
    sick_open = dev(id="sick-open", last_seen_at=NOW - timedelta(hours=1))
    well_open = dev(id="well-open")
    away_sick = dev(id="away-sick", resident_id="r2", last_seen_at=NOW - timedelta(hours=1))
    orphan = dev(id="orphan", resident_id=None, last_seen_at=NOW - timedelta(hours=1))
    residents = {"r1": res(), "r2": res(id="r2", away_from=NOW - timedelta(days=1), away_to=NOW + timedelta(days=1))}
    got = decide_devices(
        [sick, sick_open, well_open, away_sick, orphan], residents, {"sick-open": [7], "well-open": [8, 9]}, RULES, NOW
    )
    assert got == [
        OpenDeviceAlert("r1", "sick", "heartbeat_missed"),
        CloseDeviceAlert(8, "well-open"),
        CloseDeviceAlert(9, "well-open"),
    ]


@pytest.mark.parametrize(
    "resident,now,missed",
    [
        (res(), datetime(2026, 12, 1, 9, 59, 59, tzinfo=SH), False),  # before the deadline
        (res(), datetime(2026, 12, 1, 10, 0, tzinfo=SH), True),  # at the deadline, no check-in today
        (res(last_checkin_at=datetime(2026, 12, 1, 9, 30, tzinfo=SH)), NOW, False),
        (res(last_checkin_at=datetime(2026, 12, 1, 0, 0, tzinfo=SH)), NOW, False),  # just after local midnight
        (res(last_checkin_at=datetime(2026, 11, 30, 23, 59, tzinfo=SH)), NOW, True),  # yesterday's does not count
        (res(last_checkin_at=datetime(2026, 12, 1, 10, 20, tzinfo=SH)), NOW, False),  # late, but before we looked
        (res(checkin_deadline=None), NOW, False),
        # the deadline in the community's own zone: 10:00 in Urumqi is 04:00 UTC
        (res(timezone="Asia/Urumqi"), datetime(2026, 12, 1, 3, 59, tzinfo=timezone.utc), False),
        (res(timezone="Asia/Urumqi"), datetime(2026, 12, 1, 4, 0, tzinfo=timezone.utc), True),
    ],
)
def test_checkin_decision(resident, now, missed):
    got = decide_checkin(resident, False, now)
    assert (got is not None) == missed
    if got:
        assert got.deadline_at == datetime.combine(
            got.day, datetime.min.time().replace(hour=10), ZoneInfo(resident.timezone)
        )
        assert not got.suppressed


def test_a_missed_checkin_is_decided_once_per_day():
    assert decide_checkin(res(), True, NOW) is None
    tomorrow = decide_checkin(res(), False, NOW + timedelta(days=1))
    assert tomorrow.day == date(2026, 12, 2)


@pytest.mark.parametrize(
    "away_from,away_to,suppressed",
    [
        (datetime(2026, 11, 30, tzinfo=SH), datetime(2026, 12, 3, tzinfo=SH), True),
        (datetime(2026, 11, 30, tzinfo=SH), None, True),  # away until further notice
        (datetime(2026, 11, 20, tzinfo=SH), datetime(2026, 12, 1, tzinfo=SH), False),  # came back this morning
        (datetime(2026, 12, 1, 11, 0, tzinfo=SH), datetime(2026, 12, 5, tzinfo=SH), False),  # leaves later today
    ],
)
def test_away_suppresses_the_checkin_alert(away_from, away_to, suppressed):
    got = decide_checkin(res(away_from=away_from, away_to=away_to), False, NOW)
    assert got is not None and got.suppressed is suppressed


def test_is_away_bounds():
    r = res(away_from=NOW, away_to=NOW + timedelta(hours=1))
    assert not is_away(r, NOW - timedelta(seconds=1))
    assert is_away(r, NOW) and not is_away(r, NOW + timedelta(hours=1))


@pytest.mark.parametrize(
    "battery,kind,low",
    [
        (19, "heartbeat", True),
        (20, "heartbeat", False),
        (None, "alarm", False),
        (None, "battery_low", True),
        (90, "battery_low", True),
    ],
)
def test_battery_low(battery, kind, low):
    assert battery_is_low(battery, kind, RULES) is low


@pytest.mark.parametrize(
    "resident,missed",
    [
        (res(checkin_since=datetime(2026, 12, 1, 0, 0, tzinfo=SH)), True),  # set up as the day began
        (res(checkin_since=datetime(2026, 12, 1, 0, 0, 1, tzinfo=SH)), False),  # set up during the day
        (res(checkin_since=datetime(2026, 12, 1, 9, 0, tzinfo=SH)), False),  # even before the deadline
        (res(checkin_since=datetime(2026, 11, 20, tzinfo=SH)), True),
        (
            res(away_from=datetime(2026, 11, 20, tzinfo=SH), away_to=datetime(2026, 12, 1, 9, 0, tzinfo=SH)),
            False,
        ),  # back at 9
        (res(away_from=datetime(2026, 11, 20, tzinfo=SH), away_to=datetime(2026, 11, 30, 22, 0, tzinfo=SH)), True),
    ],
)
def test_a_day_counts_only_if_it_began_after_the_checkin_was_set_up_and_away_ended(resident, missed):
    assert (decide_checkin(resident, False, NOW) is not None) is missed
    assert decide_checkin(resident, False, NOW + timedelta(days=1)) is not None  # the next day always counts


SEEN = NOW - timedelta(minutes=1)
LONG_AGO = NOW - timedelta(hours=2)


@pytest.mark.parametrize(
    "device,battery,maintenance,expected",
    [
        (dev(last_seen_at=SEEN), 90, False, Condition("online")),
        (dev(last_seen_at=None, status=None, status_at=None), None, False, Condition("never_seen")),
        # an open low-battery item stays low until someone closes it, whatever the newest reading
        (dev(last_seen_at=None, status=None, status_at=None), None, True, Condition("never_seen")),
        (dev(), 19, False, Condition("low_battery")),
        (dev(), 20, False, Condition("online")),
        (dev(), 95, True, Condition("low_battery")),
        (dev(last_seen_at=NOW - timedelta(seconds=630)), None, False, Condition("online")),
        (
            dev(last_seen_at=NOW - timedelta(seconds=631)),
            5,
            True,
            Condition("silent", NOW - timedelta(seconds=631), None, NOW - timedelta(seconds=631)),
        ),
        # offline at once, as it said, before the device alert's grace period is over
        (dev(status="offline", status_at=SEEN), None, False, Condition("offline", SEEN, SEEN)),
        (
            dev(status="offline", status_at=SEEN, last_seen_at=LONG_AGO),
            None,
            False,
            Condition("offline", SEEN, SEEN, LONG_AGO),
        ),
        (dev(status="offline", status_at=SEEN, last_seen_at=None), None, False, Condition("offline", SEEN, SEEN)),
        # a sleeping button is offline between presses: only its heartbeat says it is silent
        (dev(sleeps=True, status="offline", status_at=LONG_AGO), None, False, Condition("online")),
        (dev(heartbeat_s=None, last_seen_at=NOW - timedelta(days=3)), None, False, Condition("online")),
    ],
)
def test_device_condition_says_what_is_true_worst_first(device, battery, maintenance, expected):
    assert device_condition(device, battery, maintenance, RULES, NOW) == expected
