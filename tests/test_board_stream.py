"""The live stream works when `jinqiao web` is a process of its own: the database is the truth.
A change made elsewhere arrives as an event; after a restart Last-Event-ID catches up."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading

import httpx
import pytest

from core.settings import load_settings
from dispatcher.service import build_dispatcher
from registry.store import import_registry
from simulators.services import free_port, wait_for_port
from tests.support.web import bearer, make_users, open_alert


class Events:
    """Reads a Server-Sent Events response on a thread: (event, id, data) tuples on a queue."""

    def __init__(self, url: str, headers: dict) -> None:
        self.q: queue.Queue = queue.Queue()
        self.status: int | None = None
        self.client = httpx.Client(timeout=httpx.Timeout(10, read=60))
        self.ready = threading.Event()
        threading.Thread(target=self._run, args=(url, headers), daemon=True).start()
        assert self.ready.wait(10)

    def _run(self, url, headers) -> None:
        try:
            with self.client.stream("GET", url, headers=headers) as r:
                self.status = r.status_code
                self.ready.set()
                event, eid, data = "message", None, ""
                for line in r.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("id:"):
                        eid = int(line[3:].strip())
                    elif line.startswith("data:"):
                        data += line[5:].strip()
                    elif line == "":
                        if data:
                            self.q.put((event, eid, json.loads(data)))
                        event, eid, data = "message", None, ""
        except Exception:
            pass
        finally:
            self.ready.set()
            self.q.put(("closed", None, None))

    def next(self, kind: str, timeout: float = 10) -> tuple:
        while True:
            event = self.q.get(timeout=timeout)
            if event[0] in (kind, "closed"):
                return event

    def close(self) -> None:
        self.client.close()


def start_web(db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, "JINQIAO_DATABASE_URL": db_url, "JINQIAO_HTTP_PORT": str(port), "JINQIAO_LOG_LEVEL": "warning"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jinqiao.cli", "web"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for_port(port, 30)
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def world(db_url, engine, sessions, example_registry):
    import_registry(sessions, example_registry)
    tokens = make_users(sessions, ["viewer"])
    dispatcher = build_dispatcher(load_settings(database_url=db_url), engine)  # "the dispatcher process"
    return dispatcher, tokens["viewer"]


def test_a_press_elsewhere_reaches_the_board_stream_of_a_separate_web_process(db_url, world):
    dispatcher, token = world
    port = free_port()
    web = start_web(db_url, port)
    events = None
    try:
        anonymous = httpx.get(f"http://127.0.0.1:{port}/api/v1/stream")
        assert anonymous.status_code == 401
        events = Events(f"http://127.0.0.1:{port}/api/v1/stream", bearer(token))
        assert events.status == 200
        hello = events.next("hello")
        assert hello[2]["user"] == "viewer"
        alert_id = open_alert(dispatcher)
        kind, eid, entry = events.next("entry")
        assert kind == "entry" and entry["alert_id"] == alert_id and entry["what"] == "opened"
        assert entry["kind"] == "emergency" and eid == entry["id"]
    finally:
        if events:
            events.close()
        stop(web)


def test_a_maintenance_item_opened_or_closed_elsewhere_reaches_the_stream(db_url, world, sessions):
    """No timeline entry comes with a low battery: the board's device tab must hear of it all the same."""
    from datetime import datetime, timezone

    from core.db import transaction
    from core.schema import MaintenanceItem

    _, token = world
    port = free_port()
    web = start_web(db_url, port)
    events = None
    try:
        events = Events(f"http://127.0.0.1:{port}/api/v1/stream", bearer(token))
        events.next("hello")
        now = datetime.now(timezone.utc)
        with transaction(sessions) as s:
            item = MaintenanceItem(
                device_id="pgr-0001",
                resident_id="r-zhang",
                reason="battery_low",
                battery=9,
                source_event=1,
                opened_at=now,
            )
            s.add(item)
        assert events.next("changed")[0] == "changed"
        with transaction(sessions) as s:
            s.get(MaintenanceItem, item.id).closed_at = now
        assert events.next("changed")[0] == "changed"
    finally:
        if events:
            events.close()
        stop(web)


def test_after_a_restart_last_event_id_catches_up(db_url, world):
    dispatcher, token = world
    first = open_alert(dispatcher)
    port = free_port()
    web = start_web(db_url, port)
    try:
        with httpx.Client(headers=bearer(token)) as http:
            ids = [e["id"] for e in http.get(f"http://127.0.0.1:{port}/api/v1/alerts/{first}").json()["timeline"]]
    finally:
        stop(web)
    # while the web process is down, another alert opens and the first is acknowledged
    second = open_alert(dispatcher, resident_id="r-liu")
    from dispatcher.alerts import Actor

    dispatcher.alerts.acknowledge(first, Actor("王芳", "sms"))
    web = start_web(db_url, port)
    events = None
    try:
        events = Events(f"http://127.0.0.1:{port}/api/v1/stream", {**bearer(token), "Last-Event-ID": str(ids[-1])})
        missed, eids = [], []
        while True:
            kind, eid, data = events.next("entry", timeout=10)
            assert kind == "entry", "the stream closed before catching up"
            missed.append((data["alert_id"], data["what"]))
            eids.append(eid)
            if (first, "acknowledged") in missed:
                break
        assert (second, "opened") in missed and missed.index((second, "opened")) < missed.index((first, "acknowledged"))
        assert eids == sorted(eids) and eids[0] > ids[-1]  # only what was missed, in order
    finally:
        if events:
            events.close()
        stop(web)


def test_a_bad_last_event_id_is_a_clear_422(db_url, world):
    _, token = world
    port = free_port()
    web = start_web(db_url, port)
    try:
        r = httpx.get(f"http://127.0.0.1:{port}/api/v1/stream", headers={**bearer(token), "Last-Event-ID": "yesterday"})
        assert r.status_code == 422
    finally:
        stop(web)


def test_the_cursor_finds_an_entry_that_commits_after_a_higher_id(world, sessions):
    """On PostgreSQL ids are drawn before commit: id 20 may be visible before id 15 is."""
    from datetime import datetime, timedelta, timezone

    from core.db import transaction
    from core.schema import TimelineEntry
    from web.stream import SETTLE, Cursor

    dispatcher, _ = world
    alert_id = open_alert(dispatcher)
    now = datetime.now(timezone.utc)
    with sessions() as s:
        cursor = Cursor(0)
        first = {e["id"] for e in cursor.read(s, now)}
    with transaction(sessions) as s:
        s.add(TimelineEntry(id=1000, alert_id=alert_id, at=now, what="late_high", actor="t", channel="web", detail={}))
    with sessions() as s:
        assert [e["what"] for e in cursor.read(s, now)] == ["late_high"]
    with transaction(sessions) as s:
        s.add(TimelineEntry(id=900, alert_id=alert_id, at=now, what="late_low", actor="t", channel="web", detail={}))
    with sessions() as s:
        assert [e["what"] for e in cursor.read(s, now)] == ["late_low"]  # found, and only once
        assert cursor.read(s, now) == []
        later = now + SETTLE + timedelta(seconds=1)
        assert cursor.read(s, later) == [] and cursor.after == 1000 and cursor.sent == set()
    assert first
