"""The dispatcher's passes: one list for the engine and the tests' World; one failing pass stops no other."""

from __future__ import annotations

import time
from datetime import timedelta

from prometheus_client import REGISTRY
from sqlalchemy import update

from core.schema import Device, Event
from dispatcher.alerts import Alerts
from dispatcher.engine import Engine
from dispatcher.passes import ESCALATOR, SENDER, Pass
from dispatcher.passes.outbox import Outbox
from dispatcher.sending import RateLimiter
from registry.store import import_registry
from tests.support.dispatch import T0, FakeClock, RecordingNotifier, World


def broken() -> bool:
    raise RuntimeError("this pass is broken")


def errors_metric(name: str) -> float:
    return REGISTRY.get_sample_value("jinqiao_dispatcher_pass_errors_total", {"pass_name": name}) or 0.0


def runs_metric(name: str) -> float:
    return REGISTRY.get_sample_value("jinqiao_dispatcher_passes_total", {"pass_name": name}) or 0.0


def test_a_pass_that_raises_does_not_keep_the_others_from_running_in_that_round(sessions, example_registry):
    before = errors_metric("broken-first")
    world = World(sessions, example_registry, T0, extra_passes=(Pass("broken-first", broken),))
    world.press()
    world.tick()
    assert world.paged()[:2] == [("pm-li", "sms"), ("pm-zhao", "sms")]  # the press was paged all the same
    assert world.runner.errors["broken-first"] >= 1
    assert world.runner.errors["events"] == world.runner.errors["escalations"] == 0
    assert errors_metric("broken-first") - before == world.runner.errors["broken-first"]
    world.later(minutes=2)  # and the timers still fire
    assert ("med-wang", "sms") in world.paged()


def test_the_world_runs_every_pass_of_the_dispatcher_including_supervision(sessions, example_registry):
    world = World(sessions, example_registry, T0)
    assert [p.name for p in world.passes] == ["events", "escalations", "supervision", "outbox", "backlog"]
    with world.sessions.begin() as s:  # a pager that went offline four minutes ago
        s.execute(
            update(Device)
            .where(Device.id == "pgr-0001")
            .values(status="offline", status_at=world.clock() - timedelta(minutes=4))
        )
    world.tick()
    assert world.alert().kind == "device"
    assert world.paged() == [("med-wang", "sms"), ("med-wang", "voice")]


def test_the_engine_runs_each_pass_on_its_own_and_counts_the_errors(sessions, example_registry):
    import_registry(sessions, example_registry)
    clock = FakeClock(T0)
    notifier = RecordingNotifier()
    alerts = Alerts(sessions, clock)
    outbox = Outbox(sessions, notifier, clock, RateLimiter({}))
    engine = Engine(
        alerts,
        outbox,
        clock,
        [
            Pass("broken-escalator", broken, ESCALATOR),
            Pass("events", alerts.process_events, ESCALATOR),
            Pass("escalations", alerts.escalate_due, ESCALATOR),
            Pass("broken-sender", broken, SENDER),
            Pass("outbox", outbox.send_due, SENDER),
        ],
    )
    runs_before = runs_metric("events")
    engine.start()
    try:
        with sessions.begin() as s:
            s.add(Event(device_id="pgr-0001", event_id="e1", type="alarm", received_at=clock(), payload="{}"))
        engine.wake()
        deadline = time.monotonic() + 20
        while len([m for m in notifier.sent if m.purpose == "page"]) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len([m for m in notifier.sent if m.purpose == "page"]) == 4
        assert engine.runner.errors["broken-escalator"] >= 1 and engine.runner.errors["broken-sender"] >= 1
        assert engine.escalator.errors == engine.runner.errors["broken-escalator"]
        assert engine.runner.errors["events"] == engine.runner.errors["outbox"] == 0
        assert runs_metric("events") > runs_before
        assert engine.alive()  # a failing pass never ends its thread
    finally:
        engine.stop()
