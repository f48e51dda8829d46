"""Two brokers, each alone (not bridged), and one of them killed with SIGKILL in the middle of a
burst: the devices know both and move to the other, the gateway listens on both at once
(gateway/broker_links.py), and every event is stored exactly once and answered `received`; none is
lost. The devices are the fleet simulator's, which resend until told, as real pagers do."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.schema import Event
from gateway.service import Gateway
from simulators.fleet import device_ids
from simulators.services import Mosquitto
from tests.support.fleet import burst_in_background, register_fleet
from tests.support.waiting import eventually

COUNT = 60


@pytest.fixture
def registry(engine, sessions):
    return register_fleet(engine, sessions, device_ids("fo-", COUNT))


@pytest.fixture
def brokers(tmp_path):
    pair = [Mosquitto(tmp_path / f"mosquitto-{i}").start() for i in range(2)]
    yield pair
    for broker in pair:
        if broker.proc is not None and broker.proc.poll() is None:
            broker.stop()


def stored(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(Event)) or 0
        distinct = conn.scalar(
            select(func.count()).select_from(select(Event.device_id, Event.event_id).distinct().subquery())
        )
    return rows, distinct or 0


@pytest.mark.slow  # a fleet and a kill; no clock in it: run once by scripts/test.sh
def test_a_broker_killed_mid_burst_loses_nothing(engine, brokers, registry):
    urls = ",".join(b.url for b in brokers)
    gateway = Gateway(engine, urls, "jinqiao", "failover")
    gateway.start()
    try:
        assert gateway.link.wait_connected(10)
        runner, summary = burst_in_background(urls, COUNT, "fo-", seed=11)
        eventually(lambda: stored(engine)[0] >= 150, 60, "150 events stored before the kill")
        brokers[0].proc.kill()  # SIGKILL: no goodbye to anyone
        brokers[0].proc.wait(10)
        eventually(lambda: not gateway.link.status().connected, 30, "the gateway says a broker is down")
        assert f":{brokers[0].port}" in (gateway.link.status().reason or "")
        runner.join(150)
        assert not runner.is_alive(), "the fleet did not settle"
        rows, distinct = stored(engine)
        assert summary["pending"] == 0 and summary["connected"] == COUNT  # all on the second broker, all answered
        assert summary["disconnects"] >= COUNT // 2 - 5  # about half were on the broker that died
        assert rows == distinct == summary["events"]  # each event stored exactly once, none lost
    finally:
        gateway.stop()
