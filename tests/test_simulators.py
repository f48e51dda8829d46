"""The device simulators against a real Mosquitto, with the test playing the system's side.

There is no gateway here: `FakeSystem` is a plain paho client that watches the event and status
topics and answers on the feedback topic as the test tells it to.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gateway.mqtt_link import stop_network_loop
from simulators.fleet import Fleet, percentile
from simulators.pager import (
    FeedbackTimeout,
    Pager,
    PagerConnectError,
    event_payload,
    parse_broker_url,
    resend_delay,
    utc_timestamp,
)
from tests.support.waiting import eventually

ROOT = Path(__file__).resolve().parents[1]
PAGER = ROOT / "simulators" / "pager.py"
FLEET = ROOT / "simulators" / "fleet.py"

# (device, event id, copy number starting at 1) -> feedback state to answer, or None for silence
Policy = Callable[[str, str, int], str | None]


def answer_always(state: str) -> Policy:
    return lambda device, event_id, copy: state


def answer_on_copy(n: int) -> Policy:
    return lambda device, event_id, copy: "received" if copy == n else None


def never(device: str, event_id: str, copy: int) -> None:
    return None


class FakeSystem:
    """Records every event and status message; answers events per `policy`."""

    def __init__(self, port: int, policy: Policy = answer_always("received")) -> None:  # noqa: B008  (a pure function)
        self.policy = policy
        self.events: list[tuple[str, dict[str, Any]]] = []  # (device, event) in arrival order
        self.statuses: list[tuple[str, str, bool, int]] = []  # (device, payload, retain, qos)
        self._copies: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="fake-system")
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self._subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(5), "the fake system could not subscribe"

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        # again after a broker restart: a clean session forgets subscriptions
        client.subscribe([("jinqiao/v1/dev/+/event", 1), ("jinqiao/v1/dev/+/status", 1)])

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        device, kind = msg.topic.split("/")[3:5]
        with self._lock:
            if kind == "status":
                self.statuses.append((device, msg.payload.decode(), bool(msg.retain), msg.qos))
                self._lock.notify_all()
                return
            event = json.loads(msg.payload)
            self.events.append((device, event))
            self._copies[(device, event["id"])] += 1
            copy = self._copies[(device, event["id"])]
            self._lock.notify_all()
        state = self.policy(device, event["id"], copy)
        if state is not None:
            feedback = {"ref": event["id"], "alert": None, "state": state, "ts": utc_timestamp()}
            if state == "rejected":
                feedback["reason"] = "unknown_device"
            self.tell(device, feedback)

    def tell(self, device: str, feedback: dict[str, Any]) -> None:
        self.client.publish(f"jinqiao/v1/dev/{device}/feedback", json.dumps(feedback), qos=1)

    def copies(self, device: str, event_id: str) -> int:
        with self._lock:
            return self._copies[(device, event_id)]

    def events_of(self, device: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for d, e in self.events if d == device]

    def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
            return True

    def close(self) -> None:
        self.client.disconnect()
        stop_network_loop(self.client)


@pytest.fixture
def system(mosquitto):
    fake = FakeSystem(mosquitto.port)
    yield fake
    fake.close()


def retained_status(port: int, device: str, timeout: float = 3.0) -> tuple[str, bool, int] | None:
    """What a newcomer sees on the device's status topic: (payload, retain flag, qos)."""
    got: list[tuple[str, bool, int]] = []
    done = threading.Event()

    def on_message(client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        got.append((msg.payload.decode(), bool(msg.retain), msg.qos))
        done.set()

    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{device}-{time.monotonic_ns()}")
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(f"jinqiao/v1/dev/{device}/status", qos=1)
    client.loop_start()
    done.wait(timeout)
    client.disconnect()
    stop_network_loop(client)
    return got[0] if got else None


def broker_log(mosquitto) -> str:
    return (mosquitto.workdir / "mosquitto.log").read_text()


def run_script(*args: str, timeout: float = 20.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


# ---------------------------------------------------------------- pure helpers


@pytest.mark.parametrize(
    "attempt, jitter, expected",
    [
        (0, 0.0, 1.0),
        (1, 0.0, 2.0),
        (2, 0.0, 4.0),
        (4, 0.0, 16.0),
        (5, 0.0, 30.0),  # capped
        (500, 0.0, 30.0),  # no overflow
        (0, 1.0, 0.8),  # jitter only shortens
        (9, 1.0, 24.0),
    ],
)
def test_resend_delay_doubles_up_to_the_cap(attempt, jitter, expected):
    assert resend_delay(attempt, 1.0, 30.0, jitter) == pytest.approx(expected)


def test_event_payload_has_id_type_and_utc_timestamp():
    body = json.loads(event_payload("abc", "alarm", {"battery": 80, "rssi": None}))
    assert body["id"] == "abc" and body["type"] == "alarm" and body["battery"] == 80
    assert "rssi" not in body
    assert body["ts"].endswith("Z") and "T" in body["ts"]


def test_broker_url_parsing():
    assert parse_broker_url("mqtt://127.0.0.1:1884").port == 1884
    secure = parse_broker_url("mqtts://dev:s%40cret@broker.example")
    assert (secure.host, secure.port, secure.tls, secure.password) == ("broker.example", 8883, True, "s@cret")
    with pytest.raises(ValueError):
        parse_broker_url("http://example.com")


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50.0, 99.0, None)


# ---------------------------------------------------------------- the pager library


@pytest.mark.parametrize("protocol", [5, 3])
def test_pager_resends_the_same_id_until_received_then_stops(mosquitto, system, protocol):
    system.policy = answer_on_copy(3)
    with Pager(mosquitto.url, "pgr-0001", protocol=protocol, resend_initial=0.2) as pager:
        event_id = pager.send("press", battery=77)
        feedback = pager.wait_for(event_id, timeout=5)
        assert feedback["state"] == "received" and feedback["ref"] == event_id
        time.sleep(1.6)  # the 4th copy would have gone out about 0.6-0.8 s after the 3rd

        copies = system.events_of("pgr-0001")
        assert [e["id"] for e in copies] == [event_id] * 3
        assert {e["type"] for e in copies} == {"alarm"} and copies[0]["battery"] == 77
        assert pager.resend_count(event_id) == 2
        assert pager.pending == []
        assert 0.2 < pager.latency(event_id) < 2.0


def test_pager_records_later_feedback_and_keeps_resends_separate_per_event(mosquitto, system):
    shown: list[dict] = []
    # resends start late: on a loaded machine a `received` may take longer than a short first wait
    with Pager(mosquitto.url, "pgr-0002", resend_initial=2.0, on_feedback=shown.append) as pager:
        first, second = pager.send("press"), pager.send("checkin")
        assert first != second
        pager.wait_for(first, timeout=3)
        pager.wait_for(second, timeout=3)
        system.tell("pgr-0002", {"ref": first, "alert": "4821", "state": "acknowledged", "ts": utc_timestamp()})
        assert pager.wait_for(first, "acknowledged", timeout=3)["alert"] == "4821"
        states = [(fb["ref"], fb["state"]) for fb in pager.feedback]
        assert (first, "acknowledged") in states and all("arrived_at" in fb for fb in pager.feedback)
        # the callback runs just after wait_for is woken: wait for it, then it has run exactly once
        eventually(lambda: "acknowledged" in [fb["state"] for fb in shown], 5, "the feedback callback", interval=0.01)
        assert [fb["state"] for fb in shown].count("acknowledged") == 1
        assert pager.resend_count(first) == 0 and pager.resend_count(second) == 0


def test_rejected_settles_an_event_and_ends_the_wait(mosquitto, system):
    system.policy = answer_always("rejected")
    with Pager(mosquitto.url, "pgr-0003", resend_initial=0.2) as pager:
        event_id = pager.send("fall")
        assert pager.wait_for(event_id, timeout=3)["state"] == "rejected"
        time.sleep(0.5)
        assert system.copies("pgr-0003", event_id) == 1
        assert pager.latency(event_id) is None


def test_wait_for_times_out_while_the_pager_keeps_resending(mosquitto, system):
    system.policy = never
    with Pager(mosquitto.url, "pgr-0004", resend_initial=0.1, resend_max=0.2) as pager:
        event_id = pager.heartbeat()
        with pytest.raises(FeedbackTimeout):
            pager.wait_for(event_id, timeout=1.0)
        assert pager.resend_count(event_id) >= 4
        assert pager.pending == [event_id]


def test_online_is_retained_on_connect_and_the_will_says_offline_after_a_drop(mosquitto, system):
    pager = Pager(mosquitto.url, "pgr-0005").connect()
    try:
        assert retained_status(mosquitto.port, "pgr-0005") == ("online", True, 1)
        pager.go_offline()  # no DISCONNECT: only the broker's will can say offline now
        assert system.wait_until(lambda: ("pgr-0005", "offline", False, 1) in system.statuses)
        assert retained_status(mosquitto.port, "pgr-0005") == ("offline", True, 1)
        # Mosquitto logs a DISCONNECT as "disconnected" and a dropped socket as "closed its connection"
        assert "Client pgr-0005 closed its connection" in broker_log(mosquitto)
        assert "Client pgr-0005 disconnected" not in broker_log(mosquitto)
        # and it comes back
        pager.connect()
        assert retained_status(mosquitto.port, "pgr-0005") == ("online", True, 1)
    finally:
        pager.close()
    # a clean close is not a power cut: no will, the status stays online
    time.sleep(0.3)
    assert retained_status(mosquitto.port, "pgr-0005") == ("online", True, 1)


def test_a_killed_pager_process_leaves_its_will(mosquitto, system):
    proc = subprocess.Popen(
        [sys.executable, str(PAGER), "--url", mosquitto.url, "--device", "pgr-0009", "interactive"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert system.wait_until(lambda: ("pgr-0009", "online", False, 1) in system.statuses, timeout=10)
    finally:
        proc.kill()  # SIGKILL: the process cannot say anything, only the broker's will can
        proc.wait(5)
    assert system.wait_until(lambda: ("pgr-0009", "offline", False, 1) in system.statuses)
    assert retained_status(mosquitto.port, "pgr-0009") == ("offline", True, 1)


def test_graceful_offline_publishes_offline_itself(mosquitto, system):
    with Pager(mosquitto.url, "pgr-0006") as pager:
        pager.go_offline(graceful=True)
        assert not pager.is_connected
    assert retained_status(mosquitto.port, "pgr-0006") == ("offline", True, 1)
    # the broker may pass messages on a little after it has stored the retained one
    assert system.wait_until(lambda: [s for d, s, *_ in system.statuses if d == "pgr-0006"] == ["online", "offline"])
    assert "Client pgr-0006 disconnected" in broker_log(mosquitto)


def test_pager_resends_after_the_broker_comes_back(mosquitto, system):
    system.close()
    with Pager(mosquitto.url, "pgr-0007", resend_initial=0.2, resend_max=0.5) as pager:
        mosquitto.stop()
        event_id = pager.press()  # pressed while the broker is down
        time.sleep(0.5)
        mosquitto.start()
        fake = FakeSystem(mosquitto.port)
        try:
            assert pager.wait_for(event_id, timeout=8)["state"] == "received"
            assert fake.copies("pgr-0007", event_id) >= 1
        finally:
            fake.close()


def test_connect_to_nothing_raises(mosquitto):
    port = mosquitto.port
    mosquitto.stop()
    with pytest.raises(PagerConnectError):
        Pager(f"mqtt://127.0.0.1:{port}", "pgr-0008").connect(timeout=2)


# ---------------------------------------------------------------- the pager script


@pytest.mark.parametrize(
    "policy, mqtt_version, exit_code",
    [(answer_always("received"), "5", 0), (answer_always("rejected"), "3", 1), (never, "5", 2)],
    ids=["received", "rejected-mqtt3", "timeout"],
)
def test_pager_script_exit_codes(mosquitto, system, policy, mqtt_version, exit_code):
    system.policy = policy
    result = run_script(
        str(PAGER),
        "--url",
        mosquitto.url,
        "--device",
        "pgr-0100",
        "--mqtt",
        mqtt_version,
        "--timeout",
        "2",
        "--resend-initial",
        "0.3",
        "press",
        "--battery",
        "55",
    )
    assert result.returncode == exit_code, result.stderr
    events = system.events_of("pgr-0100")
    assert events and {e["type"] for e in events} == {"alarm"} and len({e["id"] for e in events}) == 1
    assert events[0]["battery"] == 55
    if exit_code == 2:
        assert len(events) >= 3  # it kept resending until it gave up


def test_pager_script_until_acknowledged(mosquitto, system):
    def answer(device: str, event_id: str, copy: int) -> str:
        # received now, acknowledged a moment later, as a volunteer taking the call would
        threading.Timer(
            0.3, system.tell, (device, {"ref": event_id, "alert": "17", "state": "acknowledged", "ts": utc_timestamp()})
        ).start()
        return "received"

    system.policy = answer
    result = run_script(
        str(PAGER),
        "--url",
        mosquitto.url,
        "--device",
        "pgr-0101",
        "--timeout",
        "5",
        "checkin",
        "--until",
        "acknowledged",
    )
    assert result.returncode == 0, result.stderr
    assert "received" in result.stdout and "help is on the way" in result.stdout


def test_pager_script_offline_drops_so_the_will_fires(mosquitto, system):
    result = run_script(str(PAGER), "--url", mosquitto.url, "--device", "pgr-0102", "offline")
    assert result.returncode == 0, result.stderr
    assert retained_status(mosquitto.port, "pgr-0102") == ("offline", True, 1)


def test_pager_script_interactive(mosquitto, system):
    proc = subprocess.Popen(
        [sys.executable, str(PAGER), "--url", mosquitto.url, "--device", "pgr-0103", "interactive"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        proc.stdin.write("press\n")
        proc.stdin.flush()
        lines = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(" received " in line for line in lines):
            lines.append(proc.stdout.readline())
        proc.stdin.write("quit\n")
        proc.stdin.flush()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
    assert any("sent alarm" in line for line in lines)
    assert any(" received " in line for line in lines)


# ---------------------------------------------------------------- the fleet


def test_fleet_every_press_is_received_and_the_counts_add_up(mosquitto):
    # every 5th event is answered only on its second copy, so resends happen too
    def policy(device: str, event_id: str, copy: int) -> str | None:
        return "received" if copy >= 2 or int(event_id, 16) % 5 else None

    system = FakeSystem(mosquitto.port, policy)
    try:
        summary = Fleet(
            mosquitto.url,
            200,
            heartbeat=1.0,
            press_rate=20,
            duration=4,
            connect_rate=400,
            resend_initial=0.3,
            drain=120,
            progress=False,
            seed=7,
        ).run()  # drain ends once settled
    finally:
        system.close()

    assert summary["devices"] == summary["connected"] == summary["ever_connected"] == 200
    assert summary["pending"] == 0 and summary["rejected"] == 0
    assert summary["events"] == sum(summary["sent"].values()) == summary["received"]
    assert summary["sent"]["alarm"] > 30 and summary["sent"]["heartbeat"] > 400
    assert summary["press_latency_ms"]["count"] == summary["sent"]["alarm"]
    assert summary["resends"] > 0
    assert summary["publishes"] == summary["events"] + summary["resends"]
    # what the broker carried agrees with what the fleet says it sent
    distinct = {(d, e["id"]): e["type"] for d, e in system.events}
    assert Counter(distinct.values()) == Counter(summary["sent"])
    assert system.wait_until(lambda: len(system.events) == summary["publishes"]), (len(system.events), summary)
    assert {d for d, s, *_ in system.statuses if s == "online"} == {f"pgr-{n:05d}" for n in range(1, 201)}


def test_fleet_script_stop_heartbeats(mosquitto, system):
    result = run_script(
        str(FLEET),
        "--url",
        mosquitto.url,
        "--count",
        "30",
        "--heartbeat",
        "0.5",
        "--duration",
        "3",
        "--stop-heartbeats",
        "3",
        "--seed",
        "11",
        "--mqtt",
        "3",
        "--prefix",
        "hb-",
        "--bind",
        "127.0.0.1,127.0.0.2",
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    stopped = summary["stopped_heartbeats"]
    assert len(stopped) == 3
    assert f"heartbeats stop after the first one for: {' '.join(stopped)}" in result.stderr
    beats = defaultdict(set)
    for device, event in system.events:
        assert event["type"] == "heartbeat"
        beats[device].add(event["id"])
    assert set(beats) == {f"hb-{n:05d}" for n in range(1, 31)}
    for device, ids in beats.items():
        if device in stopped:
            assert len(ids) == 1, device
        else:
            assert len(ids) >= 4, device
    assert summary["connected"] == 30 and summary["pending"] == 0


def test_fleet_reconnects_after_a_broker_restart_and_loses_nothing(mosquitto, system):
    restarted = threading.Event()

    def restart_once_all_are_online() -> None:
        # on the outcome, not on a fixed delay: on a loaded machine fifty connects can take longer
        # than any guess, and a restart before a device connected is a refused connect, not a disconnect
        if system.wait_until(lambda: len({d for d, payload, _, _ in system.statuses if payload == "online"}) == 50, 60):
            mosquitto.restart()
            restarted.set()

    restart = threading.Thread(target=restart_once_all_are_online)
    restart.start()
    try:
        summary = Fleet(
            mosquitto.url,
            50,
            heartbeat=0.5,
            press_rate=5,
            duration=15,  # long enough that the restart falls inside it however slow the connects were
            resend_initial=0.3,
            drain=120,
            progress=False,
            seed=3,
        ).run()  # drain ends once settled
    finally:
        restart.join()
    assert restarted.is_set(), "not every device came online within 60 s"
    assert summary["disconnects"] == 50  # each device noticed the restart once
    assert summary["connected"] == 50 and summary["pending"] == 0
    assert summary["received"] == summary["events"]
    assert len({(d, e["id"]) for d, e in system.events}) == summary["events"]
