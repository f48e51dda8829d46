"""PostgreSQL failover on the real engine: a primary with a synchronous streaming standby, a
gateway process writing a stream of events to it through a URL naming both hosts
(`target_session_attrs=read-write`), the primary killed with SIGKILL mid-stream and the standby
promoted (`pg_ctl promote`, what Patroni or the operator's procedure in docs/deployment.md does).
The gateway reconnects by itself and every event the devices sent is stored on the new primary,
none twice. The outage (from the kill to the first event stored after it) is printed, not judged."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from core.db import upgrade
from core.schema import Device, Event
from devices.protocol import Topics
from simulators.services import Mosquitto, Postgres
from tests.support.mqtt_peer import Peer
from tests.support.processes import kill_quietly
from tests.support.waiting import eventually
from tests.test_gateway_crash import start_gateway

TOTAL = 2000
T = Topics("jinqiao")


@pytest.fixture
def pair():
    workdir = Path(tempfile.mkdtemp(prefix="jinqiao-pg-ha-"))
    workdir.chmod(0o755)
    primary = Postgres(workdir / "primary").start()
    standby = primary.standby(workdir / "standby")
    primary.sync_with(standby)  # a commit returns once the standby has it: what was stored survives
    primary.create_database("jinqiao")
    yield primary, standby
    for pg in (primary, standby):
        pg.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def both(primary: Postgres, standby: Postgres) -> str:
    return (
        f"postgresql+psycopg://postgres@/jinqiao?host=127.0.0.1:{primary.port}&host=127.0.0.1:{standby.port}"
        "&target_session_attrs=read-write"
    )


@pytest.mark.slow  # two clusters, a kill and a promotion; no clock in it: run once by scripts/test.sh
def test_the_primary_killed_mid_stream_the_standby_promoted_nothing_lost(pair, tmp_path):
    primary, standby = pair
    url = both(primary, standby)
    upgrade(url)
    engine = create_engine(url, pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(Device.__table__.insert().values(id="pgr-1", kind="pager", adapter="native", active=True))

    def stored() -> int:
        try:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(Event)) or 0
        except Exception:  # the outage: no server takes writes
            return -1

    log = tmp_path / "gw.log"
    broker = Mosquitto(tmp_path / "mosquitto").start()
    peer = Peer(broker.port, "stream", subscribe=["jinqiao/v1/dev/+/feedback"])
    gw = start_gateway(url, broker.url, log)
    try:
        peer.publish_until_answered(T.event("pgr-1"), {"id": "probe", "type": "heartbeat"}, tries=60)
        half = threading.Event()

        def stream() -> None:
            for i in range(TOTAL):
                if i == TOTAL // 2:
                    half.set()
                peer.client.publish(T.event("pgr-1"), f'{{"id":"s{i}","type":"alarm"}}', qos=1)

        sender = threading.Thread(target=stream)
        sender.start()
        half.wait(30)
        eventually(lambda: stored() > 200, 30, "events stored before the kill", [log])
        primary.kill()
        killed_at = time.monotonic()
        standby.promote()
        promoted_in = time.monotonic() - killed_at
        sender.join(30)
        eventually(lambda: stored() == TOTAL + 1, 120, "every event on the promoted standby", [log])
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT inet_server_port()")) == standby.port  # the writes moved
            ids = list(conn.scalars(select(Event.event_id)))
            times = sorted(conn.scalars(select(Event.received_at)))
        assert sorted(ids) == sorted({"probe"} | {f"s{i}" for i in range(TOTAL)})  # all, once each
        gap = max((b - a for a, b in zip(times, times[1:], strict=False)), default=timedelta(0))
        print(
            f"\npromotion took {promoted_in:.2f} s; the longest pause between two stored events {gap.total_seconds():.2f} s"
        )
    finally:
        kill_quietly(gw)
        peer.close()
        broker.stop()
        engine.dispose()
