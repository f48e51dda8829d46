#!/usr/bin/env python3
"""Supervision pass benchmark (issue 14): what one pass costs on a healthy fleet, and what a writer waits.

    .venv/bin/python scripts/bench_supervision.py                              # SQLite, 1k and 20k
    .venv/bin/python scripts/bench_supervision.py --sizes 1000,20000,100000,200000
    .venv/bin/python scripts/bench_supervision.py --db postgresql             # also a private PostgreSQL
    .venv/bin/python scripts/bench_supervision.py --pg-url postgresql+psycopg://…/db   # or a given one
    .venv/bin/python scripts/bench_supervision.py --code /tmp/main-src         # another checkout's code

For each size N, a fresh database migrated with the project's own `upgrade` gets N residents
(each with a check-in deadline, spread over the day, and a check-in made today) and N devices
(heartbeat 10 min, each heard from within its interval: a healthy fleet; `supervise_at` set as
the gateway sets it, where the code has the column). Then:
 1. pass time: `--passes` runs of the real `Supervisor.run()` (real clock, the settings' rules),
    back to back after one warm-up run; wall time median / p99 / max, and the share of one core it
    takes at one pass a second (mean wall time of a pass / 1 s: on SQLite the database works in
    this process, so the wall time is CPU; on PostgreSQL part of it is the server's). Also the
    rows the pass examined, where the code counts them (PassResult.devices_examined).
 2. writer wait (SQLite only, where there is one writer): for `--duration` s a separate process
    does what the gateway does for a press every 20 ms (gateway/rows.py's RowWriter: the event row
    and the device marked seen, in one transaction behind the write lock) while this process runs
    the pass once a second; each write's time from "begin" to "committed": p50 / p99 / max; and
    first the same writer alone, without the pass, as the baseline (this machine's commit time).
`--code DIR` runs another checkout's product code (e.g. `git archive main | tar -x -C DIR`) with
this same script: that is how docs/benchmarks.md's "before" column was measured.
Figures and their discussion: docs/benchmarks.md, "Supervision pass".
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEARTBEAT_S = 600
WRITE_EVERY_S = 0.02
CHUNK = 5_000


def use_code(code: Path) -> None:
    """Import the product from `code` (this checkout by default): call before any product import."""
    for p in (str(ROOT), str(code)):
        while p in sys.path:
            sys.path.remove(p)
    sys.path.insert(0, str(code))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


# --- the fleet -----------------------------------------------------------------------------------


def build(url: str, n: int, now: datetime) -> bool:
    """N residents and devices, healthy. Returns whether the code has devices.supervise_at."""
    from sqlalchemy import insert, inspect

    from core.db import make_engine, upgrade
    from core.schema import Building, Community, Device, Resident, ResidentCheckin, Responder

    upgrade(url)
    engine = make_engine(url)
    has_due = "supervise_at" in {c["name"] for c in inspect(engine).get_columns("devices")}
    rnd = random.Random(14)
    # every resident checked in today, a second after Shanghai's midnight (16:00 UTC the day before)
    shanghai_midnight = (now + timedelta(hours=8)).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        hours=8
    )
    with engine.begin() as conn:
        conn.execute(insert(Responder), [{"id": "med", "name": "王芳", "phone": "+8613900000004"}])
        conn.execute(
            insert(Community), [{"id": "c", "name": "社区", "mediator_id": "med", "timezone": "Asia/Shanghai"}]
        )
        conn.execute(
            insert(Building), [{"id": f"b{i}", "community_id": "c", "name": f"{i}幢"} for i in range(n // 1000 + 1)]
        )
    for start in range(0, n, CHUNK):
        ids = range(start, min(n, start + CHUNK))
        residents, devices, checkins = [], [], []
        for i in ids:
            minute = rnd.randrange(24 * 60)
            residents.append(
                {
                    "id": f"r{i:06d}",
                    "name": f"r{i}",
                    "building_id": f"b{i // 1000}",
                    "checkin_deadline": f"{minute // 60:02d}:{minute % 60:02d}",
                    "checkin_since": now - timedelta(days=30),
                }
            )
            # heard from in the last two minutes: healthy for eight more, longer than the slowest run
            seen = now - timedelta(seconds=rnd.uniform(0, HEARTBEAT_S * 0.2))
            device = {
                "id": f"pgr-{i:06d}",
                "resident_id": f"r{i:06d}",
                "heartbeat_s": HEARTBEAT_S,
                "last_seen_at": seen,
                "status": "online",
                "status_at": now - timedelta(days=1),
            }
            if has_due:
                device["supervise_at"] = seen + timedelta(seconds=HEARTBEAT_S)
            devices.append(device)
            checkins.append({"resident_id": f"r{i:06d}", "last_at": shanghai_midnight + timedelta(seconds=1)})
        with engine.begin() as conn:
            conn.execute(insert(Resident), residents)
            conn.execute(insert(Device), devices)
            conn.execute(insert(ResidentCheckin), checkins)
    engine.dispose()
    return has_due


# --- 1. pass time ---------------------------------------------------------------------------------


def supervisor(url: str):
    from core.clock import utcnow
    from core.db import make_engine, session_factory
    from core.settings import load_settings
    from dispatcher.alerts import Alerts
    from dispatcher.passes.supervision import Supervisor
    from dispatcher.supervision import Rules

    engine = make_engine(url)
    sessions = session_factory(engine)
    rules = Rules.from_settings(load_settings(database_url=url))
    return engine, Supervisor(sessions, Alerts(sessions, utcnow), utcnow, rules)


def measure_passes(url: str, passes: int) -> dict:
    engine, sup = supervisor(url)
    first = sup.run()  # warm-up: the first run of a day looks at every deadline since midnight
    times, cpu, examined, opened = [], [], [], first.opened
    for _ in range(passes):
        t0, c0 = time.perf_counter(), time.thread_time()
        result = sup.run()
        times.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.thread_time() - c0) * 1000)
        examined.append(getattr(result, "devices_examined", None))
        opened += result.opened
    engine.dispose()
    return {
        "median": statistics.median(times),
        "p99": pct(times, 0.99),
        "max": max(times),
        "mean": statistics.mean(times),
        "cpu_median": statistics.median(cpu),
        "examined": None if examined[0] is None else max(e or 0 for e in examined),
        "opened": opened,
    }


# --- 2. writer wait (SQLite) ---------------------------------------------------------------------


def writer(code: str, url: str, n: int, duration: float, out) -> None:
    """A separate process, as the gateway is: one press every WRITE_EVERY_S, each its own transaction."""
    use_code(Path(code))
    from core.db import make_engine, write_lock
    from devices.protocol import DeviceEvent
    from gateway.rows import RowWriter

    engine = make_engine(url)
    rows = RowWriter(engine)
    rnd = random.Random(7)
    waits: list[float] = []
    end = time.monotonic() + duration
    k = 0
    while time.monotonic() < end:
        k += 1
        device = f"pgr-{rnd.randrange(n):06d}"
        event = DeviceEvent(device, f"bench-{k}", "alarm", None, None, None, "{}")
        t0 = time.perf_counter()
        with write_lock(engine), engine.begin() as conn:
            rows.write(conn, [event], datetime.now(UTC))
        waits.append((time.perf_counter() - t0) * 1000)
        time.sleep(max(0.0, WRITE_EVERY_S - (time.perf_counter() - t0)))
    engine.dispose()
    out.put(waits)


def measure_writer(code: Path, url: str, n: int, duration: float, with_passes: bool = True) -> dict:
    engine, sup = supervisor(url)
    sup.run()
    if not with_passes:
        sup.run = lambda: None  # type: ignore[method-assign]  # the same writer, alone: the baseline
    out: mp.Queue = mp.get_context("spawn").Queue()
    proc = mp.get_context("spawn").Process(target=writer, args=(str(code), url, n, duration, out))
    proc.start()
    stop = threading.Event()

    def passes() -> None:
        while not stop.is_set():
            t0 = time.monotonic()
            sup.run()
            stop.wait(max(0.0, 1.0 - (time.monotonic() - t0)))

    runner = threading.Thread(target=passes, daemon=True)
    time.sleep(1.0)  # the writer process starts (spawn imports the product)
    runner.start()
    waits = out.get(timeout=duration + 120)
    stop.set()
    runner.join(30)
    proc.join(30)
    engine.dispose()
    return {"writes": len(waits), "p50": pct(waits, 0.5), "p99": pct(waits, 0.99), "max": max(waits)}


# --- the run -------------------------------------------------------------------------------------


def run(args, code: Path, tmp: Path) -> list[dict]:
    results = []
    pg = None
    databases: list[tuple[str, str | None]] = [("sqlite", None)]
    if args.pg_url:
        databases.append(("postgresql", args.pg_url))
    elif args.db == "postgresql":
        from simulators.services import Postgres

        pg = Postgres(tmp / "pg", fsync=True).start()
        print(f"  {pg.version} on port {pg.port}", flush=True)
        databases.append(("postgresql", "private"))
    try:
        for n in args.sizes:
            for db, given in databases:
                if db == "sqlite":
                    url = f"sqlite:///{tmp}/sv-{n}.db"
                elif given == "private" and pg is not None:
                    url = pg.create_database(f"sv{n}")
                else:
                    url = given or ""
                    if n != args.sizes[0]:
                        print("  (a given PostgreSQL URL is used for the first size only)", flush=True)
                        continue
                t0 = time.perf_counter()
                has_due = build(url, n, datetime.now(UTC))
                print(f"[{db} {n}] built in {time.perf_counter() - t0:.1f} s; supervise_at: {has_due}", flush=True)
                r = {"db": db, "n": n, **measure_passes(url, args.passes)}
                if db == "sqlite" and args.duration > 0:
                    r["alone"] = measure_writer(code, url, n, args.duration, with_passes=False)
                    r["writer"] = measure_writer(code, url, n, args.duration)
                results.append(r)
                show(r)
    finally:
        if pg is not None:
            pg.stop()
    return results


def show(r: dict) -> None:
    w, a = r.get("writer"), r.get("alone")
    writer_text = ""
    if w and a:
        writer_text = (
            f"writer p50 {w['p50']:.1f} p99 {w['p99']:.1f} max {w['max']:.1f} ms ({w['writes']} writes; "
            f"alone p99 {a['p99']:.1f} max {a['max']:.1f})"
        )
    examined = "?" if r["examined"] is None else r["examined"]
    print(
        f"  pass median {r['median']:.1f} p99 {r['p99']:.1f} max {r['max']:.1f} ms, "
        f"{r['mean'] / 10:.1f}% of a core at 1/s, examined {examined} devices; {writer_text}",
        flush=True,
    )


def table(results: list[dict], label: str) -> None:
    print(f"\n== supervision pass, healthy fleet ({label})")
    head = f"   {'db':<11}{'devices':>9}{'median ms':>11}{'p99 ms':>9}{'max ms':>9}{'core at 1/s':>13}{'examined':>10}"
    print(head + f"{'writer p99/max ms':>19}{'alone p99/max ms':>18}")
    for r in results:
        w, a = r.get("writer"), r.get("alone")
        examined = "?" if r["examined"] is None else str(r["examined"])
        wtext = f"{w['p99']:.1f} / {w['max']:.1f}" if w else "-"
        atext = f"{a['p99']:.1f} / {a['max']:.1f}" if a else "-"
        print(
            f"   {r['db']:<11}{r['n']:>9}{r['median']:>11.1f}{r['p99']:>9.1f}{r['max']:>9.1f}"
            f"{r['mean'] / 10:>12.1f}%{examined:>10}{wtext:>19}{atext:>18}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1000,20000", help="fleet sizes, comma-separated (default 1000,20000)")
    ap.add_argument("--passes", type=int, default=30, help="timed passes per size (default 30)")
    ap.add_argument("--duration", type=float, default=10.0, help="writer-wait seconds on SQLite (0: skip)")
    ap.add_argument(
        "--db", choices=("sqlite", "postgresql"), default="sqlite", help="postgresql: also a private cluster"
    )
    ap.add_argument("--pg-url", help="also this PostgreSQL database (emptied tables expected; first size only)")
    ap.add_argument("--code", type=Path, default=ROOT, help="the checkout whose product code runs (default this one)")
    args = ap.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    code = args.code.resolve()
    use_code(code)
    sys.path.append(str(ROOT))  # simulators/ (the PostgreSQL starter) from this checkout if not there
    from core.logs import configure_logging  # after choosing the code

    configure_logging("warning")  # a device alert or a missed check-in is not the news here
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the PostgreSQL cluster
    tmp = Path(tempfile.mkdtemp(prefix="bench-supervision-"))
    tmp.chmod(0o755)  # the PostgreSQL cluster runs as its own user and must reach its folder
    print(f"bench_supervision: {os.cpu_count()} CPUs, Python {platform.python_version()}, code {code}", flush=True)
    try:
        results = run(args, code, tmp)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    table(results, f"code {code.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
