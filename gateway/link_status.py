"""The broker link's state, as /readyz and the board see it, and the log of its losses and returns.

A broker that cannot be reached or is lost is logged at once (`mqtt.unreachable`,
`mqtt.disconnected`, with the reason), again every REMIND_S while it lasts (`remind()`), and
`mqtt.connected` says when it is back. gateway/mqtt_link.py tells a `LinkWatch` what paho reports;
this module knows nothing of paho.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import structlog

log = structlog.get_logger("jinqiao.mqtt")

REMIND_S = 30.0  # while the broker is away, say so again this often


@dataclass(frozen=True)
class LinkStatus:
    """The broker link as /readyz and the board see it: up, or down since when and why."""

    connected: bool
    since: datetime  # when the current state began (UTC)
    reason: str | None = None  # why it is down

    def as_dict(self) -> dict:
        return {"connected": self.connected, "since": self.since.isoformat(timespec="seconds"), "reason": self.reason}

    def describe(self) -> str:
        if self.connected:
            return "ok"
        return f"disconnected since {self.since.isoformat(timespec='seconds')}: {self.reason or 'unknown'}"


class LinkWatch:
    """What the link's state is and since when; logs each loss once, reminds while it lasts, logs the return."""

    def __init__(self, host: str, port: int, now: Callable[[], datetime]) -> None:
        self._host, self._port = host, port
        self._now = now
        self.status = LinkStatus(False, now(), "not connected yet")
        self._down_logged = False  # the loss (or the first failed attempt) has been logged
        self._reminded_at = 0.0

    def remind(self, monotonic: float | None = None) -> None:
        """While the broker is away, log it again every REMIND_S."""
        at = time.monotonic() if monotonic is None else monotonic
        status = self.status
        if status.connected or not self._down_logged or at - self._reminded_at < REMIND_S:
            return
        self._reminded_at = at
        down_for = (self._now() - status.since).total_seconds()
        log.warning(
            "mqtt.unreachable",
            host=self._host,
            port=self._port,
            reason=status.reason,
            since=status.since.isoformat(timespec="seconds"),
            down_for_s=round(down_for),
        )

    def went_down(self, event: str, reason: str) -> None:
        """The first sign of trouble is logged at once; repeats wait for remind()."""
        was = self.status
        since = was.since if not was.connected else self._now()
        self.status = LinkStatus(False, since, reason)
        if was.connected or not self._down_logged:
            self._down_logged = True
            self._reminded_at = time.monotonic()
            log.warning(event, host=self._host, port=self._port, reason=reason)

    def came_up(self, **context: object) -> None:
        """Connected: logged with how long it was down, and with the context given (session, generation)."""
        was, now = self.status, self._now()
        self.status = LinkStatus(True, now)
        self._down_logged = False
        log.info(
            "mqtt.connected",
            host=self._host,
            port=self._port,
            **context,
            down_for_s=round((now - was.since).total_seconds(), 1),
        )

    def stopped(self) -> None:
        """Our own stop: down, but no warning."""
        self.status = LinkStatus(False, self._now(), "stopped")
        log.info("mqtt.disconnected", reason="stopped")
