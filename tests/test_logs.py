"""Logs: one format per run (structlog's and the standard library's lines alike), APScheduler's
routine lines gone, and every state change of an alert one line with its code."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog
from structlog.testing import capture_logs

from core.logs import configure_logging
from tests.support.dispatch import T0, World


class Pipe(io.StringIO):
    def isatty(self) -> bool:  # a file or a pipe: JSON
        return False


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def test_off_a_terminal_every_line_is_json_whoever_logged_it(restore_logging):
    out = Pipe()
    configure_logging("info", "auto", stream=out)
    structlog.get_logger("jinqiao.test").info("test.ours", alert_id=7)
    logging.getLogger("uvicorn.error").warning("Address already in use")
    logging.getLogger("alembic.runtime.migration").info("Running upgrade 0004 -> 0005")
    logging.getLogger("apscheduler.executors.default").info('Running job "tick" (scheduled at …)')
    logging.getLogger("apscheduler.scheduler").info('Added job "tick" to job store "default"')
    logging.getLogger("apscheduler.scheduler").warning("Run time of job was missed")
    lines = out.getvalue().splitlines()
    records = [json.loads(line) for line in lines]  # every line parses: one format
    assert [r["event"] for r in records] == [
        "test.ours",
        "Address already in use",
        "Running upgrade 0004 -> 0005",
        "Run time of job was missed",
    ]  # APScheduler's routine lines are gone
    assert records[0]["alert_id"] == 7 and records[1]["level"] == "warning" and records[1]["logger"] == "uvicorn.error"
    assert all("timestamp" in r for r in records)


def test_on_a_terminal_every_line_is_the_console_format(restore_logging):
    out = Terminal()
    configure_logging("info", "auto", stream=out)
    structlog.get_logger("jinqiao.test").info("test.ours", alert_id=7)
    logging.getLogger("uvicorn.error").warning("Address already in use")
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and not any(line.startswith("{") for line in lines)
    assert "test.ours" in lines[0] and "Address already in use" in lines[1] and "warning" in lines[1]


def alert_lines(logs: list[dict]) -> list[tuple[str, str | None]]:
    state_changes = {"alert.opened", "alert.acknowledged", "alert.resolved", "alert.cancelled", "alert.reopened"}
    return [(e["event"], e.get("alert_code")) for e in logs if e["event"] in state_changes]


def test_every_state_change_of_an_alert_is_one_line_with_its_code(sessions, example_registry):
    world = World(sessions, example_registry, T0)
    with capture_logs() as logs:
        world.press()
        world.tick()
        code = world.alert().code
        world.sms_from("pm-li", "1")  # acknowledged
        world.later(hours=24, seconds=1)  # the acknowledgement expired: triggered again
        world.sms_from("pm-li", "3")  # resolved
        world.press()
        world.tick()
        second = world.alert().code
        world.press(type_="cancel")
        world.tick()
    assert alert_lines(logs) == [
        ("alert.opened", code),
        ("alert.acknowledged", code),
        ("alert.reopened", code),
        ("alert.resolved", code),
        ("alert.opened", second),
        ("alert.cancelled", second),
    ]
    steps = [e for e in logs if e["event"] == "escalation.tier_notified"]
    assert steps and all(e["alert_code"] in (code, second) for e in steps)


def test_a_providers_request_url_is_not_logged_for_it_may_carry_a_token(restore_logging):
    out = Pipe()
    configure_logging("info", stream=out)
    logging.getLogger("httpx").info(
        "HTTP Request: POST https://qyapi.weixin.qq.com/cgi-bin/message/send?access_token=s3cr3t"
    )
    logging.getLogger("jinqiao.test").info("still here")
    assert "s3cr3t" not in out.getvalue() and "still here" in out.getvalue()
