"""The board names who the next step of a triggered alert pages (`next_tier_people`), as the
dispatcher will page them when the timer runs out: the mediator by name, the hotline's people on duty
at that instant (not now), a tier with nobody skipped, and the volunteers when the escalation wraps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.db import session_factory, transaction
from core.schema import Responder
from dispatcher.alerts import Actor, Alerts
from registry.store import import_registry
from tests.support.web import Served, bearer, make_users
from web.app import Readiness
from web.board import web_app
from web.deps import Web

BEFORE_EIGHT_PM = datetime(2026, 12, 3, 11, 57, tzinfo=UTC)  # Thursday 19:57 Beijing time


@pytest.fixture
def world(engine, example_registry):
    """The app and an Alerts shell on one clock the test moves (`clock["now"]`)."""
    sessions = session_factory(engine)
    import_registry(sessions, example_registry)
    clock = {"now": BEFORE_EIGHT_PM}
    now = lambda: clock["now"]  # noqa: E731
    alerts = Alerts(sessions, now)
    app = web_app(Readiness(engine), Web.of(sessions, alerts, now=now, secure_cookies=False))
    tokens = make_users(sessions, ["viewer"])
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["viewer"]), timeout=10) as http:
        yield http, alerts, clock
    server.stop()


def opened(alerts: Alerts, now: datetime, resident: str = "r-zhang", kind: str = "emergency") -> int:
    with transaction(alerts.sessions) as s:
        return alerts.open_alert(s, resident_id=resident, kind=kind, reason="alarm", now=now).id


def next_people(http, alert_id: int) -> list[tuple[str, str]]:
    [card] = [a for a in http.get("/api/v1/board").json()["open"] if a["id"] == alert_id]
    return [(p["role"], p["name"]) for p in card["next_tier_people"]]


def deactivate(alerts: Alerts, responder_id: str) -> None:
    with transaction(alerts.sessions) as s:
        s.get(Responder, responder_id).active = False


def test_the_mediator_by_name_then_the_hotline_on_duty_when_the_timer_runs_out(world):
    http, alerts, clock = world
    alert_id = opened(alerts, clock["now"])
    assert next_people(http, alert_id) == [("mediator", "王芳")]
    clock["now"] += timedelta(seconds=121)  # 19:59:01: the building's two minutes are over
    assert alerts.escalate_due() == 1
    # the hotline is paged at 20:01:01, when 何伟's night shift has begun; 陈静 is on duty now
    assert next_people(http, alert_id) == [("hotline", "何伟")]
    alerts.acknowledge(alert_id, Actor("王芳", "sms"))
    assert next_people(http, alert_id) == []  # taken: nothing climbs


def test_a_tier_with_nobody_is_skipped_as_the_dispatcher_skips_it(world):
    http, alerts, clock = world
    deactivate(alerts, "med-wang")
    alert_id = opened(alerts, clock["now"])  # at 19:59:00 the hotline is still 陈静's
    assert next_people(http, alert_id) == [("hotline", "陈静")]


def test_with_nobody_on_the_hotline_the_escalation_wraps_to_the_volunteers(world):
    http, alerts, clock = world
    clock["now"] = datetime(2026, 12, 3, 13, 0, tzinfo=UTC)  # 21:00: 何伟's night
    deactivate(alerts, "duty-he")
    alert_id = opened(alerts, clock["now"])
    clock["now"] += timedelta(seconds=121)
    assert alerts.escalate_due() == 1  # the mediator is paged; the hotline has nobody after it
    assert next_people(http, alert_id) == [("building", "李建国"), ("building", "赵玉兰")]


def test_a_wellness_alert_at_its_last_tier_names_the_mediator_again(world):
    http, alerts, clock = world
    alert_id = opened(alerts, clock["now"], "r-liu", "wellness")
    assert next_people(http, alert_id) == [("mediator", "王芳")]
    clock["now"] += timedelta(seconds=121)
    assert alerts.escalate_due() == 1
    assert next_people(http, alert_id) == [("mediator", "王芳")]  # its last tier repeats; never the hotline
