"""The wall clock, in UTC. The one place the product reads it: everything else is passed a clock
(a callable returning an aware datetime) so that tests can pass a fake one."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
