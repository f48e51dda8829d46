#!/usr/bin/env python3
"""Gateway ingest benchmark: one run, one broker, everything private and on 127.0.0.1.

    .venv/bin/python scripts/bench_gateway.py                  # SQLite file in a temp folder
    .venv/bin/python scripts/bench_gateway.py --db postgresql  # a private PostgreSQL cluster

It starts its own Mosquitto on a free port (persistence off, unlimited in-flight and queued
messages), a fresh database migrated with the project's own `upgrade`, registers `--devices`
devices directly in the database, and measures:

 1. bare:       a plain paho QoS1 subscriber (MQTT 5, the gateway's two subscriptions) counting
                messages while publisher processes push `--events` QoS1 events as fast as they can;
                rate = events / (last arrival at the subscriber - first publish).
 2. gateway:    the same load against the gateway (`python -m jinqiao.cli gateway` as a separate
                process, and/or in the benchmark's own process); rate = events / (last `received`
                feedback arrival at the publishers - first publish). `received` is sent only after
                the commit, so the stored row count is checked at that moment and must be complete.
 3. latency:    `--rate` presses/s for `--duration` s, open loop (each press has a scheduled time and
                is sent then, whatever came back), from device connections that measure scheduled
                press -> `received` arrival. Reported: p50 / p95 / p99 / max.

The load generators are separate processes speaking MQTT 5 through a minimal client of their own
(pre-encoded packets), so that they cost little next to what they measure; each connection stands
for many devices. Load generators, broker, gateway and database all share this machine's CPUs:
every run first waits for the machine to be quiet, and the table shows how much CPU each part used,
and everything else on the machine. The script stops everything it started, also on Ctrl-C.
Figures and their discussion: docs/benchmarks.md, "Gateway ingest".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import queue
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.mqtt_link import stop_network_loop  # noqa: E402
from simulators.services import Postgres, stop_process  # noqa: E402  (after the path set-up)

TOPIC_ROOT = "jinqiao"
GOAL_RATIO = 0.5
GOAL_P99_MS = 20.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
NODELAY = os.environ.get("BENCH_NODELAY", "1") == "1"  # TCP_NODELAY on the load generators' sockets


def event_topic(device: str) -> str:
    return f"{TOPIC_ROOT}/v1/dev/{device}/event"


def feedback_topic(device: str) -> str:
    return f"{TOPIC_ROOT}/v1/dev/{device}/feedback"


def event_payload(event_id: str) -> bytes:
    # A typical press: id, type, the device's clock and its battery.
    return b'{"id":"%s","type":"alarm","ts":1764000000,"battery":87}' % event_id.encode()


# --- services ----------------------------------------------------------------------------------


@dataclass
class Broker:
    workdir: Path
    persistence: bool = False
    nodelay: bool = True
    port: int = 0
    proc: subprocess.Popen | None = None

    def start(self) -> Broker:
        from simulators.services import find_binary, free_port, wait_for_port

        self.port = free_port()
        self.workdir.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            f"persistence {'true' if self.persistence else 'false'}\n"
            f"persistence_location {self.workdir}/\n"
            "autosave_interval 1\n"
            "max_inflight_messages 0\n"
            "max_queued_messages 0\n"
            "max_queued_bytes 0\n"
            "log_type error\nlog_type warning\n"
            # Nagle's algorithm against delayed ACKs costs ~40 ms on a quiet connection
            f"set_tcp_nodelay {'true' if self.nodelay else 'false'}\n"
        )
        if os.geteuid() == 0:  # mosquitto drops to its own user when started as root
            try:
                shutil.chown(self.workdir, user="mosquitto")
            except (LookupError, OSError):
                pass
        log = open(self.workdir / "mosquitto.log", "ab")  # noqa: SIM115  (the broker writes it while it lives)
        self.proc = subprocess.Popen([find_binary("mosquitto"), "-c", str(conf)], stdout=log, stderr=log)
        wait_for_port(self.port)
        return self

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def version(self) -> str:
        from simulators.services import find_binary

        out = subprocess.run([find_binary("mosquitto"), "-h"], capture_output=True, text=True).stdout
        return out.splitlines()[0].replace("mosquitto version ", "") if out else "?"

    def stop(self) -> None:
        stop_process(self.proc)


# --- CPU accounting ----------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    """user + system CPU seconds of a process (all its threads) so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return float("nan")


def machine_cpu() -> dict[str, float]:
    """CPU seconds of the whole machine so far, by kind (the first line of /proc/stat)."""
    v = [int(x) / CLK_TCK for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    return {"tasks": user + nice + system, "irq": irq + softirq, "idle": idle + iowait, "steal": steal, "total": sum(v)}


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            todo += [int(c) for c in Path(f"/proc/{p}/task/{p}/children").read_text().split()]
        except OSError:
            pass
    return out


def tree_cpu(pid: int) -> dict[int, float]:
    return {p: proc_cpu(p) for p in process_tree(pid)}


class CpuWindow:
    """CPU seconds used during a run: by our processes, and by everything else on the machine."""

    def __init__(self, pids: dict[str, int], trees: dict[str, int] | None = None) -> None:
        self.pids = {**pids, "bench": os.getpid()}
        self.trees = trees or {}  # a process and all its children (PostgreSQL's backends)
        self.start_proc = {k: proc_cpu(p) for k, p in self.pids.items()}
        self.start_trees = {k: tree_cpu(p) for k, p in self.trees.items()}
        self.start_machine = machine_cpu()

    def end(self, reported: dict[str, float]) -> dict[str, float]:
        """`reported`: CPU seconds the load processes measured themselves."""
        out = {k: proc_cpu(p) - self.start_proc[k] for k, p in self.pids.items()}
        for k, p in self.trees.items():
            before = self.start_trees[k]
            out[k] = sum(v - before.get(q, 0.0) for q, v in tree_cpu(p).items() if v == v)
        if out.get("gateway") is not None and self.pids.get("gateway") == os.getpid():
            out["gateway"] = out.pop("bench")  # in-process: the benchmark's own process is the gateway's
        out.update(reported)
        m = {k: v - self.start_machine[k] for k, v in machine_cpu().items()}
        ours = sum(out.values())
        # Time in interrupts (loopback networking) is nobody's; steal is the hypervisor's.
        out["others"] = max(0.0, m["tasks"] - ours)
        out["irq"] = m["irq"]
        out["steal"] = m["steal"]
        out["machine_busy_pct"] = 100.0 * (1 - m["idle"] / max(m["total"], 1e-9))
        return out


def wait_quiet(below_pct: float, max_wait: float) -> float:
    """Wait until the machine is less than `below_pct` busy (over a second), at most `max_wait` s; the last busy %."""
    deadline = time.monotonic() + max_wait
    while True:
        busy = 100.0 - idle_pct()
        if busy < below_pct or time.monotonic() >= deadline:
            return busy


def idle_pct(seconds: float = 1.0) -> float:
    m0 = machine_cpu()
    time.sleep(seconds)
    m1 = machine_cpu()
    return 100.0 * (m1["idle"] - m0["idle"]) / max(m1["total"] - m0["total"], 1e-9)


# --- load generators (separate processes) ---------------------------------------------------------


def _client(port: int, client_id: str):
    """A paho client (the bare baseline subscriber and the readiness probe)."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    if NODELAY:
        c.on_socket_open = lambda client, userdata, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    if not connected.wait(15):
        raise RuntimeError(f"{client_id}: no CONNACK")
    return c


def _subscribe(c, topics: list[str]) -> None:
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    for i in range(0, len(topics), 200):
        done.clear()
        c.subscribe([(t, 1) for t in topics[i : i + 200]])
        if not done.wait(15):
            raise RuntimeError("no SUBACK")


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, byte = n >> 7, n & 0x7F
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _mqtt_str(s: str | bytes) -> bytes:
    b = s.encode() if isinstance(s, str) else s
    return len(b).to_bytes(2, "big") + b


def _packet(first: int, body: bytes) -> bytes:
    return bytes([first]) + _varint(len(body)) + body


def publish_packet(topic: bytes, payload: bytes, mid: int) -> bytes:
    """PUBLISH, QoS 1, MQTT 5, no properties."""
    return _packet(0x32, _mqtt_str(topic) + mid.to_bytes(2, "big") + b"\x00" + payload)


# MQTT 5 property identifiers by the size of their value (for skipping CONNACK properties)
_PROP_SIZE = {
    **dict.fromkeys((0x01, 0x17, 0x19, 0x24, 0x25, 0x28, 0x29, 0x2A), 1),
    **dict.fromkeys((0x13, 0x21, 0x22, 0x23), 2),
    **dict.fromkeys((0x02, 0x11, 0x18, 0x27), 4),
}


class RawClient:
    """A minimal MQTT 5 client for the load generators, so that they cost little CPU next to what they measure.

    QoS1 publishes go out as pre-encoded bytes (respecting the broker's Receive Maximum); PUBACKs are
    counted; incoming PUBLISH packets are acknowledged and their (topic, payload) handed to `on_message`
    on the reader thread.
    """

    def __init__(self, port: int, client_id: str, on_message=None) -> None:
        self.on_message = on_message
        self.acked = 0
        self.t_last_ack = 0.0
        self.receive_max = 65535
        self._cond = threading.Condition()
        self._wlock = threading.Lock()
        self._connack = threading.Event()
        self._suback = threading.Event()
        self._sub_mid = 0
        self.sock = socket.create_connection(("127.0.0.1", port))
        if NODELAY:
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        connect = _mqtt_str("MQTT") + b"\x05\x02" + (60).to_bytes(2, "big") + b"\x00" + _mqtt_str(client_id)
        self.sock.sendall(_packet(0x10, connect))
        self._reader = threading.Thread(target=self._read, name=f"raw-{client_id}", daemon=True)
        self._reader.start()
        if not self._connack.wait(15):
            raise RuntimeError(f"{client_id}: no CONNACK")

    def send(self, data: bytes) -> None:
        with self._wlock:
            self.sock.sendall(data)

    def subscribe(self, topics: list[str]) -> None:
        for i in range(0, len(topics), 200):
            self._sub_mid += 1
            filters = b"".join(_mqtt_str(t) + b"\x01" for t in topics[i : i + 200])  # QoS 1 each
            body = self._sub_mid.to_bytes(2, "big") + b"\x00" + filters
            self._suback.clear()
            self.send(_packet(0x82, body))
            if not self._suback.wait(15):
                raise RuntimeError("no SUBACK")

    def send_window(self, packets: list[bytes], sent_before: int, chunk: int = 200) -> None:
        """Send packets in chunks, never more than Receive Maximum unacknowledged."""
        for i in range(0, len(packets), chunk):
            part = packets[i : i + chunk]
            with self._cond:
                while sent_before + i + len(part) - self.acked > self.receive_max:
                    self._cond.wait(1.0)
            self.send(b"".join(part))

    def close(self) -> None:
        try:
            self.send(b"\xe0\x00")
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self._reader.join(5)
        self.sock.close()

    def _read(self) -> None:
        buf = bytearray()
        sock = self.sock
        while True:
            try:
                chunk = sock.recv(1 << 18)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            pos, n, acks, new_acks = 0, len(buf), [], 0
            while pos + 2 <= n:
                # fixed header: type/flags byte, then the remaining length as a varint
                length, shift, i = 0, 0, pos + 1
                while True:
                    if i >= n:
                        length = -1
                        break
                    b = buf[i]
                    length |= (b & 0x7F) << shift
                    i += 1
                    if not b & 0x80:
                        break
                    shift += 7
                if length < 0 or i + length > n:
                    break
                kind, flags, end = buf[pos] >> 4, buf[pos] & 0x0F, i + length
                if kind == 4:  # PUBACK
                    new_acks += 1
                elif kind == 3:  # PUBLISH
                    tlen = int.from_bytes(buf[i : i + 2], "big")
                    topic = bytes(buf[i + 2 : i + 2 + tlen])
                    j = i + 2 + tlen
                    if flags & 0x06:
                        acks.append(b"\x40\x02" + bytes(buf[j : j + 2]))
                        j += 2
                    plen, shift = 0, 0
                    while True:
                        b = buf[j]
                        plen |= (b & 0x7F) << shift
                        j += 1
                        if not b & 0x80:
                            break
                        shift += 7
                    if self.on_message:
                        self.on_message(topic, bytes(buf[j + plen : end]))
                elif kind == 2:  # CONNACK: look for Receive Maximum among the properties
                    j, plen, shift = i + 2, 0, 0
                    while True:
                        b = buf[j]
                        plen |= (b & 0x7F) << shift
                        j += 1
                        if not b & 0x80:
                            break
                        shift += 7
                    props_end = j + plen
                    while j < props_end:
                        pid = buf[j]
                        j += 1
                        if pid == 0x21:
                            self.receive_max = int.from_bytes(buf[j : j + 2], "big")
                        if pid in _PROP_SIZE:
                            j += _PROP_SIZE[pid]
                        elif pid == 0x26:  # user property: two strings
                            j += 2 + int.from_bytes(buf[j : j + 2], "big")
                            j += 2 + int.from_bytes(buf[j : j + 2], "big")
                        elif pid == 0x0B:  # varint
                            while buf[j] & 0x80:
                                j += 1
                            j += 1
                        else:  # strings and binary data
                            j += 2 + int.from_bytes(buf[j : j + 2], "big")
                    if buf[i + 1] != 0:
                        raise RuntimeError(f"CONNACK refused: reason {buf[i + 1]}")
                    self._connack.set()
                elif kind == 9:  # SUBACK
                    self._suback.set()
                pos = end
            del buf[:pos]
            if acks:
                self.send(b"".join(acks))
            if new_acks:
                with self._cond:
                    self.acked += new_acks
                    self.t_last_ack = time.perf_counter()
                    self._cond.notify_all()


def flood_worker(
    idx: int,
    port: int,
    devices: list[str],
    n_events: int,
    conns: int,
    prefix: str,
    want_feedback: bool,
    ready,
    go,
    results,
    timeout: float,
) -> None:
    """Publish n_events QoS1 events round-robin over `devices` as fast as possible; optionally collect `received`."""
    try:
        per_conn = [devices[j::conns] for j in range(conns)]
        refs: list[set[bytes]] = [set() for _ in range(conns)]
        t_last_fb = [0.0] * conns
        clients = []
        for j in range(conns):

            def on_message(topic: bytes, payload: bytes, j=j) -> None:
                if b'"state":"received"' in payload:
                    refs[j].add(payload.split(b'"', 4)[3])
                    t_last_fb[j] = time.perf_counter()

            c = RawClient(port, f"bench-pub-{prefix}-{idx}-{j}", on_message if want_feedback else None)
            if want_feedback:
                c.subscribe([feedback_topic(d) for d in per_conn[j]])
            clients.append(c)
        # Encoded before the clock starts: event i goes to connection i % conns, to its devices in turn.
        packets: list[list[bytes]] = [[] for _ in range(conns)]
        for i in range(n_events):
            j = i % conns
            devs = per_conn[j]
            d = devs[(i // conns) % len(devs)]
            packets[j].append(
                publish_packet(
                    event_topic(d).encode(), event_payload(f"{prefix}{idx}-{i}"), len(packets[j]) % 65535 + 1
                )
            )
        ready.set()
        go.wait(60)
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        senders = [threading.Thread(target=c.send_window, args=(packets[j], 0)) for j, c in enumerate(clients)]
        for s in senders:
            s.start()
        for s in senders:
            s.join()
        t_sent = time.perf_counter()
        deadline = time.monotonic() + timeout
        while sum(c.acked for c in clients) < n_events and time.monotonic() < deadline:
            time.sleep(0.005)
        if want_feedback:
            while sum(len(r) for r in refs) < n_events and time.monotonic() < deadline:
                time.sleep(0.005)
        results.put(
            {
                "idx": idx,
                "sent": n_events,
                "t0": t0,
                "t_sent": t_sent,
                "acked": sum(c.acked for c in clients),
                "t_last_ack": max(c.t_last_ack for c in clients),
                "received": sum(len(r) for r in refs),
                "t_last_fb": max(t_last_fb),
                "cpu": time.process_time() - cpu0,
            }
        )
        for c in clients:
            c.close()
    except Exception as exc:  # reported, never hung on
        results.put({"idx": idx, "error": repr(exc)})


def bare_worker(port: int, n_events: int, ready, results, timeout: float) -> None:
    """The baseline: a plain paho QoS1 subscriber with the gateway's subscriptions, counting."""
    try:
        from paho.mqtt.subscribeoptions import SubscribeOptions

        c = _client(port, f"bench-bare-{os.getpid()}")
        state = {"n": 0, "t_first": 0.0, "t_last": 0.0}

        def on_message(client, userdata, msg):
            now = time.perf_counter()
            if state["n"] == 0:
                state["t_first"] = now
            state["n"] += 1
            state["t_last"] = now

        c.on_message = on_message
        done = threading.Event()
        c.on_subscribe = lambda *a: done.set()
        opts = SubscribeOptions(qos=1, retainAsPublished=True)
        c.subscribe([(f"{TOPIC_ROOT}/v1/dev/+/event", opts), (f"{TOPIC_ROOT}/v1/dev/+/status", opts)])
        if not done.wait(15):
            raise RuntimeError("no SUBACK")
        ready.set()
        cpu0 = time.process_time()
        deadline = time.monotonic() + timeout
        while state["n"] < n_events and time.monotonic() < deadline:
            time.sleep(0.005)
        results.put(
            {
                "bare": True,
                "n": state["n"],
                "t_first": state["t_first"],
                "t_last": state["t_last"],
                "cpu": time.process_time() - cpu0,
            }
        )
        c.disconnect()
        stop_network_loop(c)
    except Exception as exc:
        results.put({"bare": True, "error": repr(exc)})


def latency_worker(
    port: int, devices: list[str], conns: int, rate: float, duration: float, prefix: str, ready, go, results
) -> None:
    """Open-loop presses at `rate`/s; latency = `received` arrival - the press's scheduled time."""
    try:
        per_conn = [devices[j::conns] for j in range(conns)]
        owner = {d: j for j, ds in enumerate(per_conn) for d in ds}
        arrived: dict[str, float] = {}

        def on_message(topic: bytes, payload: bytes) -> None:
            now = time.perf_counter()
            doc = json.loads(payload)
            if doc.get("state") == "received":
                arrived.setdefault(doc["ref"], now)

        clients = []
        for j in range(conns):
            c = RawClient(port, f"bench-lat-{prefix}-{j}", on_message)
            c.subscribe([feedback_topic(d) for d in per_conn[j]])
            clients.append(c)
        ready.set()
        go.wait(60)
        n = int(rate * duration)
        mids = [0] * conns
        scheduled: list[float] = []
        sent: list[float] = []
        cpu0 = time.process_time()
        t0 = time.perf_counter() + 0.05
        for i in range(n):
            at = t0 + i / rate
            wait = at - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            d = devices[i % len(devices)]
            j = owner[d]
            mids[j] = mids[j] % 65535 + 1
            packet = publish_packet(event_topic(d).encode(), event_payload(f"{prefix}{i}"), mids[j])
            scheduled.append(at)
            sent.append(time.perf_counter())
            clients[j].send(packet)
        deadline = time.monotonic() + 10
        while len(arrived) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        lat = [(arrived[f"{prefix}{i}"] - scheduled[i]) * 1000 for i in range(n) if f"{prefix}{i}" in arrived]
        send_lag = [(sent[i] - scheduled[i]) * 1000 for i in range(n)]
        results.put(
            {
                "n": n,
                "received": len(lat),
                "latency_ms": lat,
                "max_send_lag_ms": max(send_lag),
                "achieved_rate": (n - 1) / (sent[-1] - sent[0]) if n > 1 else 0.0,
                "cpu": time.process_time() - cpu0,
            }
        )
        for c in clients:
            c.close()
    except Exception as exc:
        results.put({"error": repr(exc)})


# --- the gateway under test ----------------------------------------------------------------------


class GatewayUnderTest:
    def __init__(self, mode: str, db_url: str, broker: Broker, workdir: Path, wrap: str | None = None) -> None:
        self.mode, self.db_url, self.broker, self.workdir, self.wrap = mode, db_url, broker, workdir, wrap
        self.proc: subprocess.Popen | None = None
        self.gw = None

    @property
    def pid(self) -> int:
        if not self.proc:
            return os.getpid()
        if self.wrap:  # the gateway is the wrapper's child
            try:
                return int(Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()[0])
            except (OSError, IndexError, ValueError):
                pass
        return self.proc.pid

    def start(self) -> None:
        # One gateway id for every run: a stopped gateway's persistent session would otherwise keep
        # queueing every later message on the broker.
        if self.mode == "subprocess":
            env = {
                **os.environ,
                "JINQIAO_DATABASE_URL": self.db_url,
                "JINQIAO_MQTT_URL": self.broker.url,
                "JINQIAO_GATEWAY_ID": "bench",
                "JINQIAO_LOG_LEVEL": "warning",
                "JINQIAO_LOG_FORMAT": "json",
                "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            }
            log = open(self.workdir / "gateway.log", "ab")  # noqa: SIM115  (the gateway writes it while it lives)
            wrap = shlex.split(self.wrap) if self.wrap else []
            self.proc = subprocess.Popen(
                [*wrap, sys.executable, "-m", "jinqiao.cli", "gateway"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        else:
            from core.db import make_engine
            from core.logs import configure_logging
            from gateway.service import Gateway

            configure_logging("error", "json")
            self.engine = make_engine(self.db_url)
            self.gw = Gateway(self.engine, self.broker.url, TOPIC_ROOT, "bench")
            self.gw.start()

    def wait_ready(self, device: str, timeout: float = 30.0) -> None:
        """Resend a probe until `received` comes back, like a device does: then the gateway is subscribed."""
        got = threading.Event()
        c = _client(self.broker.port, f"bench-probe-{self.mode}")
        c.on_message = lambda *a: got.set()
        _subscribe(c, [feedback_topic(device)])
        deadline = time.monotonic() + timeout
        try:
            n = 0
            while not got.wait(0.5):
                if self.proc and self.proc.poll() is not None:
                    raise RuntimeError(f"gateway exited with {self.proc.returncode}; see {self.workdir}/gateway.log")
                if time.monotonic() > deadline:
                    raise TimeoutError("the gateway never answered a probe")
                c.publish(event_topic(device), event_payload(f"probe-{self.mode}-{n}"), qos=1)
                n += 1
        finally:
            c.disconnect()
            stop_network_loop(c)

    def stop(self) -> None:
        if self.proc:
            if self.proc.poll() is None:
                if self.wrap:  # a profiler writes its output on SIGINT; the gateway then gets SIGTERM
                    child = self.pid
                    self.proc.send_signal(signal.SIGINT)
                    try:
                        self.proc.wait(30)
                    except subprocess.TimeoutExpired:
                        pass
                    if child != self.proc.pid:
                        try:
                            os.kill(child, signal.SIGTERM)
                        except ProcessLookupError:
                            pass
                    if self.proc.poll() is None:
                        self.proc.send_signal(signal.SIGTERM)
                else:
                    self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.proc = None
        if self.gw:
            self.gw.stop()
            self.engine.dispose()
            self.gw = None


# --- phases --------------------------------------------------------------------------------------


@dataclass
class Bench:
    args: argparse.Namespace
    broker: Broker
    db_url: str
    devices: list[str]
    workdir: Path
    ctx: mp.context.BaseContext = field(default_factory=lambda: mp.get_context("spawn"))
    db_trees: dict[str, int] = field(default_factory=dict)  # {"postgres": postmaster pid}
    round_no: int = 0

    def count_events(self) -> int:
        from sqlalchemy import func, select

        from core.schema import Event

        with self.engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Event))

    def _spawn(self, target, *args) -> mp.Process:
        p = self.ctx.Process(target=target, args=args, daemon=True)
        p.start()
        return p

    def _gather(self, results, n: int, timeout: float) -> list[dict]:
        out = []
        deadline = time.monotonic() + timeout
        while len(out) < n:
            try:
                out.append(results.get(timeout=max(0.1, deadline - time.monotonic())))
            except queue.Empty:
                raise TimeoutError(f"only {len(out)} of {n} load processes reported in {timeout}s") from None
        errors = [r["error"] for r in out if "error" in r]
        if errors:
            raise RuntimeError(f"load process failed: {errors}")
        return out

    def flood(self, want_feedback: bool, gateway: GatewayUnderTest | None) -> dict:
        """One flood run; with want_feedback it measures the gateway, otherwise the bare subscriber."""
        a = self.args
        busy_before = self.quiet()
        self.round_no += 1
        prefix = f"r{self.round_no}{'g' if want_feedback else 'b'}-"
        results = self.ctx.Queue()
        procs = []
        bare_ready = self.ctx.Event()
        if not want_feedback:
            procs.append(self._spawn(bare_worker, self.broker.port, a.events, bare_ready, results, a.timeout))
            if not bare_ready.wait(30):
                raise TimeoutError("the bare subscriber did not subscribe")
        go = self.ctx.Event()
        readies = []
        share = [a.events // a.pub_procs + (1 if w < a.events % a.pub_procs else 0) for w in range(a.pub_procs)]
        for w in range(a.pub_procs):
            ready = self.ctx.Event()
            readies.append(ready)
            procs.append(
                self._spawn(
                    flood_worker,
                    w,
                    self.broker.port,
                    self.devices[w :: a.pub_procs],
                    share[w],
                    a.pub_conns,
                    prefix,
                    want_feedback,
                    ready,
                    go,
                    results,
                    a.timeout,
                )
            )
        for r in readies:
            if not r.wait(60):
                raise TimeoutError("a publisher did not get ready")
        before = self.count_events() if want_feedback else 0
        pids = {"broker": self.broker.proc.pid}
        if gateway:
            pids["gateway"] = gateway.pid
        cpu = CpuWindow(pids, self.db_trees)
        time.sleep(0.2)
        go.set()
        out = self._gather(results, len(procs), a.timeout + 30)
        pubs = [r for r in out if "bare" not in r]
        reported = {"load": sum(r["cpu"] for r in pubs)}
        if not want_feedback:
            reported["subscriber"] = next(r for r in out if "bare" in r)["cpu"]
        used = cpu.end(reported)
        for p in procs:
            p.join(10)
        t0 = min(r["t0"] for r in pubs)
        res = {
            "busy_before_pct": busy_before,
            "events": a.events,
            "publish_rate": a.events / (max(r["t_sent"] for r in pubs) - t0),
            "puback_rate": a.events / (max(r["t_last_ack"] for r in pubs) - t0),
            "cpu": used,
        }
        if want_feedback:
            received = sum(r["received"] for r in pubs)
            end = max(r["t_last_fb"] for r in pubs)
            stored = self.count_events() - before
            res.update(
                received=received,
                stored=stored,
                seconds=end - t0,
                rate=a.events / (end - t0),
                complete=received == a.events and stored == a.events,
            )
        else:
            bare = next(r for r in out if "bare" in r)
            res.update(
                received=bare["n"],
                seconds=bare["t_last"] - t0,
                rate=a.events / (bare["t_last"] - t0),
                complete=bare["n"] == a.events,
            )
        return res

    def quiet(self) -> float:
        """Wait for the machine to calm down (other people's work shares it); the busy % when the run starts."""
        a = self.args
        busy = wait_quiet(a.quiet_below, a.quiet_wait) if a.quiet_wait > 0 else 100.0 - idle_pct(0.5)
        if busy >= a.quiet_below:
            print(f"  (machine still {busy:.0f}% busy before this run)", flush=True)
        return busy

    def latency(self, gateway: GatewayUnderTest) -> dict:
        a = self.args
        busy_before = self.quiet()
        self.round_no += 1
        results = self.ctx.Queue()
        ready, go = self.ctx.Event(), self.ctx.Event()
        p = self._spawn(
            latency_worker,
            self.broker.port,
            self.devices,
            a.lat_conns,
            a.rate,
            a.duration,
            f"r{self.round_no}l-",
            ready,
            go,
            results,
        )
        if not ready.wait(60):
            raise TimeoutError("the latency client did not get ready")
        cpu = CpuWindow({"broker": self.broker.proc.pid, "gateway": gateway.pid}, self.db_trees)
        go.set()
        (r,) = self._gather(results, 1, a.duration + 60)
        used = cpu.end({"load": r["cpu"]})
        p.join(10)
        lat = sorted(r["latency_ms"])
        q = statistics.quantiles(lat, n=1000, method="inclusive") if len(lat) > 1 else [float("nan")] * 999
        return {
            "busy_before_pct": busy_before,
            "presses": r["n"],
            "received": r["received"],
            "achieved_rate": r["achieved_rate"],
            "max_send_lag_ms": r["max_send_lag_ms"],
            "p50": q[499],
            "p95": q[949],
            "p99": q[989],
            "max": lat[-1] if lat else float("nan"),
            "mean": statistics.fmean(lat) if lat else float("nan"),
            "cpu": used,
        }


# --- main ----------------------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine()


def register_devices(engine, n: int) -> list[str]:
    from sqlalchemy import insert

    from core.schema import Device

    ids = [f"bench-{i:05d}" for i in range(n)]
    with engine.begin() as conn:
        conn.execute(insert(Device), [{"id": d, "kind": "pager", "active": True} for d in ids])
    return ids


def fmt_cpu(c: dict) -> str:
    keys = ("broker", "subscriber", "gateway", "postgres", "load", "others", "irq", "steal")
    parts = [f"{k} {c[k]:.1f}s" for k in keys if k in c]
    return ", ".join(parts) + f"; machine busy {c['machine_busy_pct']:.0f}%"


def median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda r: r["rate"])[len(runs) // 2]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument(
        "--gateway",
        choices=["subprocess", "inprocess", "both"],
        default="subprocess",
        help="run the gateway as `jinqiao gateway` (own CPU) and/or inside this process",
    )
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--events", type=int, default=50_000, help="events per throughput run")
    ap.add_argument("--rounds", type=int, default=3, help="throughput runs of each kind; the median is reported")
    ap.add_argument("--pub-procs", type=int, default=2, help="publisher processes")
    ap.add_argument("--pub-conns", type=int, default=2, help="MQTT connections per publisher process")
    ap.add_argument("--rate", type=float, default=200.0, help="presses/s in the latency run")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of the latency run")
    ap.add_argument("--lat-conns", type=int, default=4, help="device connections in the latency run")
    ap.add_argument("--broker-persistence", action="store_true", help="Mosquitto persistence on (off by default)")
    ap.add_argument(
        "--broker-nodelay",
        choices=["on", "off"],
        default="on",
        help="Mosquitto set_tcp_nodelay (off: Nagle's algorithm on the broker's sockets)",
    )
    ap.add_argument(
        "--client-nodelay", choices=["on", "off"], default="on", help="TCP_NODELAY on the simulated devices' sockets"
    )
    ap.add_argument("--pg-fsync", choices=["on", "off"], default="on")
    ap.add_argument("--timeout", type=float, default=120.0, help="longest wait for one run")
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=30.0,
        metavar="PCT",
        help="before each run, wait until the machine is less than PCT%% busy ...",
    )
    ap.add_argument(
        "--quiet-wait", type=float, default=120.0, metavar="S", help="... but at most S seconds (0: do not wait)"
    )
    ap.add_argument(
        "--gateway-wrap",
        metavar="CMD",
        help="prefix for the gateway subprocess, e.g. 'py-spy record -o gw.svg --' to profile it",
    )
    ap.add_argument("--no-bare", action="store_true", help="skip the bare baseline (A/B runs of the gateway)")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs, database)")
    a = ap.parse_args(argv)

    from core.db import make_engine, upgrade

    workdir = Path(tempfile.mkdtemp(prefix="jinqiao-bench-"))
    workdir.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    broker = pg = gateway = None
    engine = None
    try:
        os.environ["BENCH_NODELAY"] = "1" if a.client_nodelay == "on" else "0"  # read by the spawned load processes
        broker = Broker(
            workdir / "mosquitto", persistence=a.broker_persistence, nodelay=a.broker_nodelay == "on"
        ).start()
        if a.db == "sqlite":
            db_url = f"sqlite:///{workdir}/bench.db"
            db_desc = "SQLite file (WAL, synchronous=FULL)"
        else:
            pg = Postgres(workdir / "pg", fsync=a.pg_fsync == "on").start()
            db_url = pg.create_database("bench")
            db_desc = f"{pg.version}, fsync={a.pg_fsync}"
        upgrade(db_url)
        engine = make_engine(db_url)
        devices = register_devices(engine, a.devices)
        bench = Bench(a, broker, db_url, devices, workdir)
        bench.engine = engine
        if pg:
            bench.db_trees = {"postgres": pg.postmaster_pid()}

        header = (
            f"machine: {os.cpu_count()} CPUs ({cpu_model()}), shared by broker, "
            f"gateway, database and load generators; Python {platform.python_version()}\n"
            f"broker: Mosquitto {broker.version()} on 127.0.0.1, persistence "
            f"{'on' if a.broker_persistence else 'off'}, set_tcp_nodelay {a.broker_nodelay}; "
            f"load clients TCP_NODELAY {a.client_nodelay}\n"
            f"database: {db_desc}\n"
            f"load: {a.events} QoS1 events per run over {a.devices} devices, {a.pub_procs} publisher processes "
            f"x {a.pub_conns} connections (MQTT 5); median of {a.rounds} runs"
        )
        header += (
            f"\nload average at the start: {os.getloadavg()[0]:.2f}; each run first waits (up to "
            f"{a.quiet_wait:.0f} s) for the machine to be under {a.quiet_below:.0f}% busy"
        )
        print(header, flush=True)

        report: dict = {"args": {k: str(v) for k, v in vars(a).items()}, "header": header, "bare": [], "modes": {}}
        for i in range(a.rounds if not a.no_bare else 0):
            r = bench.flood(False, None)
            report["bare"].append(r)
            print(
                f"  bare run {i + 1}: {r['rate']:,.0f} msg/s ({r['received']}/{a.events}; {fmt_cpu(r['cpu'])}; "
                f"busy before {r['busy_before_pct']:.0f}%)",
                flush=True,
            )

        modes = ["subprocess", "inprocess"] if a.gateway == "both" else [a.gateway]
        for mode in modes:
            gateway = GatewayUnderTest(mode, db_url, broker, workdir, a.gateway_wrap)
            gateway.start()
            gateway.wait_ready(devices[0])
            runs = []
            for i in range(a.rounds):
                r = bench.flood(True, gateway)
                runs.append(r)
                print(
                    f"  gateway ({mode}) run {i + 1}: {r['rate']:,.0f} events/s "
                    f"(stored {r['stored']}, received {r['received']}; {fmt_cpu(r['cpu'])}; "
                    f"busy before {r['busy_before_pct']:.0f}%)",
                    flush=True,
                )
            lat = bench.latency(gateway)
            print(
                f"  latency ({mode}): p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms ({fmt_cpu(lat['cpu'])}; "
                f"busy before {lat['busy_before_pct']:.0f}%)",
                flush=True,
            )
            gateway.stop()
            gateway = None
            report["modes"][mode] = {"throughput": runs, "latency": lat}

        bare = median_run(report["bare"]) if report["bare"] else None
        ok = all(r["complete"] for r in report["bare"])
        w = 40
        title = f"median of {a.rounds} runs"
        lines = ["", f"{title:{w}}{'rate/s':>9}{'seconds':>9}   CPU seconds during the run"]
        if bare:
            lines.append(
                f"{'bare paho QoS1 subscriber':{w}}{bare['rate']:>9,.0f}{bare['seconds']:>9.2f}   "
                f"{fmt_cpu(bare['cpu'])}"
            )
        for mode, m in report["modes"].items():
            g, lat = median_run(m["throughput"]), m["latency"]
            ok = ok and all(r["complete"] for r in m["throughput"]) and lat["received"] == lat["presses"]
            lines.append(
                f"{f'gateway ({mode}), stored + received':{w}}{g['rate']:>9,.0f}{g['seconds']:>9.2f}   "
                f"{fmt_cpu(g['cpu'])}"
            )
            if bare:
                ratio = g["rate"] / bare["rate"]
                lines.append(
                    f"{'  gateway / bare':{w}}{ratio:>9.2f}{'':9}   goal >= {GOAL_RATIO:.2f}: "
                    f"{'met' if ratio >= GOAL_RATIO else 'NOT MET'}"
                )
            lines.append(
                f"{f'  latency, {a.rate:.0f} presses/s for {a.duration:.0f} s':{w}}"
                f"p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f}, p99 {lat['p99']:.1f}, max {lat['max']:.1f}; "
                f"goal p99 <= {GOAL_P99_MS:.0f} ms: {'met' if lat['p99'] <= GOAL_P99_MS else 'NOT MET'}"
            )
            lines.append(
                f"{'':{w}}{lat['received']}/{lat['presses']} answered, sent at {lat['achieved_rate']:.1f}/s "
                f"(worst send lag {lat['max_send_lag_ms']:.1f} ms); {fmt_cpu(lat['cpu'])}"
            )
        print("\n".join(lines))
        if not ok:
            print("WARNING: some run did not complete (rows or feedback missing): its figures are not valid")
        if a.json:
            a.json.write_text(json.dumps(report, indent=1, default=str))
        return 0 if ok else 1
    finally:
        tear_down(gateway, engine, broker, pg, workdir, keep=a.keep)


def tear_down(gateway, engine, broker, pg, workdir: Path, keep: bool) -> None:
    """What a benchmark started, stopped in reverse order (any of them may be None); its files kept on request."""
    if gateway:
        gateway.stop()
    if engine:
        engine.dispose()
    if broker:
        broker.stop()
    if pg:
        pg.stop()
    if keep:
        print(f"kept {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
