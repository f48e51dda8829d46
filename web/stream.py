"""The board's live stream (Server-Sent Events) of alert changes.

The database is the truth, and the dispatcher may be another process, so one poller thread per web
process watches it (every 100 ms) and wakes the connected boards' streams when something changed;
each stream then reads the timeline entries after its own cursor (see Cursor). Each entry is an event whose SSE
id is the entry's id: a board that reconnects (EventSource does so by itself, e.g. after a server
restart) sends Last-Event-ID and gets every entry it missed. Changes that write no timeline entry
(a notification sent or delivered, a maintenance item opened or closed) come as an id-less
`changed` event.
The poller runs only while someone listens.
"""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from core.clock import utcnow
from core.schema import Alert, DeliveryReport, MaintenanceItem, Notification, TimelineEntry

log = structlog.get_logger("jinqiao.stream")
SETTLE = timedelta(seconds=10)
POLL_S = 0.1  # a few small queries per poll, for each web process, not each board
MAX_CATCH_UP = 1000


def entries_since(s: Session, after: int, limit: int = MAX_CATCH_UP) -> list[dict[str, Any]]:
    rows = s.execute(
        select(TimelineEntry, Alert.kind, Alert.code)
        .join(Alert, Alert.id == TimelineEntry.alert_id)
        .where(TimelineEntry.id > after)
        .order_by(TimelineEntry.id)
        .limit(limit)
    ).all()
    return [
        {
            "id": t.id,
            "alert_id": t.alert_id,
            "what": t.what,
            "actor": t.actor,
            "channel": t.channel,
            "at": t.at.isoformat(),
            "kind": kind,
            "code": code,
        }
        for t, kind, code in rows
    ]


@dataclass
class Cursor:
    """Where a reader is in the timeline, safe against commits out of id order.

    Ids are handed out before commit: on PostgreSQL a transaction that drew a lower id may commit
    after one that drew a higher id. So the cursor moves only past entries older than SETTLE
    (no transaction is open that long), and the ids above it already handed out are remembered.
    """

    after: int
    sent: set[int] = field(default_factory=set)

    def read(self, s: Session, now: datetime) -> list[dict[str, Any]]:
        entries = entries_since(s, self.after)
        new = [e for e in entries if e["id"] not in self.sent]
        self.sent.update(e["id"] for e in new)
        for e in entries:
            if datetime.fromisoformat(e["at"]) > now - SETTLE:
                break
            self.after = e["id"]
        self.sent = {i for i in self.sent if i > self.after}
        return new


def newest_id(s: Session) -> int:
    return s.scalar(select(func.max(TimelineEntry.id))) or 0


def fingerprint(s: Session) -> tuple:
    """Changes that write no timeline entry: notifications queued, sent, reported on; maintenance
    items opened (a new id) or closed (one open item fewer)."""
    return (
        *s.execute(select(func.max(Notification.id), func.max(Notification.sent_at))).one(),
        s.scalar(select(func.max(DeliveryReport.id))),
        s.scalar(select(func.max(MaintenanceItem.id))),
        s.scalar(select(func.count()).select_from(MaintenanceItem).where(MaintenanceItem.closed_at.is_(None))),
    )


@dataclass(eq=False)  # each one is itself, kept in a set
class Subscriber:
    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue

    def put(self, item: tuple[str, Any]) -> None:
        self.loop.call_soon_threadsafe(self.queue.put_nowait, item)


@dataclass
class Hub:
    sessions: sessionmaker[Session]
    poll_s: float = POLL_S
    _subscribers: set = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def subscribe(self) -> Subscriber:
        sub = Subscriber(asyncio.get_running_loop(), asyncio.Queue())
        with self._lock:
            self._subscribers.add(sub)
            if self._thread is None or not self._thread.is_alive():
                self._stop = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stop,), name="board-stream", daemon=True)
                self._thread.start()
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        with self._lock:
            self._subscribers.discard(sub)
            if not self._subscribers:
                self._stop.set()

    def close(self) -> None:
        with self._lock:
            self._stop.set()
            for sub in self._subscribers:
                sub.put(("close", None))

    def _broadcast(self, item: tuple[str, Any]) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for sub in subs:
            sub.put(item)

    def _run(self, stop: threading.Event) -> None:
        cursor, seen = None, None
        while not stop.is_set():
            try:
                with self.sessions() as s:
                    if cursor is None:
                        cursor, seen = Cursor(newest_id(s)), fingerprint(s)
                    entries = cursor.read(s, utcnow())
                    printed = fingerprint(s)
                if entries or printed != seen:
                    self._broadcast(("wake", None))
                seen = printed
            except Exception as exc:  # the database may be away for a while; the boards keep their connection
                log.warning("stream.poll_failed", error=str(exc).splitlines()[0][:200])
                stop.wait(1.0)
            stop.wait(self.poll_s)


def sse(event: str, data: Any, event_id: int | None = None) -> str:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"
