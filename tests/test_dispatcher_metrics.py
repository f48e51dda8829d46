"""The dispatcher's metrics after a scenario: passes, due steps and their age, outbox depth, sends, latency."""

from __future__ import annotations

from prometheus_client import REGISTRY

from tests.support.dispatch import PHONES, T0, World


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def run(world: World, *names: str) -> None:
    """Only the named passes, once each: to look between the steps the engine would take at once."""
    for p in world.passes:
        if p.name in names:
            world.runner.run(p)


def test_due_steps_their_age_outbox_depth_sends_and_latency(sessions, example_registry):
    world = World(sessions, example_registry, T0)
    sms_sent, voice_sent = (
        value("jinqiao_dispatcher_sends_total", channel="sms", outcome="sent"),
        value("jinqiao_dispatcher_sends_total", channel="voice", outcome="sent"),
    )
    latency_count = value("jinqiao_dispatcher_provider_latency_seconds_count", channel="sms")
    events_runs = value("jinqiao_dispatcher_passes_total", pass_name="events")

    world.press()
    run(world, "events", "escalations", "backlog")  # the alert is open, its pages not yet sent
    assert value("jinqiao_dispatcher_outbox_depth", state="queued") == 5  # 2 SMS, 2 calls, 1 family SMS
    assert value("jinqiao_dispatcher_outbox_depth", state="sending") == 0
    assert value("jinqiao_dispatcher_due_steps") == 0

    world.tick()
    assert value("jinqiao_dispatcher_outbox_depth", state="queued") == 0
    assert value("jinqiao_dispatcher_sends_total", channel="sms", outcome="sent") - sms_sent == 3
    assert value("jinqiao_dispatcher_sends_total", channel="voice", outcome="sent") - voice_sent == 2
    assert value("jinqiao_dispatcher_provider_latency_seconds_count", channel="sms") - latency_count == 3
    assert value("jinqiao_dispatcher_passes_total", pass_name="events") > events_runs

    retried = {c: value("jinqiao_dispatcher_sends_total", channel=c, outcome="retry") for c in ("sms", "voice")}
    failed = {c: value("jinqiao_dispatcher_sends_total", channel=c, outcome="failed") for c in ("sms", "voice")}
    world.notifier.fail[PHONES["med-wang"]] = ("timeout", True)
    world.clock.advance(minutes=5)  # the building tier timed out three minutes ago, and nobody took the step
    run(world, "backlog")
    assert value("jinqiao_dispatcher_due_steps") == 1
    assert value("jinqiao_dispatcher_oldest_due_step_age_seconds") == 180
    world.tick()  # the mediator's SMS and call time out, to be tried again
    assert value("jinqiao_dispatcher_due_steps") == 0 and value("jinqiao_dispatcher_oldest_due_step_age_seconds") == 0
    assert [
        value("jinqiao_dispatcher_sends_total", channel=c, outcome="retry") - retried[c] for c in ("sms", "voice")
    ] == [1, 1]
    world.notifier.fail[PHONES["med-wang"]] = ("invalid number", False)
    world.later(seconds=1)  # tried again, refused for good: the hotline is paged at once
    assert [
        value("jinqiao_dispatcher_sends_total", channel=c, outcome="failed") - failed[c] for c in ("sms", "voice")
    ] == [1, 1]
    assert world.paged()[-2:] == [("duty-chen", "sms"), ("duty-chen", "voice")]
