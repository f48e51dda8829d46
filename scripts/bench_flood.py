#!/usr/bin/env python3
"""Flood benchmark: real alarms' press -> `received` while a few devices flood malformed messages.

    .venv/bin/python scripts/bench_flood.py                  # SQLite file in a temp folder
    .venv/bin/python scripts/bench_flood.py --db postgresql  # a private PostgreSQL cluster

It starts its own Mosquitto (as scripts/bench_gateway.py does: persistence off, unlimited in-flight
and queued messages), a fresh database, `jinqiao gateway` as a separate process, and registers
`--flood-devices` flooding devices and `--alarm-devices` real ones. Then, at once:

- publisher processes send `--flood` malformed QoS1 messages from the flooding devices as fast as
  they can (a mix: not JSON, nested 3,000 deep, not an object, an unknown type);
- one process presses real alarms, open loop, `--rate` presses/s for `--duration` s, and measures
  each press's scheduled time -> arrival of its `received` feedback.

It prints the flood's publish rate, how long the gateway took to record every malformed message as
a rejection, and p50 / p99 / max of the real alarms' latency, for the presses made while the flood
was being worked off and for all of them. SPEC 3: `received` within 1 s. Figures: docs/benchmarks.md,
"Alarms under a flood of bad input".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "scripts"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from bench_gateway import (  # noqa: E402
    Broker,
    GatewayUnderTest,
    RawClient,
    cpu_model,
    event_payload,
    event_topic,
    feedback_topic,
    publish_packet,
    tear_down,
    wait_quiet,
)

from simulators.services import Postgres  # noqa: E402

MALFORMED = [b"{nope", b"[" * 3000, b"[1,2]", b'{"id":"f","type":"party"}']
GOAL_MS = 1000.0


def flood_worker(idx: int, port: int, devices: list[str], n: int, ready, go, results) -> None:
    """Publish n malformed QoS1 messages round-robin over `devices`, as fast as the broker takes them."""
    try:
        client = RawClient(port, f"flood-{idx}")
        packets = [
            publish_packet(
                event_topic(devices[i % len(devices)]).encode(), MALFORMED[i % len(MALFORMED)], i % 65535 + 1
            )
            for i in range(n)
        ]
        ready.set()
        go.wait(60)
        t0 = time.perf_counter()
        client.send_window(packets, 0)
        t_sent = time.perf_counter()
        deadline = time.monotonic() + 120
        while client.acked < n and time.monotonic() < deadline:
            time.sleep(0.005)
        results.put({"flood": idx, "t0": t0, "t_sent": t_sent, "t_acked": client.t_last_ack, "acked": client.acked})
        client.close()
    except Exception as exc:  # reported, never hung on
        results.put({"flood": idx, "error": repr(exc)})


def alarm_worker(port: int, devices: list[str], rate: float, duration: float, ready, go, results) -> None:
    """Open-loop presses at `rate`/s; each press's scheduled time and its `received` latency."""
    try:
        arrived: dict[str, float] = {}
        lock = threading.Lock()

        def on_message(topic: bytes, payload: bytes) -> None:
            now = time.perf_counter()
            doc = json.loads(payload)
            if doc.get("state") == "received":
                with lock:
                    arrived.setdefault(doc["ref"], now)

        client = RawClient(port, "alarms", on_message)
        client.subscribe([feedback_topic(d) for d in devices])
        ready.set()
        go.wait(60)
        n = int(rate * duration)
        scheduled = []
        t0 = time.perf_counter() + 0.02
        for i in range(n):
            at = t0 + i / rate
            if (wait := at - time.perf_counter()) > 0:
                time.sleep(wait)
            scheduled.append(at)
            client.send(
                publish_packet(
                    event_topic(devices[i % len(devices)]).encode(), event_payload(f"alarm-{i}"), i % 65535 + 1
                )
            )
        deadline = time.monotonic() + 30
        while len(arrived) < n and time.monotonic() < deadline:
            time.sleep(0.01)
        with lock:
            results.put({"alarms": [(at, arrived.get(f"alarm-{i}")) for i, at in enumerate(scheduled)]})
        client.close()
    except Exception as exc:
        results.put({"alarms": None, "error": repr(exc)})


def register(engine, prefix: str, n: int) -> list[str]:
    from sqlalchemy import insert

    from core.schema import Device

    ids = [f"{prefix}-{i:03d}" for i in range(n)]
    with engine.begin() as conn:
        conn.execute(insert(Device), [{"id": d, "kind": "pager", "active": True} for d in ids])
    return ids


def count_rejections(engine) -> int:
    from sqlalchemy import func, select

    from core.schema import Rejection

    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Rejection))


def quantiles(ms: list[float]) -> str:
    if not ms:
        return "none"
    ms = sorted(ms)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return f"p50 {q[49]:.0f} ms, p99 {q[98]:.0f} ms, max {ms[-1]:.0f} ms ({len(ms)} presses)"


def run(a, broker: Broker, engine, flooders: list[str], alarmers: list[str]) -> bool:
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    go = ctx.Event()
    readies, procs = [], []
    share = [a.flood // a.flood_procs + (1 if w < a.flood % a.flood_procs else 0) for w in range(a.flood_procs)]
    for w in range(a.flood_procs):
        ready = ctx.Event()
        readies.append(ready)
        procs.append(
            ctx.Process(
                target=flood_worker,
                args=(w, broker.port, flooders[w :: a.flood_procs], share[w], ready, go, results),
                daemon=True,
            )
        )
    ready = ctx.Event()
    readies.append(ready)
    procs.append(
        ctx.Process(
            target=alarm_worker, args=(broker.port, alarmers, a.rate, a.duration, ready, go, results), daemon=True
        )
    )
    for p in procs:
        p.start()
    for r in readies:
        if not r.wait(60):
            raise TimeoutError("a load process did not get ready")
    if a.quiet_wait > 0:
        wait_quiet(a.quiet_below, a.quiet_wait)
    before = count_rejections(engine)
    go.set()
    t_go = time.perf_counter()
    # the flood is worked off when every malformed message is a rejection row
    deadline = time.monotonic() + a.duration + 120
    while count_rejections(engine) - before < a.flood and time.monotonic() < deadline:
        time.sleep(0.02)
    t_rejected = time.perf_counter()
    rejected = count_rejections(engine) - before
    out = [results.get(timeout=a.duration + 120) for _ in procs]
    for p in procs:
        p.join(10)
    errors = [r["error"] for r in out if "error" in r]
    if errors:
        raise RuntimeError(f"load process failed: {errors}")
    floods = [r for r in out if "flood" in r]
    t0 = min(r["t0"] for r in floods)
    alarms = next(r["alarms"] for r in out if "alarms" in r)
    during = [(got - at) * 1000 for at, got in alarms if got is not None and at <= t_rejected]
    every = [(got - at) * 1000 for at, got in alarms if got is not None]
    lost = sum(1 for _, got in alarms if got is None)
    acked_in = max(r["t_acked"] for r in floods) - t0
    print(
        f"flood: {a.flood} malformed messages from {a.flood_devices} devices, taken by the broker in {acked_in:.2f} s "
        f"({a.flood / max(acked_in, 1e-9):,.0f}/s, last PUBACK)"
    )
    print(
        f"       all {rejected} recorded as rejections {t_rejected - t0:.2f} s after the first "
        f"({rejected / max(t_rejected - t0, 1e-9):,.0f}/s)"
        if rejected >= a.flood
        else f"       only {rejected} of {a.flood} rejections recorded in {t_rejected - t_go:.1f} s"
    )
    print(f"alarms during the flood: {quantiles(during)}")
    print(
        f"alarms, all {len(alarms)} ({a.rate:.0f}/s for {a.duration:.0f} s): {quantiles(every)}"
        + (f"; {lost} never answered" if lost else "")
    )
    worst = max(during, default=0.0)
    print(
        f"goal: every alarm `received` within {GOAL_MS:.0f} ms: {'met' if worst <= GOAL_MS and not lost else 'NOT MET'}"
    )
    return rejected >= a.flood and not lost


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--flood", type=int, default=10_000, help="malformed messages")
    ap.add_argument("--flood-devices", type=int, default=4)
    ap.add_argument("--flood-procs", type=int, default=2, help="flooding publisher processes")
    ap.add_argument("--alarm-devices", type=int, default=4)
    ap.add_argument("--rate", type=float, default=20.0, help="real presses/s")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds of real presses")
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=30.0,
        metavar="PCT",
        help="before the run, wait until the machine is less than PCT%% busy ...",
    )
    ap.add_argument("--quiet-wait", type=float, default=60.0, metavar="S", help="... but at most S seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temp folder (logs, database)")
    a = ap.parse_args(argv)

    from core.db import make_engine, upgrade

    workdir = Path(tempfile.mkdtemp(prefix="jinqiao-flood-"))
    workdir.chmod(0o755)  # PostgreSQL runs as `postgres` and must reach its folder
    broker = pg = gateway = engine = None
    try:
        broker = Broker(workdir / "mosquitto").start()
        if a.db == "sqlite":
            db_url = f"sqlite:///{workdir}/bench.db"
        else:
            pg = Postgres(workdir / "pg").start()
            db_url = pg.create_database("bench")
        upgrade(db_url)
        engine = make_engine(db_url)
        flooders = register(engine, "flood", a.flood_devices)
        alarmers = register(engine, "real", a.alarm_devices)
        print(
            f"machine: {os.cpu_count()} CPUs ({cpu_model()}), shared by broker, gateway, database and load; "
            f"load average {os.getloadavg()[0]:.2f}\nbroker: Mosquitto {broker.version()}; database: "
            f"{'SQLite file' if a.db == 'sqlite' else pg.version}; gateway: `jinqiao gateway` subprocess",
            flush=True,
        )
        gateway = GatewayUnderTest("subprocess", db_url, broker, workdir)
        gateway.start()
        gateway.wait_ready(alarmers[0])
        return 0 if run(a, broker, engine, flooders, alarmers) else 1
    finally:
        tear_down(gateway, engine, broker, pg, workdir, keep=a.keep)


if __name__ == "__main__":
    raise SystemExit(main())
