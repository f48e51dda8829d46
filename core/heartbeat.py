"""A process's heartbeat row (table process_heartbeats), which the watchdog reads from outside.

Each dispatcher, gateway and watchdog writes one row for itself every few seconds. The row is the
instance (kind, name): a restart under the same name takes it over, so a process killed and
restarted by its supervisor is the same process coming back, not a dead one left behind. A clean
stop marks the row stopped so that the watchdog does not page for a process stopped on purpose;
a process that dies, hangs or is frozen (SIGSTOP) just stops beating.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import ProcessHeartbeat

log = structlog.get_logger("jinqiao.heartbeat")

BEAT_EVERY_S = 5.0


def host_name() -> str:
    return socket.gethostname()[:200]


def instance_name(configured: str | None, port: int) -> str:
    """The dispatcher's instance: as configured, else this host and its HTTP port (unique on a host,
    and the same again after a restart)."""
    return configured or f"{host_name()}:{port}"


class Heartbeat:
    """Writes this process's row; `beat` is cheap to call often (it writes every `every` seconds)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        kind: str,
        name: str,
        now: Callable[[], datetime],
        every: float = BEAT_EVERY_S,
        detail: Callable[[], dict] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions = sessions
        self.kind = kind
        self.name = name
        self.now = now
        self.every = every
        self.detail = detail or dict
        self.clock = clock
        self.host = host_name()
        self.pid = os.getpid()
        self._last: float | None = None  # monotonic time of the last beat written

    def beat(self) -> bool:
        """Write the row when a beat is due. Returns False: there is never more work waiting."""
        if self._last is not None and self.clock() - self._last < self.every:
            return False
        first = self._last is None
        now = self.now()
        try:
            with transaction(self.sessions) as s:
                self._write(s, now, first)
        except IntegrityError:  # another process inserted the same instance first: next beat updates it
            return False
        self._last = self.clock()
        return False

    def _write(self, s: Session, now: datetime, first: bool) -> None:
        row = s.scalars(
            select(ProcessHeartbeat)
            .where(ProcessHeartbeat.kind == self.kind, ProcessHeartbeat.name == self.name)
            .with_for_update()
        ).first()
        if row is None:
            s.add(
                ProcessHeartbeat(
                    kind=self.kind,
                    name=self.name,
                    host=self.host,
                    pid=self.pid,
                    started_at=now,
                    beat_at=now,
                    stopped_at=None,
                    detail=self.detail(),
                )
            )
            if first:
                log.info("heartbeat.started", kind=self.kind, name=self.name)
            return
        if (row.host, row.pid) != (self.host, self.pid):
            if not first:  # two live processes share one name: the watchdog could not tell them apart
                log.warning(
                    "heartbeat.name_in_use", kind=self.kind, name=self.name, other_host=row.host, other_pid=row.pid
                )
            log.info("heartbeat.started", kind=self.kind, name=self.name, previous_host=row.host, previous_pid=row.pid)
            row.host, row.pid, row.started_at = self.host, self.pid, now
        elif first:
            row.started_at = now
        row.beat_at = now
        row.stopped_at = None
        row.detail = self.detail()

    def stopped(self) -> None:
        """A clean stop: mark the row so the watchdog knows this silence is meant."""
        if self._last is None:
            return
        try:
            with transaction(self.sessions) as s:
                row = s.scalars(
                    select(ProcessHeartbeat).where(
                        ProcessHeartbeat.kind == self.kind,
                        ProcessHeartbeat.name == self.name,
                        ProcessHeartbeat.pid == self.pid,
                        ProcessHeartbeat.host == self.host,
                    )
                ).first()
                if row is not None:
                    row.stopped_at = self.now()
            log.info("heartbeat.stopped", kind=self.kind, name=self.name)
        except Exception as exc:  # stopping must go on; the watchdog will page for the silence instead
            log.warning("heartbeat.stop_not_recorded", kind=self.kind, name=self.name, error=str(exc)[:200])


def broker_status_of(rows: list[ProcessHeartbeat], now: datetime, stale_after: float) -> dict | None:
    """The broker as the live gateways last saw it, for the board of a web process that holds no link.

    Connected when any live gateway is; else the longest-running outage among them; a reason of its
    own when no gateway has beaten within `stale_after` seconds (nothing then carries a press in).
    None when no gateway ever ran against this database: nothing to report yet.
    """
    gateways = [r for r in rows if r.kind == "gateway"]
    if not gateways:
        return None
    live = [r for r in gateways if r.stopped_at is None and (now - r.beat_at).total_seconds() <= stale_after]
    if not live:
        since = max(r.stopped_at or r.beat_at for r in gateways)
        return {"connected": False, "since": since.isoformat(timespec="seconds"), "reason": "no gateway running"}
    seen = [(r.detail or {}).get("broker") or {"connected": bool((r.detail or {}).get("connected"))} for r in live]
    if any(s.get("connected") for s in seen):
        return next(s for s in seen if s.get("connected"))
    return min(seen, key=lambda s: s.get("since") or "")


def broker_seen_by_gateways(
    sessions: sessionmaker[Session], now: Callable[[], datetime], stale_after: float = 3 * BEAT_EVERY_S
) -> Callable[[], dict | None]:
    """A Readiness.broker_status for `jinqiao web`: reads the gateways' heartbeat rows."""

    def status() -> dict | None:
        with sessions() as s:
            rows = list(s.scalars(select(ProcessHeartbeat).where(ProcessHeartbeat.kind == "gateway")))
        return broker_status_of(rows, now(), stale_after)

    return status
