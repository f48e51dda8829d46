"""Three gateway processes share the devices' messages (MQTT shared subscriptions, `$share/…`),
and one of them is killed with SIGKILL in the middle of a burst: every event is stored exactly once,
every device is told `received`, none is lost. The devices are the fleet simulator's, which resend
until told, as real pagers do. The share each gateway took is read from its own /metrics."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from core.schema import Event
from devices.protocol import Topics
from gateway.mqtt_link import shared
from simulators.fleet import device_ids
from tests.support.fleet import burst_in_background, register_fleet
from tests.support.mqtt_peer import Peer
from tests.support.processes import free_ports, kill_quietly
from tests.support.waiting import eventually

COUNT = 60
GROUP = "gateways"


def test_filters_become_shared_subscriptions_of_the_group():
    assert shared(["jinqiao/v1/dev/+/event"], GROUP) == ["$share/gateways/jinqiao/v1/dev/+/event"]
    assert shared(["jinqiao/v1/dev/+/event"], None) == ["jinqiao/v1/dev/+/event"]


@pytest.fixture
def registry(engine, sessions):
    return register_fleet(engine, sessions, device_ids("sh-", COUNT))


def start_gateway(db_url: str, mqtt_url: str, name: str, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "JINQIAO_DATABASE_URL": db_url,
        "JINQIAO_MQTT_URL": mqtt_url,
        "JINQIAO_GATEWAY_ID": name,
        "JINQIAO_GATEWAY_HTTP_PORT": str(port),
        "JINQIAO_GATEWAY_SHARE_GROUP": GROUP,
        "JINQIAO_LOG_FORMAT": "json",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "jinqiao.cli", "gateway"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT
    )


def accepted(port: int) -> int:
    """Events this gateway stored, from its Prometheus counter (all kinds)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return int(sum(float(v) for v in re.findall(r"^jinqiao_gateway_events_accepted_total\{[^}]*\} (\S+)$", text, re.M)))


def ready(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def stored(engine) -> tuple[int, int]:
    with engine.connect() as conn:
        rows = conn.scalar(select(func.count()).select_from(Event))
        distinct = conn.scalar(
            select(func.count()).select_from(select(Event.device_id, Event.event_id).distinct().subquery())
        )
    return rows, distinct


@pytest.mark.slow  # three processes, a fleet and a kill; no clock in it: run once by scripts/test.sh
def test_three_gateways_share_and_one_killed_mid_burst_loses_nothing(db_url, engine, mosquitto, registry, tmp_path):
    ports = free_ports(3)
    logs = [tmp_path / f"gw{i}.log" for i in range(3)]
    gateways = [start_gateway(db_url, mosquitto.url, f"g{i}", ports[i], logs[i]) for i in range(3)]
    try:
        for port in ports:
            eventually(lambda port=port: ready(port), 60, f"gateway on {port} ready", logs)
        runner, summary = burst_in_background(mosquitto.url, COUNT, "sh-", seed=7)
        eventually(lambda: stored(engine)[0] >= 150, 60, "150 events stored before the kill", logs)
        victim_share = accepted(ports[0])
        gateways[0].send_signal(signal.SIGKILL)
        gateways[0].wait(10)
        runner.join(150)
        assert not runner.is_alive(), "the fleet did not settle"
        rows, distinct = stored(engine)
        assert summary["pending"] == 0 and summary["connected"] == COUNT  # every device told `received`
        assert rows == distinct == summary["events"]  # each event stored exactly once, none lost
        survivors = [accepted(p) for p in ports[1:]]
        assert victim_share > 0 and all(n > 0 for n in survivors), (victim_share, survivors)  # all three took a share

        # With the dead gateway's session still alive at the broker, it would keep taking a third of
        # what comes next (MqttLink: the session of a shared member ends with its connection). Sent
        # once each, with no resend to cover a loss: the survivors must store every one.
        peer = Peer(mosquitto.port, "after-the-kill")
        try:
            for i in range(30):
                peer.client.publish(Topics("jinqiao").event(registry[0]), f'{{"id":"late{i}","type":"alarm"}}', qos=1)
            eventually(lambda: stored(engine)[0] == rows + 30, 30, "the 30 sent after the kill stored", logs)
        finally:
            peer.close()
    finally:
        for gw in gateways:
            kill_quietly(gw)
