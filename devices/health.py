"""When a device's own word runs out: the instant stored in `devices.supervise_at`. Pure.

A device says it is alive by sending something at least every `heartbeat_s` seconds, and says it
is gone with an `offline` status. From its last word on, nothing needs looking at until
- `last_seen_at + heartbeat_s` (its next message is due), or
- `status_at`, if it said `offline` (and is not a button that sleeps between presses),
whichever comes first. That instant holds no rule of the dispatcher: the heartbeat slack and the
offline grace (dispatcher/supervision.py `Rules`, from the settings) are added by the pass when it
asks which devices are due, so that changing a setting takes effect at once, and the gateway, a
process of its own, never needs the dispatcher's settings. A device with neither (no heartbeat
interval, not offline) has nothing due: None.

LOOK_NOW is what the database writes (a trigger, migration 0013) when another writer changes what
a device's health depends on (a registry edit of its heartbeat, a first message) without setting
this column: the next pass looks at it and stores the right instant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

SLEEPING_ADAPTERS = frozenset({"shelly"})  # Shelly Button1 drops off Wi-Fi between presses
LOOK_NOW = datetime(1970, 1, 1, tzinfo=UTC)


def supervise_at(
    heartbeat_s: int | None,
    last_seen_at: datetime | None,
    status: str | None,
    status_at: datetime | None,
    sleeps: bool,
) -> datetime | None:
    """The first instant at which this device may need looking at, before any slack or grace.
    `sleeps`: a button that is offline between presses by design (its adapter in SLEEPING_ADAPTERS)."""
    due: list[datetime] = []
    if heartbeat_s and last_seen_at is not None:
        due.append(last_seen_at + timedelta(seconds=heartbeat_s))
    if status == "offline" and status_at is not None and not sleeps:
        due.append(status_at)
    return min(due) if due else None
