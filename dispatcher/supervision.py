"""Device supervision and the daily check-in: which alerts to open and which to close. Pure.

From what the registry and the gateway recorded (heartbeat interval, last message, presence),
the residents' check-in deadlines, their newest check-in, their away periods and `now`:
- a device `offline` for longer than the grace period, or silent for longer than its heartbeat
  interval (plus a little slack for the trip), needs a `device` alert; one that is well again
  closes its open device alert;
- a resident with a deadline who has not checked in since local midnight once the deadline has
  passed (in the community's time zone, every day) needs a `wellness` alert, once per local day;
  a day counts only if it began after the check-in was set up (`checkin_since`) and after the
  resident's last away period ended: a resident imported at 13:40 with a 10:00 deadline, or back
  home at noon, was never asked to check in that morning;
- a resident away (away_from <= t < away_to) gets neither; emergencies are never supervised here.
A device that never sent anything is not supervised yet: it has not been installed. A button that
sleeps between presses (Shelly Button1) is supervised by its heartbeat interval only.

So that a pass costs what changed, not the size of the fleet, it also says what to read: the
devices whose `supervise_at` (devices/health.py) is at or before `Rules.due_by(now)`, what to store
there after looking (`look_again_at`), and which deadlines passed since the previous pass
(`checkin_window`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from devices import health
from devices.health import SLEEPING_ADAPTERS as SLEEPING_ADAPTERS  # where it always was importable

if TYPE_CHECKING:
    from core.settings import Settings

OFFLINE, HEARTBEAT_MISSED, CHECKIN_MISSED = "offline", "heartbeat_missed", "checkin_missed"


@dataclass(frozen=True)
class Rules:
    offline_grace_s: float = 180.0
    heartbeat_slack_s: float = 30.0
    battery_low: int = 20  # a battery level below this is a maintenance item

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(settings.offline_grace, settings.heartbeat_slack, settings.battery_low)

    def due_by(self, now: datetime) -> datetime:
        """A device needs looking at once its `supervise_at` (devices/health.py, which holds no
        rule) is at or before this: the smaller allowance, so that neither case is ever late."""
        return now - timedelta(seconds=min(self.heartbeat_slack_s, self.offline_grace_s))


@dataclass(frozen=True)
class DeviceView:
    id: str
    resident_id: str | None
    heartbeat_s: int | None
    last_seen_at: datetime | None
    status: str | None
    status_at: datetime | None
    # a button that sleeps between presses (a Shelly Button1 on battery) is "offline" most of the
    # time by design: only its heartbeat interval says whether it is still alive
    sleeps: bool = False


@dataclass(frozen=True)
class ResidentView:
    id: str
    timezone: str
    checkin_deadline: str | None  # "HH:MM", community time
    away_from: datetime | None
    away_to: datetime | None
    last_checkin_at: datetime | None
    checkin_since: datetime | None = None  # when the deadline was set up or last changed


@dataclass(frozen=True)
class OpenDeviceAlert:
    resident_id: str
    device_id: str
    reason: str  # offline | heartbeat_missed


@dataclass(frozen=True)
class CloseDeviceAlert:
    alert_id: int
    device_id: str


@dataclass(frozen=True)
class MissedCheckin:
    resident_id: str
    day: date  # the local day whose check-in is missing
    deadline_at: datetime
    suppressed: bool  # away at the deadline: recorded, no alert


def is_away(resident: ResidentView, at: datetime) -> bool:
    if resident.away_from is None:
        return False
    return resident.away_from <= at and (resident.away_to is None or at < resident.away_to)


def device_problem(device: DeviceView, rules: Rules, now: datetime) -> str | None:
    """What is wrong with a device right now, if anything."""
    went_offline = device.status_at if device.status == "offline" and not device.sleeps else None
    if went_offline is not None and (now - went_offline).total_seconds() > rules.offline_grace_s:
        return OFFLINE
    heartbeat_s, last_seen = device.heartbeat_s, device.last_seen_at
    if (
        heartbeat_s
        and last_seen is not None
        and (now - last_seen).total_seconds() > heartbeat_s + rules.heartbeat_slack_s
    ):
        return HEARTBEAT_MISSED
    return None


def decide_devices(
    devices: list[DeviceView],
    residents: dict[str, ResidentView],
    open_alerts: dict[str, list[int]],
    rules: Rules,
    now: datetime,
) -> list[OpenDeviceAlert | CloseDeviceAlert]:
    """`open_alerts`: device id -> its open device alerts. Residents not given are not supervised."""
    decisions: list[OpenDeviceAlert | CloseDeviceAlert] = []
    for device in devices:
        problem = device_problem(device, rules, now)
        already = open_alerts.get(device.id, [])
        if problem is None:
            decisions += [CloseDeviceAlert(alert_id, device.id) for alert_id in already]
            continue
        resident = residents.get(device.resident_id) if device.resident_id else None
        if already or resident is None or is_away(resident, now):
            continue
        decisions.append(OpenDeviceAlert(resident.id, device.id, problem))
    return decisions


def checkin_deadline(hhmm: str, tz: ZoneInfo, day: date) -> datetime:
    hh, mm = (int(x) for x in hhmm.split(":"))
    return datetime.combine(day, time(hh, mm), tz)


def decide_checkin(resident: ResidentView, already_marked: bool, now: datetime) -> MissedCheckin | None:
    """Today's (local) check-in of one resident: missing once its deadline has passed?"""
    hhmm = resident.checkin_deadline
    if not hhmm or already_marked:
        return None
    tz = ZoneInfo(resident.timezone)
    today = now.astimezone(tz).date()
    deadline = checkin_deadline(hhmm, tz, today)
    if now < deadline:
        return None
    day_start = datetime.combine(today, time(0, 0), tz)
    if not day_counts(resident, day_start, now):
        return None
    if resident.last_checkin_at is not None and resident.last_checkin_at >= day_start:
        return None  # checked in today (even late: then they are fine, and nobody need go)
    return MissedCheckin(resident.id, today, deadline, suppressed=is_away(resident, deadline) or is_away(resident, now))


def day_counts(resident: ResidentView, day_start: datetime, now: datetime) -> bool:
    """Whether a local day that began at `day_start` had a check-in to miss: it began after the
    deadline was set up and after an away period that is over by `now` had ended."""
    if resident.checkin_since is not None and day_start < resident.checkin_since:
        return False
    ended = resident.away_to
    return not (ended is not None and ended <= now and day_start < ended)


def local_day(resident: ResidentView, now: datetime) -> date:
    return now.astimezone(ZoneInfo(resident.timezone)).date()


def battery_is_low(battery: int | None, event_type: str, rules: Rules) -> bool:
    return event_type == "battery_low" or (battery is not None and battery < rules.battery_low)


NEVER_SEEN, ONLINE, SILENT, LOW_BATTERY = "never_seen", "online", "silent", "low_battery"


@dataclass(frozen=True)
class Condition:
    """What the board says of a device: one word, and since when where the word has a start."""

    word: str  # never_seen | online | silent | offline | low_battery
    since: datetime | None = None
    offline_since: datetime | None = None
    silent_since: datetime | None = None


def device_condition(
    device: DeviceView, battery: int | None, maintenance_open: bool, rules: Rules, now: datetime
) -> Condition:
    """The board's word for a device, worst first. Unlike `device_problem` it has no grace period:
    a device that says `offline` is shown offline at once (its alert still waits for the grace),
    and a device never heard from is said to be so, not shown as well. A low battery is either
    the last reading or an open maintenance item nobody has closed yet."""
    offline_since = device.status_at if device.status == OFFLINE and not device.sleeps else None
    seen = device.last_seen_at
    overdue = bool(
        device.heartbeat_s and seen and (now - seen).total_seconds() > device.heartbeat_s + rules.heartbeat_slack_s
    )
    silent_since = seen if overdue else None
    if offline_since is not None:
        return Condition(OFFLINE, offline_since, offline_since, silent_since)
    if silent_since is not None:
        return Condition(SILENT, silent_since, None, silent_since)
    if device.last_seen_at is None and device.status is None:
        return Condition(NEVER_SEEN)
    if maintenance_open or (battery is not None and battery < rules.battery_low):
        return Condition(LOW_BATTERY)
    return Condition(ONLINE)


@dataclass(frozen=True)
class CheckinWindow:
    """Which residents of one time zone may have missed today's check-in since the previous pass:
    those whose deadline ("HH:MM") passed in between. A cheap filter for the pass, never narrower
    than `decide_checkin`, which still decides each one. Once a deadline has been looked at, that
    day's answer is final: a miss is marked (checkin_misses), a check-in made, or the day does not
    count (set up, or back from away, after it began), so no later pass need look again."""

    day: date  # the local day
    day_start: datetime  # its local midnight: a check-in since then counts
    after: str | None  # deadlines after this "HH:MM" (None: from midnight) ...
    until: str | None  # ... up to and including this one (None: the whole day)


def checkin_window(timezone: str, now: datetime, previous: datetime | None) -> CheckinWindow:
    """`previous`: when the pass last ran (any process), None if never."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    day_start = datetime.combine(local.date(), time(0, 0), tz)
    if day_start.utcoffset() != local.utcoffset():
        # a day whose UTC offset changed (summer time): the wall clock repeated or skipped an hour,
        # so every deadline since midnight up to an hour past the wall clock is a candidate, and
        # decide_checkin sorts them out
        later = local + timedelta(hours=1)  # wall-clock arithmetic: an hour on the dial
        until = later.strftime("%H:%M") if later.date() == local.date() else None
        return CheckinWindow(local.date(), day_start, None, until)
    before = None if previous is None else previous.astimezone(tz)
    if before is None or before.date() != local.date() or before > local or before < day_start:
        after = None  # a new day, a first run, or a clock that went back: from midnight on
    else:
        after = before.strftime("%H:%M")
    return CheckinWindow(local.date(), day_start, after, local.strftime("%H:%M"))


RECHECK_S = 60.0  # a device in trouble whose alert is held back (away, no resident) is looked at again this often


def look_again_at(
    device: DeviceView, resident: ResidentView | None, alerted: bool, rules: Rules, now: datetime
) -> datetime | None:
    """What the pass stores in `supervise_at` after looking at a device: its own instant
    (devices/health.py), unless it is in trouble with its alert held back (the resident away, or
    none): then at the end of the away period, and at most RECHECK_S later, so that such a device
    is not read by every pass. A device with an open alert is read by every pass anyway."""
    due = health.supervise_at(device.heartbeat_s, device.last_seen_at, device.status, device.status_at, device.sleeps)
    if alerted or due is None or due > rules.due_by(now) or device_problem(device, rules, now) is None:
        return due
    again = now + timedelta(seconds=RECHECK_S)
    if resident is not None and resident.away_to is not None and is_away(resident, now):
        again = min(again, resident.away_to)
    # stored so that `due_by` (which takes the allowance off `now`) reaches it at `again` exactly
    return again - (now - rules.due_by(now))
