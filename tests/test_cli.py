"""The command line: configuration errors, import, device registration, the embedded broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from core.schema import Device
from jinqiao.embedded_broker import BrokerPortTaken, EmbeddedBroker


def jinqiao(*args: str, env: dict | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "JINQIAO_LOG_FORMAT": "json", **(env or {})},
        cwd=cwd,
    )


@pytest.mark.parametrize(
    "name,value",
    [
        ("JINQIAO_HTTP_PORT", "eighty"),
        ("JINQIAO_HTTP_PORT", "70000"),
        ("JINQIAO_MQTT_URL", "http://broker"),
        ("JINQIAO_DATABASE_URL", "mysql://x"),
        ("JINQIAO_PUBLIC_URL", "not a url"),
        ("JINQIAO_TWILIO_ACCOUNT_SID", "AC123"),  # without the token and the number
    ],
)
def test_a_bad_setting_stops_the_process_naming_the_variable(name, value, tmp_path):
    result = jinqiao("db", "upgrade", env={name: value}, cwd=tmp_path)
    assert result.returncode == 2
    assert name in result.stderr or (name.startswith("JINQIAO_TWILIO") and "JINQIAO_TWILIO" in result.stderr)


def test_import_twice_changes_nothing_and_a_bad_file_changes_nothing(tmp_path, example_registry):
    env = {"JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"}
    first = jinqiao("import", str(example_registry), env=env)
    assert first.returncode == 0, first.stderr
    second = jinqiao("import", str(example_registry), env=env)
    assert second.returncode == 0 and "no changes" in second.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(example_registry.read_text().replace("building: wulin-3", "building: wulin-9", 1))
    result = jinqiao("import", str(bad), env=env)
    assert result.returncode == 1 and "wulin-9" in result.stderr and "nothing was changed" in result.stderr


def test_device_add_prints_credentials_and_stores_a_mosquitto_hash(tmp_path, example_registry):
    env = {"JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db"}
    assert jinqiao("import", str(example_registry), env=env).returncode == 0
    result = jinqiao("device", "add", "pgr-new", "--resident", "r-liu", "--heartbeat", "10m", env=env)
    assert result.returncode == 0, result.stderr
    password = [ln.split(":", 1)[1].strip() for ln in result.stdout.splitlines() if ln.startswith("MQTT password")][0]
    from core.db import make_engine

    with make_engine(env["JINQIAO_DATABASE_URL"]).connect() as conn:
        row = conn.execute(select(Device).where(Device.id == "pgr-new")).one()
    assert row.heartbeat_s == 600 and row.password_hash.startswith("$7$101$") and password not in row.password_hash
    assert jinqiao("device", "add", "pgr-new", "--resident", "r-liu", env=env).returncode == 1  # exists
    assert jinqiao("device", "add", "pgr-x", "--resident", "nobody", env=env).returncode == 1
    assert jinqiao("device", "add", "bad/id", "--resident", "r-liu", env=env).returncode == 1


def test_the_embedded_broker_says_plainly_when_its_port_is_taken():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        with pytest.raises(BrokerPortTaken, match=f"port {port}.*JINQIAO_MQTT_URL"):
            EmbeddedBroker("127.0.0.1", port).start()


def test_the_embedded_broker_carries_a_press_to_the_gateway(engine, sessions):
    from gateway.service import Gateway
    from simulators.services import free_port
    from tests.support.mqtt_peer import Peer

    with sessions.begin() as s:
        s.add(Device(id="pgr-1", kind="pager"))
    broker = EmbeddedBroker("127.0.0.1", free_port())
    broker.start()
    gw = Gateway(engine, broker.url, "jinqiao", "embedded", mqtt5=False)
    gw.start()
    try:
        assert gw.link.wait_connected(10)
        peer = Peer(broker.port, "dev", subscribe=["jinqiao/v1/dev/pgr-1/feedback"], mqtt5=False)  # amqtt: 3.1.1 only
        peer.publish("jinqiao/v1/dev/pgr-1/event", {"id": "e1", "type": "alarm"})
        peer.wait_for(lambda p: [f for f in p.feedback() if f["state"] == "received"], timeout=10)
        peer.close()
    finally:
        gw.stop()
        broker.stop()
