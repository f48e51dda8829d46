"""`jinqiao watchdog` as a real process beside a real `jinqiao dispatcher`, paging through a fake
Twilio account of its own: the dispatcher frozen (SIGSTOP), thawed (SIGCONT), killed (SIGKILL), an
outbox nobody sends, and a restarted watchdog. Thresholds are seconds so the run is short; every
wait is for an outcome, with a deadline.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import httpx

from core.db import transaction
from core.schema import Notification
from registry.store import import_registry
from registry.validation import read_yaml, validate_registry
from simulators.fake_twilio import FakeTwilio
from tests.support.processes import free_ports
from tests.support.waiting import eventually, tail

T = TypeVar("T")
ROOT = Path(__file__).resolve().parents[1]
WD_SID = "AC" + "fedcba9876543210" * 2
WD_TOKEN = "watchdog-auth-token"
WD_FROM = "+15005550009"
OPERATOR = "+8613900000099"
HOTLINE = {"+8613900000005", "+8613900000006"}  # duty-chen or duty-he: who is on duty depends on the real clock
SILENCE_S = 5.0


def start(command: str, env_extra: dict[str, str], log_path: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    env.update({"JINQIAO_LOG_FORMAT": "json", **env_extra})
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "jinqiao.cli", command], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200
    except httpx.HTTPError:
        return False


def rounds(port: int) -> int:
    """The watchdog's rounds, from its /metrics (the database may be locked by a frozen process)."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1.0).text
    except httpx.HTTPError:
        return -1
    found = re.search(r"^jinqiao_watchdog_rounds_total ([0-9.e+]+)$", text, re.M)
    return int(float(found.group(1))) if found else -1


def more_rounds(port: int, n: int, logs) -> None:
    """Let the watchdog look `n` more times: room for a second page to show up, if there were one."""
    target = rounds(port) + n
    eventually(lambda: rounds(port) >= target, 30, f"{n} more watchdog rounds", logs)


def kill_quietly(proc: subprocess.Popen | None) -> None:
    if proc is not None and proc.poll() is None:
        proc.send_signal(signal.SIGCONT)
        proc.kill()
        proc.wait()


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def quiet_registry(example: Path):
    """The example registry without the daily check-in: no wellness alert opens on the real clock."""
    raw = read_yaml(example.read_bytes())
    for resident in raw["residents"]:
        resident.pop("checkin", None)
    return validate_registry(raw)


def test_the_watchdog_pages_once_for_a_frozen_a_killed_dispatcher_and_a_stuck_outbox(
    db_url, sessions, example_registry, tmp_path
):
    import_registry(sessions, quiet_registry(example_registry))
    d_port, w_port, fake_port = free_ports(3)
    d_log, w_log = tmp_path / "dispatcher.log", tmp_path / "watchdog.log"
    logs = (d_log, w_log)
    watchdog_env = {
        "JINQIAO_DATABASE_URL": db_url,
        "JINQIAO_WATCHDOG_HTTP_PORT": str(w_port),
        "JINQIAO_WATCHDOG_INTERVAL": "0.3",
        "JINQIAO_WATCHDOG_PROCESS_SILENCE": str(SILENCE_S),
        "JINQIAO_WATCHDOG_STEP_OVERDUE": "5",
        "JINQIAO_WATCHDOG_OUTBOX_STUCK": "2",
        "JINQIAO_WATCHDOG_TWILIO_ACCOUNT_SID": WD_SID,
        "JINQIAO_WATCHDOG_TWILIO_AUTH_TOKEN": WD_TOKEN,
        "JINQIAO_WATCHDOG_TWILIO_FROM": WD_FROM,
        "JINQIAO_WATCHDOG_PHONES": OPERATOR,
    }
    dispatcher = watchdog = None
    with FakeTwilio(auth_token=WD_TOKEN, account_sid=WD_SID, port=fake_port, speed=10) as fake:
        watchdog_env["JINQIAO_WATCHDOG_TWILIO_API_URL"] = fake.url

        def pages() -> list[tuple[str, str]]:
            return [(m.to, m.body or "") for m in fake.messages if m.from_ == WD_FROM]

        def phase(first: int, count: int, what: str) -> list[tuple[str, str]]:
            eventually(lambda: len(pages()) >= first + count, 30, what, logs)
            more_rounds(w_port, 5, logs)
            got = pages()[first:]
            assert len(got) == count, f"{what}: {got}"
            numbers = sorted(to for to, _ in got)
            assert numbers[-1] == OPERATOR and numbers[0] in HOTLINE, numbers  # one each, nobody twice
            return got

        try:
            dispatcher = start(
                "dispatcher",
                {
                    "JINQIAO_DATABASE_URL": db_url,
                    "JINQIAO_DISPATCHER_HTTP_PORT": str(d_port),
                    "JINQIAO_HEARTBEAT_INTERVAL": "0.5",
                },
                d_log,
            )
            eventually(lambda: answers(d_port), 30, "the dispatcher's /healthz", logs)
            watchdog = start("watchdog", watchdog_env, w_log)
            eventually(lambda: answers(w_port), 30, "the watchdog's /healthz", logs)
            more_rounds(w_port, 5, logs)
            assert pages() == [], "a healthy dispatcher was paged for"

            # 1. frozen: one page to the hotline on duty and one to the operator, and no more
            dispatcher.send_signal(signal.SIGSTOP)
            stopped_at = time.monotonic()
            frozen = phase(0, 2, "the page for the frozen dispatcher")
            assert all("调度进程" in text and "无心跳" in text for _, text in frozen), frozen
            assert time.monotonic() - stopped_at >= SILENCE_S - 0.5, "paged before the threshold"

            # 2. thawed: the same two are told it is over
            dispatcher.send_signal(signal.SIGCONT)
            recovered = phase(2, 2, "the recovery message")
            assert sorted(to for to, _ in recovered) == sorted(to for to, _ in frozen)
            assert all(text.startswith("【金桥监护】已恢复：调度进程") for _, text in recovered), recovered

            # 3. killed: a new fault, one page each again
            dispatcher.send_signal(signal.SIGKILL)
            dispatcher.wait(10)
            killed = phase(4, 2, "the page for the killed dispatcher")
            assert all("无心跳" in text for _, text in killed), killed

            # 4. an outbox row nobody sends (no dispatcher runs): one page each
            with transaction(sessions) as s:
                now = datetime.now(timezone.utc)
                s.add(
                    Notification(
                        dedupe_key="stuck-1",
                        to_number="+8613900000001",
                        channel="sms",
                        purpose="page",
                        body="…",
                        status="queued",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
            stuck = phase(6, 2, "the page for the stuck outbox")
            assert all("滞留未发出" in text for _, text in stuck), stuck

            # 5. a restarted watchdog knows what it paged: nothing again
            assert stop(watchdog) == 0, tail(w_log)
            watchdog = start("watchdog", watchdog_env, w_log)
            eventually(lambda: answers(w_port), 30, "the restarted watchdog's /healthz", logs)
            more_rounds(w_port, 5, logs)
            assert len(pages()) == 8, pages()[8:]
            assert stop(watchdog) == 0, tail(w_log)
        finally:
            kill_quietly(dispatcher)
            kill_quietly(watchdog)


def test_a_dispatcher_stopped_with_sigterm_marks_its_heartbeat_stopped(db_url, sessions, tmp_path):
    from sqlalchemy import select

    from core.db import reading
    from core.schema import ProcessHeartbeat

    (port,) = free_ports(1)
    log = tmp_path / "dispatcher.log"

    def row() -> ProcessHeartbeat | None:
        with reading(sessions) as s:
            return s.scalars(select(ProcessHeartbeat).where(ProcessHeartbeat.kind == "dispatcher")).first()

    proc = start(
        "dispatcher",
        {
            "JINQIAO_DATABASE_URL": db_url,
            "JINQIAO_DISPATCHER_HTTP_PORT": str(port),
            "JINQIAO_INSTANCE_NAME": "dispatcher-1",
            "JINQIAO_HEARTBEAT_INTERVAL": "0.5",
        },
        log,
    )
    try:
        beating = eventually(row, 30, "the dispatcher's heartbeat row", (log,))
        assert (beating.name, beating.pid, beating.stopped_at) == ("dispatcher-1", proc.pid, None)
        assert stop(proc) == 0, tail(log)
        stopped = row()
        assert stopped.stopped_at is not None and stopped.stopped_at >= stopped.beat_at
    finally:
        kill_quietly(proc)
