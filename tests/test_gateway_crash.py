"""The gateway process killed with SIGKILL in the middle of a stream loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import pytest
from sqlalchemy import func, select

from core.schema import Device, Event
from devices.protocol import Topics
from tests.support.mqtt_peer import Peer

T = Topics("jinqiao")
TOTAL = 3000


def start_gateway(db_url: str, mqtt_url: str, log_path) -> subprocess.Popen:
    env = {**os.environ, "JINQIAO_DATABASE_URL": db_url, "JINQIAO_MQTT_URL": mqtt_url, "JINQIAO_LOG_FORMAT": "json"}
    return subprocess.Popen(
        [sys.executable, "-m", "jinqiao.cli", "gateway"], env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT
    )


def stored(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Event))


@pytest.mark.slow  # 3,000 messages and a kill, no clock in it: run once by scripts/test.sh
def test_sigkill_mid_stream_loses_nothing(db_url, engine, sessions, mosquitto, tmp_path):
    with sessions.begin() as s:
        s.add(Device(id="pgr-1", kind="pager"))
    peer = Peer(mosquitto.port, "stream", subscribe=["jinqiao/v1/dev/+/feedback"])
    gw = start_gateway(db_url, mosquitto.url, tmp_path / "gw.log")
    try:
        peer.publish_until_answered(T.event("pgr-1"), {"id": "probe", "type": "heartbeat"}, tries=40)

        killed = threading.Event()

        def stream() -> None:
            # half before the kill, as fast as the broker takes them; the rest only once the gateway
            # is dead, so that however fast it stores, the kill always lands mid-stream
            for i in range(TOTAL):
                if i == TOTAL // 2:
                    killed.wait(30)
                peer.client.publish(T.event("pgr-1"), f'{{"id":"s{i}","type":"alarm"}}', qos=1)

        sender = threading.Thread(target=stream)
        sender.start()
        peer.wait_for(lambda p: len(p.feedback()) > 300, timeout=30)
        gw.send_signal(signal.SIGKILL)
        gw.wait(10)
        killed.set()
        sender.join(30)
        killed_at = stored(engine)
        assert killed_at < TOTAL + 1, "the kill came after everything was stored; the test proves nothing"

        gw = start_gateway(db_url, mosquitto.url, tmp_path / "gw.log")
        peer.wait_for(lambda p: stored(engine) == TOTAL + 1 or None, timeout=60)
        with engine.connect() as conn:
            ids = set(conn.scalars(select(Event.event_id)))
        assert ids == {"probe"} | {f"s{i}" for i in range(TOTAL)}
    finally:
        gw.kill()
        gw.wait()
        peer.close()
