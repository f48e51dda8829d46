"""Wake-ups across processes on PostgreSQL: NOTIFY in the writer's transaction, LISTEN in the dispatcher.

The database stays the truth: a notification only says "look now". One that is lost (a listener
reconnecting) delays the work until the next one-second tick, never loses it. SQLite has no such
thing and needs none: its processes share one machine and `jinqiao up` wakes its parts directly.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import psycopg
import structlog
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

log = structlog.get_logger("jinqiao.wakeups")

EVENTS = "jinqiao_events"  # the gateway stored device events
OUTBOX = "jinqiao_outbox"  # notifications were queued


def notify(conn, channel: str) -> None:
    """Within the caller's transaction (Session or Connection): delivered at commit, dropped on rollback.

    PostgreSQL folds repeats within a transaction into one; we skip sending them at all.
    """
    if isinstance(conn, Session):  # our sessions live for one transaction: their info is its memory
        if conn.bind.dialect.name != "postgresql":  # type: ignore[union-attr]  # our sessions are always bound
            return
        sent = conn.info.setdefault("jinqiao.notified", set())
        if channel in sent:
            return
        sent.add(channel)
    elif conn.dialect.name != "postgresql":
        return
    conn.execute(text(f"NOTIFY {channel}"))


class Listener:
    """A thread holding one LISTEN connection; calls the channel's callback for each notification."""

    def __init__(self, engine: Engine, callbacks: dict[str, Callable[[], None]], retry_s: float = 1.0) -> None:
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.callbacks = callbacks
        self.retry_s = retry_s
        self._stop = threading.Event()
        self._listening = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listener", daemon=True)

    def start(self) -> Listener:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def wait_listening(self, timeout: float) -> bool:
        return self._listening.wait(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    for channel in self.callbacks:
                        conn.execute(f"LISTEN {channel}")
                    for callback in self.callbacks.values():
                        callback()  # anything that arrived while we were not listening
                    self._listening.set()
                    log.info("wakeups.listening", channels=list(self.callbacks))
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self.callbacks.get(note.channel, lambda: None)()
            except Exception as exc:  # the database restarting: listen again, the tick covers the gap
                self._listening.clear()
                log.warning("wakeups.listen_failed", error=str(exc).splitlines()[0][:200] if str(exc) else repr(exc))
                self._stop.wait(self.retry_s)
