"""A real Mosquitto running deploy/mosquitto/mosquitto.conf with the files jinqiao writes.

No device can speak for another (an MQTT 5 client is told so), nobody gets in without an account,
and TLS works with a CA made here.
"""

from __future__ import annotations

import os
import re
import ssl
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from core.schema import Event
from devices.mosquitto_auth import export_auth, verify_hash
from devices.registration import add_device, mosquitto_hash
from gateway.mqtt_link import stop_network_loop
from gateway.service import Gateway
from registry.store import import_registry
from simulators.buttons import CommodityButton
from simulators.services import Mosquitto, free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_CONF = ROOT / "deploy" / "mosquitto" / "mosquitto.conf"
NOT_AUTHORIZED = 0x87
ACCEPTED = (0x00, 0x10)  # success, or success with nobody subscribed
GATEWAY_PASSWORD = "gateway-secret"
BRIDGE_PASSWORD = "bridge-secret"


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_ca_and_server_cert(d: Path) -> None:
    d.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=Jinqiao test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=d,
    )
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=d,
    )
    for name in ("server.key", "ca.key"):
        os.chmod(d / name, 0o600)


def production_conf_for_test(workdir: Path, port: int, tls_port: int) -> str:
    """The production file itself, with this test's ports and paths."""
    text = PRODUCTION_CONF.read_text()
    replacements = {
        r"^listener 8883$": f"listener {tls_port} 127.0.0.1",
        r"^listener 1883 127\.0\.0\.1$": f"listener {port} 127.0.0.1",
        r"/etc/mosquitto/certs/": f"{workdir}/certs/",
        r"/etc/mosquitto/": f"{workdir}/",
        r"/var/lib/mosquitto/": f"{workdir}/",
        r"^log_dest syslog$": "log_dest stderr",
    }
    for pattern, value in replacements.items():
        text, n = re.subn(pattern, value, text, flags=re.M)
        assert n, f"the production configuration no longer has {pattern!r}"
    return text


@pytest.fixture
def secured(sessions, example_registry, tmp_path):
    """Devices registered, Mosquitto's files written by jinqiao, the production broker running."""
    import_registry(sessions, example_registry)
    creds = {d: add_device(sessions, device_id=d, resident_id="r-zhang").password for d in ("dev-a", "dev-b")}
    creds["sh-1"] = add_device(
        sessions, device_id="sh-1", resident_id="r-liu", adapter="shelly", source="shellybutton1-A4CF12F45301"
    ).password
    workdir = tmp_path / "broker"
    make_ca_and_server_cert(workdir / "certs")
    # the Zigbee2MQTT bridge's account is the operator's to set; jinqiao keeps it
    (workdir / "jinqiao.passwd").write_text(f"zigbee2mqtt:{mosquitto_hash(BRIDGE_PASSWORD)}\n")
    files = export_auth(
        sessions,
        root="jinqiao",
        password_file=workdir / "jinqiao.passwd",
        acl_file=workdir / "jinqiao.acl",
        gateway_password=GATEWAY_PASSWORD,
    )
    assert files.without_password == ["pgr-0001"]  # imported from the file: no password until one is issued
    port, tls_port = free_port(), free_port()
    broker = Mosquitto(workdir, port=port, conf_text=production_conf_for_test(workdir, port, tls_port)).start()
    wait_for_port(tls_port)
    yield broker, tls_port, creds, workdir
    broker.stop()


class Client:
    """A bare MQTT 5 client that remembers the broker's answers."""

    def __init__(
        self,
        port: int,
        user: str | None,
        password: str | None,
        client_id: str,
        ca: Path | None = None,
        tls: bool = False,
    ) -> None:
        self.connack = threading.Event()
        self.reason = None
        self.puback: dict[int, object] = {}
        self.messages: list[tuple[str, bytes]] = []
        self._cond = threading.Condition()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if user is not None:
            self.c.username_pw_set(user, password)
        if tls:
            self.c.tls_set(ca_certs=str(ca) if ca else None, cert_reqs=ssl.CERT_REQUIRED)
        self.c.on_connect = self._on_connect
        self.c.on_publish = self._on_publish
        self.c.on_message = self._on_message
        self.c.connect("127.0.0.1" if not tls else "localhost", port)
        self.c.loop_start()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        self.reason = reason_code
        self.connack.set()

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._cond:
            self.puback[mid] = reason_code
            self._cond.notify_all()

    def _on_message(self, client, userdata, msg):
        with self._cond:
            self.messages.append((msg.topic, msg.payload))
            self._cond.notify_all()

    def connected(self, timeout: float = 10) -> bool:
        assert self.connack.wait(timeout), "no CONNACK"
        return not self.reason.is_failure

    def publish(self, topic: str, payload: bytes | str = b"{}") -> int:
        """The PUBACK's reason code."""
        info = self.c.publish(topic, payload, qos=1)
        with self._cond:
            assert self._cond.wait_for(lambda: info.mid in self.puback, 10), "no PUBACK"
            return self.puback[info.mid].value

    def subscribe(self, topic: str) -> None:
        done = threading.Event()
        self.c.on_subscribe = lambda *a: done.set()
        self.c.subscribe(topic, qos=1)
        assert done.wait(10)

    def wait_message(self, topic: str, timeout: float = 10) -> bytes:
        with self._cond:
            assert self._cond.wait_for(lambda: any(t == topic for t, _ in self.messages), timeout), self.messages
            return next(p for t, p in self.messages if t == topic)

    def close(self) -> None:
        self.c.disconnect()
        stop_network_loop(self.c)


@pytest.fixture
def clients():
    made: list[Client] = []

    def make(*args, **kwargs) -> Client:
        made.append(Client(*args, **kwargs))
        return made[-1]

    yield make
    for c in made:
        c.close()


def test_a_device_cannot_publish_as_another_and_is_told_so(secured, clients):
    broker, _, creds, _ = secured
    gateway = clients(broker.port, "jinqiao-gateway", GATEWAY_PASSWORD, "gw")
    assert gateway.connected()
    gateway.subscribe("jinqiao/v1/dev/+/event")
    a = clients(broker.port, "dev-a", creds["dev-a"], "dev-a")
    assert a.connected()
    assert a.publish("jinqiao/v1/dev/dev-b/event", b'{"id":"forged","type":"alarm"}') == NOT_AUTHORIZED
    assert a.publish("jinqiao/v1/dev/dev-b/status", b"offline") == NOT_AUTHORIZED
    assert a.publish("jinqiao/v1/dev/dev-a/feedback", b"{}") == NOT_AUTHORIZED  # only the system writes feedback
    assert a.publish("jinqiao/v1/dev/dev-a/event", b'{"id":"own","type":"alarm"}') in ACCEPTED
    assert gateway.wait_message("jinqiao/v1/dev/dev-a/event") == b'{"id":"own","type":"alarm"}'
    assert not [t for t, _ in gateway.messages if "dev-b" in t]  # the forgery never reached the gateway
    # the gateway account reads devices and writes feedback, but cannot raise an alarm itself
    assert gateway.publish("jinqiao/v1/dev/dev-a/event", b'{"id":"gw","type":"alarm"}') == NOT_AUTHORIZED


def test_a_device_reads_only_its_own_feedback(secured, clients):
    broker, _, creds, _ = secured
    a = clients(broker.port, "dev-a", creds["dev-a"], "dev-a")
    b = clients(broker.port, "dev-b", creds["dev-b"], "dev-b")
    assert a.connected() and b.connected()
    a.subscribe("jinqiao/v1/dev/+/feedback")  # trying to listen to everyone's
    b.subscribe("jinqiao/v1/dev/dev-b/feedback")
    gateway = clients(broker.port, "jinqiao-gateway", GATEWAY_PASSWORD, "gw")
    assert gateway.connected()
    assert gateway.publish("jinqiao/v1/dev/dev-b/feedback", b'{"ref":"x","state":"received"}') in ACCEPTED
    assert gateway.publish("jinqiao/v1/dev/dev-a/feedback", b'{"ref":"y","state":"received"}') in ACCEPTED
    b.wait_message("jinqiao/v1/dev/dev-b/feedback")
    a.wait_message("jinqiao/v1/dev/dev-a/feedback")  # its own, sent after B's
    assert [t for t, _ in a.messages] == ["jinqiao/v1/dev/dev-a/feedback"]


def test_a_shelly_account_writes_only_its_own_shelly_topics(secured, clients):
    broker, _, creds, _ = secured
    shelly = clients(broker.port, "sh-1", creds["sh-1"], "shellybutton1-A4CF12F45301")
    assert shelly.connected()
    assert (
        shelly.publish("shellies/shellybutton1-A4CF12F45301/input_event/0", b'{"event":"S","event_cnt":1}') in ACCEPTED
    )
    assert (
        shelly.publish("shellies/shellybutton1-OTHER/input_event/0", b'{"event":"S","event_cnt":1}') == NOT_AUTHORIZED
    )
    assert shelly.publish("jinqiao/v1/dev/dev-a/event", b'{"id":"x","type":"alarm"}') == NOT_AUTHORIZED


@pytest.mark.parametrize("user,password", [(None, None), ("dev-a", "wrong"), ("nobody", "x"), ("pgr-0001", "")])
def test_no_account_no_entry(secured, clients, user, password):
    broker, *_ = secured
    c = clients(broker.port, user, password, "intruder")
    assert not c.connected()
    assert c.reason.value in (0x86, NOT_AUTHORIZED)  # bad user name or password / not authorized


def test_a_tls_client_trusting_our_ca_connects_and_others_do_not(secured, clients):
    broker, tls_port, creds, workdir = secured
    c = clients(tls_port, "dev-a", creds["dev-a"], "dev-a-tls", ca=workdir / "certs" / "ca.crt", tls=True)
    assert c.connected()
    assert c.publish("jinqiao/v1/dev/dev-a/event", b'{"id":"tls","type":"heartbeat"}') in ACCEPTED
    with pytest.raises(ssl.SSLCertVerificationError):
        Client(tls_port, "dev-a", creds["dev-a"], "dev-a-untrusting", tls=True)  # the system's CAs do not know ours
    anon = clients(tls_port, None, None, "anon-tls", ca=workdir / "certs" / "ca.crt", tls=True)
    assert not anon.connected()


def test_the_gateway_and_a_pager_work_end_to_end_over_tls_with_their_accounts(secured, engine):
    from simulators.pager import Pager

    broker, tls_port, creds, workdir = secured
    ca = str(workdir / "certs" / "ca.crt")
    gw = Gateway(
        engine, f"mqtts://jinqiao-gateway:{GATEWAY_PASSWORD}@localhost:{tls_port}", "jinqiao", "tls", ca_file=ca
    )
    gw.start()
    try:
        assert gw.link.wait_connected(10)
        with Pager(f"mqtts://localhost:{tls_port}", "dev-a", password=creds["dev-a"], ca_file=ca) as pager:
            event_id = pager.press()
            assert pager.wait_for(event_id, timeout=15)["state"] == "received"
        # commodity buttons through their own accounts: the gateway's ACL lets it read their topics too
        with CommodityButton(
            "localhost",
            tls_port,
            "shelly",
            "shellybutton1-A4CF12F45301",
            user="sh-1",
            password=creds["sh-1"],
            tls=True,
            ca_file=ca,
        ) as shelly:
            assert shelly.send("press")
        with CommodityButton(
            "localhost",
            tls_port,
            "zigbee2mqtt",
            "0x00158d0001a2b3c4",
            user="zigbee2mqtt",
            password=BRIDGE_PASSWORD,
            tls=True,
            ca_file=ca,
        ) as bridge:
            assert bridge.send("press", action="emergency")
        deadline = time.monotonic() + 15
        while len(alarms(engine)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert alarms(engine) == ["dev-a", "sh-1", "z2m-sos-liu"]
    finally:
        gw.stop()


def alarms(engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.scalars(select(Event.device_id).where(Event.type == "alarm")))


def test_export_is_atomic_idempotent_and_keeps_accounts_it_does_not_manage(sessions, example_registry, tmp_path):
    import_registry(sessions, example_registry)
    add_device(sessions, device_id="dev-a", resident_id="r-zhang")
    passwd, acl = tmp_path / "p", tmp_path / "a"
    bridge = f"zigbee2mqtt:{mosquitto_hash('bridge')}\n"
    passwd.write_text(bridge + "dev-a:$7$stale\n")
    export_auth(sessions, root="jinqiao", password_file=passwd, acl_file=acl, gateway_password="gw")
    first = (passwd.read_text(), acl.read_text())
    export_auth(sessions, root="jinqiao", password_file=passwd, acl_file=acl, gateway_password="gw")
    assert (passwd.read_text(), acl.read_text()) == first  # a rerun changes no byte
    users = [line.split(":")[0] for line in first[0].splitlines()]
    assert users == ["jinqiao-gateway", "dev-a", "zigbee2mqtt"]  # the bridge's own line is kept, the stale one gone
    assert verify_hash("gw", first[0].splitlines()[0].split(":", 1)[1])
    assert "user zigbee2mqtt\ntopic readwrite zigbee2mqtt/#" in first[1]  # the registry has a Zigbee button
    assert "user dev-a\ntopic write jinqiao/v1/dev/dev-a/event\n" in first[1]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_mosquitto_passwd_accepts_our_hash_format(tmp_path):
    """Our $7$ lines have the shape mosquitto_passwd writes (and its -U leaves hashed lines alone)."""
    ours = mosquitto_hash("pw")
    f = tmp_path / "p"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(f), "someone", "pw"], check=True, capture_output=True)
    theirs = f.read_text().strip().split(":", 1)[1]
    assert theirs.split("$")[:3] == ours.split("$")[:3] == ["", "7", "101"]
    assert verify_hash("pw", theirs) and not verify_hash("other", theirs)


def test_cli_device_add_writes_the_files_when_configured(tmp_path, example_registry):
    env = {
        **os.environ,
        "JINQIAO_LOG_FORMAT": "json",
        "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db",
        "JINQIAO_MQTT_URL": "mqtt://jinqiao-gateway:s3cret@127.0.0.1:1883",
        "JINQIAO_MOSQUITTO_PASSWORD_FILE": str(tmp_path / "passwd"),
        "JINQIAO_MOSQUITTO_ACL_FILE": str(tmp_path / "acl"),
    }

    def jinqiao(*args):
        return subprocess.run(
            [sys.executable, "-m", "jinqiao.cli", *args], capture_output=True, text=True, env=env, timeout=120
        )

    assert jinqiao("import", str(example_registry)).returncode == 0
    added = jinqiao("device", "add", "pgr-0100", "--resident", "r-zhang", "--heartbeat", "10m")
    assert added.returncode == 0, added.stderr
    password = re.search(r"MQTT password:\s+(\S+)", added.stdout).group(1)
    lines = dict(line.split(":", 1) for line in (tmp_path / "passwd").read_text().splitlines())
    assert verify_hash(password, lines["pgr-0100"]) and verify_hash("s3cret", lines["jinqiao-gateway"])
    assert "no password yet" in added.stdout and "pgr-0001" in added.stdout
    renewed = jinqiao("device", "password", "pgr-0001")
    assert renewed.returncode == 0, renewed.stderr
    new = re.search(r"MQTT password:\s+(\S+)", renewed.stdout).group(1)
    lines = dict(line.split(":", 1) for line in (tmp_path / "passwd").read_text().splitlines())
    assert verify_hash(new, lines["pgr-0001"])
    shelly = jinqiao(
        "device", "add", "sh-9", "--resident", "r-liu", "--adapter", "shelly", "--source", "shellybutton1-X"
    )
    assert shelly.returncode == 0 and "topic readwrite shellies/shellybutton1-X/#" in (tmp_path / "acl").read_text()
    bad = jinqiao("device", "add", "sh-10", "--resident", "r-liu", "--adapter", "shelly")
    assert bad.returncode == 1 and "--source" in bad.stderr
    again = jinqiao(
        "device", "add", "sh-11", "--resident", "r-liu", "--adapter", "shelly", "--source", "shellybutton1-X"
    )
    assert again.returncode == 1 and "already device 'sh-9'" in again.stderr
    export = jinqiao(
        "device", "export-auth", "--password-file", str(tmp_path / "p2"), "--acl-file", str(tmp_path / "a2")
    )
    assert export.returncode == 0 and (tmp_path / "a2").read_text() == (tmp_path / "acl").read_text()
    nowhere = jinqiao("device", "export-auth", "--password-file", "/nonexistent/dir/p", "--acl-file", "/nonexistent/a")
    assert nowhere.returncode == 1 and "cannot write" in nowhere.stderr
