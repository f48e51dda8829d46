"""Two dispatchers on one PostgreSQL, in one test process: each with its own engine, as two processes have.

What is checked here is what row locks and constraints must guarantee when both look at the same rows
at the same moment: one alert per resident however the presses are split, distinct alert codes, and
wake-ups that cross processes.
"""

from __future__ import annotations

import itertools
import os
import threading
from datetime import datetime, timezone

import pytest
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import wakeups
from core.db import make_engine, session_factory, transaction
from core.schema import Alert, Event
from core.wakeups import Listener
from dispatcher.alerts import Alerts
from registry.store import import_registry
from tests.support.concurrency import run_together

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
_databases = itertools.count()


@pytest.fixture
def pg(postgres, example_registry):
    url = postgres.create_database(f"conc{os.getpid()}_{next(_databases)}")
    from core.db import upgrade

    upgrade(url)
    engines = [make_engine(url) for _ in range(3)]
    import_registry(session_factory(engines[0]), example_registry)
    yield url, [session_factory(e) for e in engines]
    for e in engines:
        e.dispose()


def store_presses(sessions, device: str, n: int, prefix: str = "ev") -> None:
    with transaction(sessions) as s:
        for i in range(n):
            s.add(Event(device_id=device, event_id=f"{prefix}{i}", type="alarm", received_at=NOW, payload="{}"))


def drain(alerts: Alerts) -> None:
    while alerts.process_events(limit=1):  # one event a pass: the two dispatchers interleave press by press
        pass


def test_presses_of_one_resident_split_between_two_dispatchers_make_one_alert(pg):
    _, (s_a, s_b, _) = pg
    a, b = Alerts(s_a, lambda: NOW), Alerts(s_b, lambda: NOW)
    for round_ in range(5):
        store_presses(s_a, "pgr-0001", 8, prefix=f"r{round_}-")
        run_together(lambda: drain(a), lambda: drain(b))
        with s_a() as s:
            alerts = s.scalars(select(Alert).where(Alert.resident_id == "r-zhang")).all()
        assert len(alerts) == 1, f"round {round_}: {len(alerts)} alerts for one resident"
        assert alerts[0].repeat_presses == 8 * (round_ + 1) - 1


def test_two_dispatchers_drawing_the_same_code_end_with_two_codes(pg):
    """B checks its code while A's alert with that code is not yet committed; the unique index makes B's
    insert wait for A, then fail, and B draws again instead of giving two open alerts one code."""
    _, (s_a, s_b, _) = pg
    draws_b = iter(["4821", "5930"])
    b = Alerts(s_b, lambda: NOW, codes=lambda digits: next(draws_b))
    holding, release = threading.Event(), threading.Event()

    def dispatcher_a() -> None:  # another dispatcher, stopped half-way through opening an alert
        with transaction(s_a) as s:
            s.add(
                Alert(
                    code="4821",
                    resident_id="r-liu",
                    kind="emergency",
                    reason="alarm",
                    state="triggered",
                    opened_at=NOW,
                    updated_at=NOW,
                )
            )
            s.flush()
            holding.set()
            release.wait(20)

    t = threading.Thread(target=dispatcher_a)
    t.start()
    assert holding.wait(10)
    store_presses(s_b, "pgr-0001", 1)
    with structlog.testing.capture_logs() as logs:
        opener = threading.Thread(target=b.process_events)
        opener.start()
        opener.join(1.0)  # B waits on the index entry of A's uncommitted row
        assert opener.is_alive()
        release.set()
        t.join(10)
        opener.join(20)
    with s_a() as s:
        codes = sorted(s.scalars(select(Alert.code)).all())
    assert codes == ["4821", "5930"]
    assert any(e["event"] == "alert.code_collision" for e in logs)


def test_the_database_refuses_a_second_open_alert_with_one_code_but_not_a_closed_one(pg):
    _, (s_a, _, _) = pg

    def add(state: str) -> None:
        with transaction(s_a) as s:
            s.add(
                Alert(
                    code="1111",
                    resident_id="r-liu",
                    kind="emergency",
                    reason="alarm",
                    state=state,
                    opened_at=NOW,
                    updated_at=NOW,
                )
            )

    add("resolved")
    add("triggered")
    add("cancelled")
    with pytest.raises(IntegrityError):
        add("acknowledged")


def test_a_write_in_one_process_wakes_the_listener_of_another(pg):
    url, (s_a, _, _) = pg
    woken = {wakeups.EVENTS: threading.Event(), wakeups.OUTBOX: threading.Event()}
    listener = Listener(make_engine(url), {ch: ev.set for ch, ev in woken.items()}).start()
    try:
        assert listener.wait_listening(10)
        for ev in woken.values():
            ev.clear()  # the listener calls everyone once on connecting; what counts is what comes next
        store_presses(s_a, "pgr-0001", 1)  # a plain write: no notification
        with transaction(s_a) as s:
            wakeups.notify(s, wakeups.OUTBOX)
        assert woken[wakeups.OUTBOX].wait(5)
        assert not woken[wakeups.EVENTS].is_set()
        with transaction(s_a) as s:
            wakeups.notify(s, wakeups.EVENTS)
            wakeups.notify(s, wakeups.EVENTS)
        assert woken[wakeups.EVENTS].wait(5)
    finally:
        listener.stop()


def test_a_notification_in_a_rolled_back_transaction_wakes_nobody(pg):
    url, (s_a, _, _) = pg
    woken = threading.Event()
    listener = Listener(make_engine(url), {wakeups.OUTBOX: woken.set}).start()
    try:
        assert listener.wait_listening(10)
        woken.clear()
        with pytest.raises(RuntimeError), transaction(s_a) as s:
            wakeups.notify(s, wakeups.OUTBOX)
            raise RuntimeError("the step failed")
        assert not woken.wait(1.0)
    finally:
        listener.stop()
