"""The dispatcher as real processes: killed with SIGKILL mid-escalation, and two at once on one PostgreSQL.

Each test runs `python -m jinqiao.cli dispatcher` against a fake Twilio (simulators/fake_twilio.py)
and a real database, and checks what left the building: every request the fake received is mapped
back to its outbox row by its SID, so a page sent twice (a second request for one row, or a second
row for one step) shows up.

Deliveries succeed (SMS delivered, calls answered by a human who presses nothing), so every step
below is reached by its timeout: if all deliveries of a tier failed, the dispatcher would move on at
once by design, and these tests would no longer be about timers.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select

from core.db import make_engine, session_factory, upgrade
from core.schema import Alert, Event, Notification, TimelineEntry
from registry.entries import RegistryDoc
from registry.store import import_registry
from registry.validation import read_yaml, validate_registry
from simulators.fake_twilio import FakeTwilio, Sent
from tests.support.processes import free_ports, kill_quietly, log_tail, stop
from tests.support.waiting import eventually

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "test-auth-token"
FROM = "+15005550006"
PHONES = {
    "pm-li": "+8613900000001",
    "pm-zhao": "+8613900000002",
    "med-wang": "+8613900000004",
    "duty-chen": "+8613900000005",
    "duty-he": "+8613900000006",
}
FAMILY = "+61400000001"  # r-zhang's son, `notify: true` in the example registry
HOTLINE = {PHONES["duty-chen"], PHONES["duty-he"]}  # who is on duty depends on the real clock
DATABASES = os.environ.get("JINQIAO_TEST_DATABASES", "sqlite,postgresql").split(",")


# --- helpers -------------------------------------------------------------------------------------


def registry(example: Path, timeouts: dict[str, str], extra_residents: int = 0) -> RegistryDoc:
    """The example registry with short tier timeouts and, optionally, more residents in wulin-3."""
    raw = read_yaml(example.read_bytes())
    for tier in raw["escalation"]["tiers"]:
        tier["timeout"] = timeouts[tier["tier"]]
    for i in range(extra_residents):
        raw["residents"].append(
            {
                "id": f"r-load-{i:02d}",
                "name": f"住户{i:02d}",
                "building": "wulin-3",
                "address": f"幸福里3幢{i // 10 + 1}单元{100 + i}",
            }
        )
        raw["devices"].append({"id": f"pgr-load-{i:02d}", "resident": f"r-load-{i:02d}", "kind": "pager"})
    return validate_registry(raw)


def start_dispatcher(db_url: str, port: int, public_port: int, fake: FakeTwilio, log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    env.update(
        {
            "JINQIAO_DATABASE_URL": db_url,
            "JINQIAO_HTTP_HOST": "127.0.0.1",
            "JINQIAO_DISPATCHER_HTTP_PORT": str(port),
            "JINQIAO_PUBLIC_URL": f"http://127.0.0.1:{public_port}",
            "JINQIAO_TWILIO_ACCOUNT_SID": SID,
            "JINQIAO_TWILIO_AUTH_TOKEN": TOKEN,
            "JINQIAO_TWILIO_FROM": FROM,
            "JINQIAO_TWILIO_API_URL": fake.url,
            "JINQIAO_SMS_PER_SECOND": "50",
            "JINQIAO_CALLS_PER_SECOND": "50",
            "JINQIAO_LOG_FORMAT": "json",
            "JINQIAO_MEDIATOR_SUMMARY_AT": "off",  # its 08:30 SMS would be counted with the pages
        }
    )
    with open(log_path, "ab") as log:  # structlog writes to stderr; both go to the file
        return subprocess.Popen(
            [sys.executable, "-m", "jinqiao.cli", "dispatcher"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def wait_ready(proc: subprocess.Popen, port: int, log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the dispatcher exited with {proc.returncode} at start-up:\n{log_tail(log_path)}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    pytest.fail(f"the dispatcher did not answer /healthz in {timeout}s:\n{log_tail(log_path)}")


def fake_saw(fake: FakeTwilio, predicate: Callable[[], T], timeout: float, what: str) -> T:
    try:
        return fake.wait_for(predicate, timeout=timeout)
    except TimeoutError:
        raise AssertionError(f"the fake Twilio did not see {what} within {timeout}s") from None


def press(sessions, device_id: str, event_id: str) -> None:
    """What the gateway stores for a button press."""
    with sessions.begin() as s:
        s.add(
            Event(
                device_id=device_id,
                event_id=event_id,
                type="alarm",
                received_at=datetime.now(timezone.utc),
                payload="{}",
            )
        )


def sent_all(fake: FakeTwilio) -> list[Sent]:
    return fake.messages + fake.calls


def to_of(sends: list[Sent], number: str, kind: str) -> list[Sent]:
    return [s for s in sends if s.to == number and s.kind == kind]


def notifications(sessions) -> list[Notification]:
    with sessions() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def all_recorded(sessions, minimum: int) -> bool:
    """At least `minimum` outbox rows, none queued or mid-send: the database knows what went out."""
    notes = notifications(sessions)
    return len(notes) >= minimum and all(n.status not in ("queued", "sending") for n in notes)


def check_sends_match_outbox(sends: list[Sent], notes: list[Notification]) -> dict[str, Notification]:
    """Every request the fake accepted is one outbox row, and every row that went out is one request."""
    by_sid = {n.provider_sid: n for n in notes if n.provider_sid}
    sids = Counter(s.sid for s in sends)
    assert len(by_sid) == len([n for n in notes if n.provider_sid]), "two outbox rows share a provider SID"
    orphans = [(s.to, s.kind, s.body) for s in sends if s.sid not in by_sid]
    assert not orphans, f"sent, but no outbox row records it (a second send of one row?): {orphans}"
    unsent = [
        (n.id, n.to_number, n.channel, n.status)
        for n in notes
        if n.status not in ("skipped",) and (n.provider_sid is None or sids[n.provider_sid] != 1)
    ]
    assert not unsent, f"outbox rows without exactly one request at the fake: {unsent}"
    return by_sid


# --- 1. SIGKILL mid-escalation ---------------------------------------------------------------------


def test_sigkill_mid_escalation_the_next_tier_fires_on_restart_and_no_tier_is_sent_twice(
    db_url, sessions, example_registry, tmp_path
):
    import_registry(sessions, registry(example_registry, {"building": "3s", "mediator": "3s", "hotline": "10m"}))
    port, fake_port = free_ports(2)
    log = tmp_path / "dispatcher.log"
    proc = None
    with FakeTwilio(
        auth_token=TOKEN, account_sid=SID, webhook_base=f"http://127.0.0.1:{port}", port=fake_port, speed=10
    ) as fake:
        fake.set_behaviour(sms_status="delivered", call_answer="human")  # nobody presses a key: no ack
        try:
            proc = start_dispatcher(db_url, port, port, fake, log)
            wait_ready(proc, port, log)
            press(sessions, "pgr-0001", "ev-1")

            building = [(PHONES[p], k) for p in ("pm-li", "pm-zhao") for k in ("sms", "call")]
            fake_saw(fake, lambda: all(to_of(sent_all(fake), n, k) for n, k in building), 15, "the building tier")
            # Kill only once the database recorded those sends: a kill between a send and its record is
            # the one case in which the contract allows a message twice, and not the case tested here.
            eventually(lambda: all_recorded(sessions, minimum=5), 10, "the building pages and the family SMS recorded")
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)

            with sessions() as s:
                alert = s.scalars(select(Alert)).one()
            assert alert.state == "triggered"
            assert alert.tier_index == 0, "the kill came after the mediator step: the test proves nothing"
            assert not to_of(sent_all(fake), PHONES["med-wang"], "sms")

            # Dead past the building timeout: the mediator step is overdue when the dispatcher comes back.
            overdue = (alert.next_action_at - datetime.now(timezone.utc)).total_seconds() + 1.0
            time.sleep(max(0.0, overdue))
            assert not to_of(sent_all(fake), PHONES["med-wang"], "sms")

            restarted_at = datetime.now(timezone.utc)
            proc = start_dispatcher(db_url, port, port, fake, log)
            fake_saw(
                fake,
                lambda: to_of(sent_all(fake), PHONES["med-wang"], "sms"),
                15,
                "the overdue mediator page after the restart",
            )
            mediator_sms = to_of(sent_all(fake), PHONES["med-wang"], "sms")[0]
            latency = (mediator_sms.time - restarted_at).total_seconds()
            print(f"\nmediator paged {latency:.2f}s after the restart began (process start-up included)")
            assert latency < 8.0, f"the overdue mediator step took {latency:.1f}s after the restart"

            fake_saw(
                fake,
                lambda: [s for s in sent_all(fake) if s.to in HOTLINE and s.kind == "call"],
                15,
                "the hotline call",
            )
            eventually(lambda: all_recorded(sessions, minimum=9), 10, "the hotline pages recorded")
            time.sleep(0.5)  # room for a duplicate to show up
            assert stop(proc) == 0, f"the dispatcher did not stop cleanly on SIGTERM:\n{log_tail(log)}"
        finally:
            kill_quietly(proc)
        sends = sent_all(fake)

    notes = notifications(sessions)
    hotline_numbers = {n.to_number for n in notes if n.purpose == "page" and n.tier_index == 2}
    assert len(hotline_numbers) == 1 and hotline_numbers <= HOTLINE, hotline_numbers
    (hotline,) = hotline_numbers

    # What the fake received: each page once, the family once, nothing else.
    expected = Counter(
        {(n, k): 1 for n in (PHONES["pm-li"], PHONES["pm-zhao"], PHONES["med-wang"], hotline) for k in ("sms", "call")}
    )
    expected[(FAMILY, "sms")] = 1
    assert Counter((s.to, s.kind) for s in sends) == expected
    check_sends_match_outbox(sends, notes)

    # What the database recorded: one page per (tier, round, person, channel), three steps in order.
    pages = Counter((n.tier_index, n.tier_round, n.responder_id, n.channel) for n in notes if n.purpose == "page")
    assert set(pages.values()) == {1}, pages
    assert sorted({(t, r) for t, r, _, _ in pages}) == [(0, 0), (1, 0), (2, 0)]
    with sessions() as s:
        steps = list(
            s.scalars(select(TimelineEntry).where(TimelineEntry.what == "tier_notified").order_by(TimelineEntry.id))
        )
    assert [e.detail["step"] for e in steps] == [1, 2, 3]
    assert [e.detail["tier"] for e in steps] == ["building", "mediator", "hotline"]

    # The hotline came after the mediator's own timeout, counted from when the late mediator step ran
    # (not at once with it: no step skipped or merged, however late the restart).
    gap = (steps[2].at - steps[1].at).total_seconds()
    print(f"hotline step {gap:.2f}s after the mediator step (timeout 3s)")
    assert gap >= 2.99, f"the hotline step came {gap:.2f}s after the mediator step; its timeout is 3s"
    assert to_of(sends, hotline, "sms")[0].time > mediator_sms.time


def test_sigkill_mid_send_the_page_goes_out_within_seconds_of_the_restart(db_url, sessions, example_registry, tmp_path):
    """Killed while the provider had not yet answered for two pages: those rows were `sending`, owned
    by the dead process. Their lease runs out within seconds, and the restarted dispatcher sends them
    then, once each (the hung requests never reached the provider), not after a fixed stale minute."""
    import_registry(sessions, registry(example_registry, {"building": "10m", "mediator": "10m", "hotline": "10m"}))
    port, fake_port = free_ports(2)
    log = tmp_path / "dispatcher.log"
    proc = None
    li = PHONES["pm-li"]
    with FakeTwilio(
        auth_token=TOKEN, account_sid=SID, webhook_base=f"http://127.0.0.1:{port}", port=fake_port, speed=10
    ) as fake:
        fake.set_behaviour(sms_status="delivered", call_answer="human")
        fake.set_behaviour(li, api_timeout=60, times=2)  # 李建国's SMS and call requests hang, never taken
        try:
            proc = start_dispatcher(db_url, port, port, fake, log)
            wait_ready(proc, port, log)
            press(sessions, "pgr-0001", "ev-1")

            def hung() -> list[Notification]:
                rows = [n for n in notifications(sessions) if n.to_number == li and n.purpose == "page"]
                return rows if len(rows) == 2 and all(n.status == "sending" for n in rows) else []

            first = eventually(hung, 10, "李建国's SMS and call in `sending`")
            # alive, the owner renews its leases while the requests hang: nobody may take the rows
            eventually(
                lambda: (rows := hung()) and min(n.lease_until for n in rows) > max(n.lease_until for n in first),
                8,
                "the leases renewed",
            )
            # the other pages of the step (赵玉兰, the family) recorded first: on a loaded machine one of
            # them could still be in flight, and a kill then is the "died between sending and recording"
            # case SPEC 4 allows a second send for, which is not what this test is about
            others = lambda: [n for n in notifications(sessions) if n.to_number != li]  # noqa: E731
            eventually(
                lambda: len(others()) >= 3 and all(n.provider_sid for n in others()),
                15,
                "the step's other pages recorded",
            )
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
            assert not to_of(sent_all(fake), li, "sms") and not to_of(sent_all(fake), li, "call")

            restarted_at = datetime.now(timezone.utc)
            proc = start_dispatcher(db_url, port, port, fake, log)
            both = lambda: to_of(sent_all(fake), li, "sms") and to_of(sent_all(fake), li, "call")  # noqa: E731
            fake_saw(fake, both, 20, "李建国's SMS and call after the restart")
            latency = max((s.time - restarted_at).total_seconds() for s in sent_all(fake) if s.to == li)
            print(f"\nthe pages left by the dead process went out {latency:.2f}s after the restart began")
            assert latency < 15.0, f"the pages a dead process left in `sending` took {latency:.1f}s after the restart"
            eventually(lambda: all_recorded(sessions, minimum=5), 10, "every row recorded")
            assert stop(proc) == 0, f"the dispatcher did not stop cleanly on SIGTERM:\n{log_tail(log)}"
        finally:
            kill_quietly(proc)
        sends = sent_all(fake)
    assert len(to_of(sends, li, "sms")) == 1 and len(to_of(sends, li, "call")) == 1
    notes = notifications(sessions)
    rows = [n for n in notes if n.to_number == li and n.purpose == "page"]
    assert {(n.attempts, n.claimed_by != first[0].claimed_by) for n in rows} == {(2, True)}
    check_sends_match_outbox(sends, notes)


# --- 2. two dispatchers, one PostgreSQL ------------------------------------------------------------

ALERTS = 30


def log_events(path: Path, event: str) -> list[dict]:
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == event:
                found.append(entry)
    return found


@pytest.mark.skipif("postgresql" not in DATABASES, reason="JINQIAO_TEST_DATABASES leaves out PostgreSQL")
def test_two_dispatchers_on_postgresql_run_every_step_exactly_once(postgres, example_registry, tmp_path):
    url = postgres.create_database(f"procs{os.getpid()}")
    upgrade(url)
    engine = make_engine(url)
    try:
        _two_dispatchers(url, session_factory(engine), example_registry, tmp_path)
    finally:
        engine.dispose()


def _two_dispatchers(url: str, sessions, example_registry: Path, tmp_path: Path) -> None:
    import_registry(
        sessions,
        registry(example_registry, {"building": "2s", "mediator": "2s", "hotline": "10m"}, extra_residents=ALERTS),
    )
    *ports, fake_port = free_ports(3)
    logs = [tmp_path / "dispatcher-a.log", tmp_path / "dispatcher-b.log"]
    procs: list[subprocess.Popen] = []
    per_alert = 8  # building: 2 people × (sms, call); mediator: sms, call; hotline: sms, call
    try:
        with FakeTwilio(
            auth_token=TOKEN, account_sid=SID, webhook_base=f"http://127.0.0.1:{ports[0]}", port=fake_port, speed=10
        ) as fake:
            fake.set_behaviour(sms_status="delivered", call_answer="human")
            for port, log in zip(ports, logs, strict=False):  # both sign webhooks over the public URL of the first
                procs.append(start_dispatcher(url, port, ports[0], fake, log))
            for proc, port, log in zip(procs, ports, logs, strict=False):
                wait_ready(proc, port, log)

            # Presses arrive over about two seconds, as they would from many homes, so both dispatchers'
            # one-second passes find some of them.
            began = time.monotonic()
            for batch in range(6):
                for i in range(batch * 5, batch * 5 + 5):
                    press(sessions, f"pgr-load-{i:02d}", f"ev-{i}")
                time.sleep(0.35)
            fake_saw(
                fake,
                lambda: len(sent_all(fake)) >= ALERTS * per_alert,
                40,
                f"{ALERTS * per_alert} pages (every alert through the three tiers)",
            )
            took = time.monotonic() - began
            eventually(lambda: all_recorded(sessions, minimum=ALERTS * per_alert), 15, "every page recorded")
            time.sleep(1.0)  # room for a duplicate to show up
            codes = [stop(p) for p in procs]
            assert codes == [0, 0], f"exit codes {codes}:\n{log_tail(logs[0])}\n---\n{log_tail(logs[1])}"
            sends = sent_all(fake)
    finally:
        for p in procs:
            kill_quietly(p)

    print(f"\n{ALERTS} alerts through building → mediator → hotline on two dispatchers in {took:.1f}s")
    with sessions() as s:
        alerts = {a.id: a for a in s.scalars(select(Alert))}
    notes = notifications(sessions)
    assert len(alerts) == ALERTS
    assert len({a.resident_id for a in alerts.values()}) == ALERTS, "one resident got two alerts"
    assert all(a.state == "triggered" and a.tier_index == 2 and a.step == 3 for a in alerts.values()), [
        (a.code, a.state, a.tier_index, a.step) for a in alerts.values()
    ]

    # The database: no step twice. The unique dedupe key rules out equal keys; this rules out a step
    # taken twice under two step numbers (two rows for one tier and round).
    pages = Counter(
        (n.alert_id, n.cycle, n.tier_index, n.tier_round, n.responder_id, n.channel)
        for n in notes
        if n.purpose == "page"
    )
    assert [k for k, c in pages.items() if c > 1] == []
    assert len(notes) == len(pages) == ALERTS * per_alert, Counter(n.purpose for n in notes)
    for alert_id in alerts:
        tiers = Counter((t, ch) for (a, _, t, _, _, ch) in pages if a == alert_id)
        assert tiers == {
            (0, "sms"): 2,
            (0, "voice"): 2,
            (1, "sms"): 1,
            (1, "voice"): 1,
            (2, "sms"): 1,
            (2, "voice"): 1,
        }, (alert_id, tiers)

    # The fake: every request is one outbox row; per alert, each person got one SMS and one call.
    by_sid = check_sends_match_outbox(sends, notes)
    assert len(sends) == ALERTS * per_alert
    per_person = Counter((by_sid[s.sid].alert_id, s.to, s.kind) for s in sends)
    assert set(per_person.values()) == {1}, [k for k, c in per_person.items() if c > 1]
    for s in sends:
        if s.kind == "sms":  # the code in the body is the code of the alert the row belongs to
            assert re.search(r"编号(\d{4})", s.body).group(1) == alerts[by_sid[s.sid].alert_id].code

    # Both processes did part of the work. Each logs `sms.sent` once per SMS it sent; together they
    # must account for every SMS the fake received, and each must have sent some. Which process wins
    # a given pass is chance, but not whether both get work: one sender sends about 25 requests a
    # second and each step queues up to 60 at once, so rows wait in the queue for the other process's
    # one-second tick many times over this run (observed splits: 60/60, 80/40, 45/75, 35/85).
    sent_by = [len(log_events(log, "sms.sent")) for log in logs]
    opened_by = [len(log_events(log, "alert.opened")) for log in logs]
    steps_by = [len(log_events(log, "escalation.tier_notified")) for log in logs]
    print(f"sms.sent per process {sent_by}; alerts opened {opened_by}; tier steps {steps_by}")
    assert sum(sent_by) == len([s for s in sends if s.kind == "sms"])
    assert sum(opened_by) == ALERTS and sum(steps_by) == ALERTS * 3
    assert all(sent_by), f"one dispatcher sent nothing: {sent_by}"
