#!/usr/bin/env python3
"""Press benchmark with the product as separate OS processes (issue 14, item 3).

    .venv/bin/python scripts/bench_processes.py                                  # both topologies, 10,25,50/s
    .venv/bin/python scripts/bench_processes.py --topology processes --rate 50 --duration 20
    .venv/bin/python scripts/bench_processes.py --topology up --rate 25
    .venv/bin/python scripts/bench_processes.py --rate 5 --duration 10 --py-spy /tmp/prof   # profile each process

The same measurement as `scripts/bench_dispatch.py --only press` (its functions are imported: the
registry, the fake Twilio child process, the open-loop publisher, the latency definition and the
stages), but the product runs as the `jinqiao` command does in production, each part its own process:

- `--topology processes`: one `jinqiao gateway`, `--dispatchers` (2) `jinqiao dispatcher` and one
  `jinqiao web`, each an OS process started with the settings by environment (docs/deployment.md);
  the gateway wakes the dispatchers by PostgreSQL NOTIFY, the dispatchers share the work with
  `FOR UPDATE SKIP LOCKED`;
- `--topology up`: one `jinqiao up` process (gateway, dispatcher and web in one), the same broker
  and database, so that the two compare on the same machine in the same hour.

Always PostgreSQL: a private cluster (simulators/services.Postgres, fsync on unless --pg-fsync off)
and a private Mosquitto (simulators/services.Mosquitto). Latency = time the fake Twilio received the
first request to the press's party member - time the press was published (the same clock: one
machine). Stages from the rows: events.received_at (the gateway's batch), alerts.opened_at (the
dispatcher's pass). CPU per process from /proc/<pid>/stat over the load window. `--py-spy DIR`
records each product process with py-spy (raw collapsed stacks, idle samples included) during the
window and prints where each thread spent its time (scripts/profile_summary.py).
Every process started here is stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = Path(__file__).resolve().parent
for p in (str(ROOT), str(SCRIPTS)):
    if p not in sys.path:
        sys.path.insert(0, p)

import bench_dispatch as bd  # noqa: E402  (after the path set-up)
import profile_summary  # noqa: E402

from simulators.services import Mosquitto, free_port, stop_process  # noqa: E402

WARM = 10  # warm-up presses: enough for both dispatchers to have opened alerts and sent


# --- the product's processes -------------------------------------------------------------------


@dataclass
class Part:
    """One `jinqiao <command>` process, its HTTP port (health) and its log file."""

    name: str
    command: str
    port: int
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen | None = None

    def start(self, cwd: Path) -> Part:
        out = open(self.log, "ab")  # noqa: SIM115  (the process writes it while it lives)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jinqiao.cli", self.command], cwd=cwd, env=self.env, stdout=out, stderr=out
        )
        out.close()
        return self

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def log_lines(self, event: str) -> int:
        """How many log lines of this `event` the process wrote (JSON lines)."""
        needle = f'"event": "{event}"'
        try:
            return sum(1 for line in self.log.read_text(errors="replace").splitlines() if needle in line)
        except OSError:
            return 0

    def listens(self) -> bool:
        return self.command == "gateway" or self.command == "web" or self.log_lines("wakeups.listening") > 0

    def stop(self) -> None:
        stop_process(self.proc)


def base_env(database_url: str, mqtt_url: str, fake_url: str, public_url: str, log_level: str) -> dict[str, str]:
    """The settings every part gets, by environment (docs/deployment.md); nothing inherited from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.update(
        JINQIAO_DATABASE_URL=database_url,
        JINQIAO_MQTT_URL=mqtt_url,
        JINQIAO_MQTT_ROOT=bd.TOPIC_ROOT,
        JINQIAO_PUBLIC_URL=public_url,
        JINQIAO_HTTP_HOST="127.0.0.1",
        JINQIAO_TWILIO_ACCOUNT_SID=bd.SID,
        JINQIAO_TWILIO_AUTH_TOKEN=bd.TOKEN,
        JINQIAO_TWILIO_FROM=bd.FROM,
        JINQIAO_TWILIO_API_URL=fake_url,
        # the engine is measured, not Twilio's rate limit (as bench_dispatch)
        JINQIAO_SMS_PER_SECOND="10000",
        JINQIAO_CALLS_PER_SECOND="10000",
        JINQIAO_LOG_LEVEL=log_level,
        JINQIAO_LOG_FORMAT="json",
    )
    return env


def parts_of(topology: str, dispatchers: int, env: dict[str, str], logs: Path) -> list[Part]:
    if topology == "up":
        port = free_port()
        return [
            Part("up (gateway+dispatcher+web)", "up", port, env | {"JINQIAO_HTTP_PORT": str(port)}, logs / "up.log")
        ]
    gw = free_port()
    parts = [Part("gateway", "gateway", gw, env | {"JINQIAO_GATEWAY_HTTP_PORT": str(gw)}, logs / "gateway.log")]
    for i in range(1, dispatchers + 1):
        port = free_port()
        parts.append(
            Part(
                f"dispatcher {i}",
                "dispatcher",
                port,
                env | {"JINQIAO_DISPATCHER_HTTP_PORT": str(port), "JINQIAO_INSTANCE_NAME": f"bench-dispatcher-{i}"},
                logs / f"dispatcher-{i}.log",
            )
        )
    web = free_port()
    parts.append(Part("web", "web", web, env | {"JINQIAO_HTTP_PORT": str(web)}, logs / "web.log"))
    return parts


def wait_ready(parts: list[Part], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    waiting = list(parts)
    while waiting and time.monotonic() < deadline:
        for part in list(waiting):
            if part.proc is not None and part.proc.poll() is not None:
                raise RuntimeError(f"{part.name} exited with {part.proc.returncode}; see {part.log}")
            if part.ready() and part.listens():
                waiting.remove(part)
        time.sleep(0.2)
    if waiting:
        raise RuntimeError(f"not ready after {timeout:g} s: {', '.join(p.name for p in waiting)}")


# --- an open board -----------------------------------------------------------------------------


def _board_main(conn, port: int, token: str) -> None:
    """One operator board, as web/static/live.js and board.js behave: the live stream open, and after
    every entry or change (30 ms to gather a burst, one load at a time) GET /api/v1/board again.
    Commands over the pipe: stop (answers with the loads made and their mean time)."""
    import http.client
    import threading

    headers = {"Authorization": f"Bearer {token}"}
    changed = threading.Event()
    stop = threading.Event()
    loads: list[float] = []
    sizes: list[int] = []
    events = [0]

    def listen() -> None:
        while not stop.is_set():
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/api/v1/stream", headers=headers | {"Accept": "text/event-stream"})
                r = c.getresponse()
                while not stop.is_set():
                    line = r.fp.readline()
                    if not line:
                        break
                    if line.startswith(b"event:"):
                        events[0] += 1
                        changed.set()
            except OSError:
                stop.wait(0.5)

    def load() -> None:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            if not changed.wait(0.5):
                continue
            time.sleep(0.03)  # refreshSoon: many events in a burst make one reload
            changed.clear()
            t = time.perf_counter()
            try:
                c.request("GET", "/api/v1/board", headers=headers)
                body = c.getresponse().read()
            except OSError:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            loads.append(time.perf_counter() - t)
            sizes.append(len(body))

    threads = [threading.Thread(target=f, daemon=True) for f in (listen, load)]
    for th in threads:
        th.start()
    conn.send("ready")
    conn.recv()  # stop
    stop.set()
    conn.send(
        {
            "events": events[0],
            "loads": len(loads),
            "load_ms_mean": 1000 * sum(loads) / len(loads) if loads else 0.0,
            "load_ms_max": 1000 * max(loads) if loads else 0.0,
            "bytes_mean": sum(sizes) / len(sizes) if sizes else 0.0,
        }
    )


def board_token(engine) -> str:
    """A viewer account and its API token, for the simulated boards."""
    from core.clock import utcnow
    from core.db import session_factory
    from web.accounts import Accounts

    accounts = Accounts(session_factory(engine), utcnow)
    accounts.add_user("bench-board", "viewer", "bench-board-password", "看板", actor="bench")
    return accounts.create_token("bench-board", "bench_processes", actor="bench")


# --- one run -----------------------------------------------------------------------------------


@dataclass
class Fake:
    """The fake Twilio in a child process (bench_dispatch's), with its pipe."""

    ctx: object
    proc: object = None
    conn: object = None
    url: str = ""
    seen: list = field(default_factory=list)

    def start(self) -> Fake:
        self.conn, child = self.ctx.Pipe()  # type: ignore[attr-defined]
        self.proc = self.ctx.Process(  # type: ignore[attr-defined]
            target=bd._fake_twilio_main, args=(child, False, None, 0.0), name="fake-twilio", daemon=True
        )
        self.proc.start()
        self.url = self.conn.recv()
        return self

    def ask(self, what: str):
        self.conn.send(what)
        return self.conn.recv()

    def wait_requests(self, target: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        got = self.ask("count")
        while got < target and time.monotonic() < deadline:
            time.sleep(0.25)
            got = self.ask("count")
        return got

    def stop(self) -> None:
        try:
            self.ask("stop")
        except (OSError, EOFError):
            pass
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.terminate()


def run_one(env: bd.Env, args, topology: str, rate: float) -> dict:
    from sqlalchemy import text

    from core.db import make_engine

    n = int(round(rate * args.duration))
    label = f"{topology}-{rate:g}" + (f"-boards{args.boards}" if args.boards else "")
    print(f"\n[{label}] {n} presses at {rate:g}/s for {args.duration:g} s ({WARM} warm-up presses first)", flush=True)
    dbname = f"press_{topology}_{int(rate * 1000)}"
    url = env.new_database(dbname)
    engine = make_engine(url)
    doc = bd.build_registry(n + WARM, residents_per_building=1, buildings_per_community=100, family=True, devices=True)
    took = bd.import_doc(engine, doc)
    token = board_token(engine) if args.boards else ""
    print(f"  registry: {n + WARM} residents, buildings, party members and devices imported in {took:.1f} s")

    run_dir = env.tmp / label
    run_dir.mkdir()
    broker = Mosquitto(run_dir / "mosquitto").start()
    ctx = mp.get_context("spawn")
    fake = Fake(ctx).start()
    parts: list[Part] = []
    boards: list = []
    pub = None
    profilers: list[tuple[str, subprocess.Popen, Path]] = []
    result: dict = {}
    try:
        public_port = free_port()  # no callbacks in this run: the fake never calls back
        penv = base_env(url, broker.url, fake.url, f"http://127.0.0.1:{public_port}", args.log_level)
        parts = parts_of(topology, args.dispatchers, penv, run_dir)
        started = time.monotonic()
        for part in parts:
            part.start(run_dir)
        wait_ready(parts, 90)
        print(f"  {', '.join(p.name for p in parts)}: ready in {time.monotonic() - started:.1f} s", flush=True)
        per_alarm = 3  # page SMS + page call + family SMS

        warm_plan = [(f"dev-{n + i}", f"warm-{i}") for i in range(WARM)]
        bd.run_publisher(ctx, broker.port, warm_plan, rate=5.0)
        fake.wait_requests(WARM * per_alarm, 30)
        time.sleep(1.0)
        base_requests = fake.ask("count")

        plan = [(f"dev-{i}", f"press-{i}") for i in range(n)]
        groups = {part.name: (lambda part=part: [part.proc.pid]) for part in parts}
        groups |= {
            "fake Twilio (child process)": lambda: [fake.proc.pid],
            "mosquitto": lambda: [broker.proc.pid],
            "postgresql (all backends)": env.db_pids,
        }
        idle: dict = {}
        if args.idle_probe:  # what the processes cost with nothing to do: the passes' ticks
            probe = bd.CpuWindow(groups).start()
            time.sleep(args.idle_probe)
            idle = {"cpu": probe.end(), "wall": probe.wall}
            print(f"  with no presses, {args.idle_probe:g} s:", flush=True)
            for line in bd.cpu_lines(idle["cpu"], probe)[1:]:
                print("  " + line, flush=True)
        for i in range(args.boards):  # open boards, on the web part (up: the one process)
            web_port = next(p.port for p in parts if p.command in ("web", "up"))
            b_conn, b_child = ctx.Pipe()
            b = ctx.Process(target=_board_main, args=(b_child, web_port, token), name=f"board-{i}", daemon=True)
            b.start()
            b_conn.recv()
            boards.append((b, b_conn))
        if boards:
            groups["boards (child processes)"] = lambda: [b.pid for b, _c in boards]
        pub_conn, pub_child = ctx.Pipe()
        t0 = time.time() + 3.0
        pub = ctx.Process(
            target=bd._publisher_main, args=(pub_child, broker.port, plan, t0, rate), name="publisher", daemon=True
        )
        pub.start()
        if (ready := pub_conn.recv()) != "ready":
            raise RuntimeError(str(ready))
        groups["publisher (child process)"] = lambda: [pub.pid]
        window = bd.CpuWindow(groups)
        time.sleep(max(0.0, t0 - time.time() - 0.2))
        if args.py_spy:
            profilers = start_profilers(parts, Path(args.py_spy), label, args.duration + 2, args.py_spy_mode)
        statements_reset(env)
        db_before = db_counters(env, dbname)
        window.start()
        threads_before = {p.name: task_cpu(p.proc.pid) for p in parts if p.proc is not None}
        pub_result = pub_conn.recv()
        expected = base_requests + n * per_alarm
        got = fake.wait_requests(expected, args.drain)
        cpu = window.end()
        threads = thread_cpu_lines(parts, threads_before, window.wall)
        db_after = db_counters(env, dbname)
        sql = statements(env, dbname)
        sql["counters"] = {k: db_after[k] - db_before[k] for k in db_after}
        for _name, p, _out in profilers:
            stop_profiler(p)
        pub.join(10)
        board_results = []
        for b, b_conn in boards:
            b_conn.send("stop")
            board_results.append(b_conn.recv())
            b.join(5)
        boards.clear()
        time.sleep(0.5)
        dump = fake.ask("dump")

        with engine.connect() as c:
            events = {eid: at for eid, at in c.execute(text("SELECT event_id, received_at FROM events"))}
            alerts = {eid: at for eid, at in c.execute(text("SELECT source_event_id, opened_at FROM alerts"))}
            queued = c.execute(text("SELECT count(*) FROM notifications WHERE status = 'queued'")).scalar()
            senders = sorted(
                c.execute(text("SELECT claimed_by, count(*) FROM notifications GROUP BY claimed_by")).all(),
                key=lambda r: -r[1],
            )
        args.rate = rate  # analyse_press reads the rate and the duration from args
        result = bd.analyse_press(args, n, plan, pub_result, dump, events, alerts, doc)
        result.update(
            topology=topology,
            cpu=cpu,
            cpu_lines=bd.cpu_lines(cpu, window),
            requests_expected=expected - base_requests,
            requests_seen=got - base_requests,
            still_queued=queued,
            callbacks=False,
            family=True,
            api_latency_ms=0.0,
            # how the dispatchers shared the work (warm-up included): notifications by sender, alerts by log
            notifications_by_sender=[n for _owner, n in senders],
            alerts_opened_by_part={p.name: p.log_lines("alert.opened") for p in parts if p.command != "web"},
            profiles={name: str(out) for name, _p, out in profilers},
            idle=idle,
            threads=threads,
            boards=board_results,
            sql=sql,
        )
    finally:
        if pub is not None and pub.is_alive():
            pub.terminate()
        for b, _c in boards:
            b.terminate()
        for _name, p, _out in profilers:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for part in parts:
            part.stop()
        fake.stop()
        broker.stop()
        engine.dispose()
    print_run(result, env)
    for name, _p, out in profilers:
        if out.exists():
            print(f"\n   profile of {name} ({out}):")
            for line in profile_summary.summarize(out, top=args.py_spy_top):
                print("     " + line)
    return result


def print_run(r: dict, env: bd.Env) -> None:
    if not r:
        return
    print(f"\n== topology {r['topology']}:")
    bd.print_press(r, env)
    print(f"   alerts opened, by process (log lines, warm-up included): {r['alerts_opened_by_part']}")
    print(f"   notifications, by sending process (claimed_by): {r['notifications_by_sender']}")
    for b in r.get("boards", []):
        print(
            f"   an open board: {b['events']} stream events, {b['loads']} loads of /api/v1/board "
            f"(mean {b['load_ms_mean']:.0f} ms, max {b['load_ms_max']:.0f} ms, {b['bytes_mean'] / 1000:.0f} kB each)"
        )
    for name, t in r.get("threads", {}).items():
        shares = ", ".join(
            f"{k} {100 * v / t['wall_s']:.0f}%" for k, v in t["cpu_s"].items() if v >= 0.005 * t["wall_s"]
        )
        print(f"   {name}, CPU by thread (% of one CPU): {shares}")
    if sql := r.get("sql"):
        n = max(r["presses"], 1)
        k = sql["counters"]
        print(
            f"   the database over the window: {sql['calls']} statements ({sql['calls'] / n:.1f} a press), "
            f"{k['commits']} commits ({k['commits'] / n:.1f} a press), {k['rollbacks']} rollbacks, "
            f"server execution {sql['exec_ms']:.0f} ms ({sql['exec_ms'] / n:.2f} ms a press)"
        )
        for calls, ms, query in sql["top"][:15]:
            print(f"     {calls:7d} calls {ms:8.1f} ms  {query[:110]}")
        w = wakes(sql, n)
        print(
            f"   a press made {w['events']:.1f} events passes, {w['escalations']:.1f} escalations passes, "
            f"{w['claims']:.1f} outbox claims, {w['plans']:.1f} next-timer queries (ticks included)"
        )


# --- what the database did ---------------------------------------------------------------------


def pg_admin(env: bd.Env):
    import psycopg

    return psycopg.connect(f"host=127.0.0.1 port={env.pg.port} user=postgres dbname=postgres", autocommit=True)


def db_counters(env: bd.Env, dbname: str) -> dict[str, int]:
    with pg_admin(env) as c:
        row = c.execute(
            "SELECT xact_commit, xact_rollback, tup_inserted, tup_updated FROM pg_stat_database WHERE datname = %s",
            (dbname,),
        ).fetchone()
    return dict(zip(("commits", "rollbacks", "inserted", "updated"), row or (0, 0, 0, 0), strict=True))


def statements_reset(env: bd.Env) -> None:
    with pg_admin(env) as c:
        c.execute("SELECT pg_stat_statements_reset()")


def statements(env: bd.Env, dbname: str, top: int = 40) -> dict:
    """What pg_stat_statements saw in `dbname` since the reset: all calls, the server's time, the top statements."""
    with pg_admin(env) as c:
        rows = c.execute(
            "SELECT calls, total_exec_time, regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s) ORDER BY calls DESC",
            (dbname,),
        ).fetchall()
    return {
        "calls": sum(r[0] for r in rows),
        "exec_ms": sum(r[1] for r in rows),
        "top": [(r[0], round(r[1], 1), r[2][:2000]) for r in rows[:top]],
    }


# --- what a wake-up costs -----------------------------------------------------------------------


def wake_costs(env: bd.Env, rounds: int = 300) -> list[tuple[str, float, float]]:
    """Wall and CPU ms of each pass a wake-up runs when there is nothing to do, one thread, this
    process: what every NOTIFY, tick and worker's "idle" costs a dispatcher that finds no work."""
    from core.db import make_engine
    from core.settings import load_settings
    from dispatcher.service import build_dispatcher

    url = env.new_database("wake_costs")
    engine = make_engine(url)
    bd.import_doc(engine, bd.build_registry(100, 1, 100, family=True, devices=True))
    d = build_dispatcher(load_settings(database_url=url), engine)

    def bare() -> None:
        with engine.begin() as c:
            c.exec_driver_sql("SELECT 1")

    named = {p.name: p.run for p in d.engine.passes}
    cases = [
        ("events (escalator), nothing new", d.alerts.process_events),
        ("escalations (escalator), nothing due", d.alerts.escalate_due),
        ("the next timer (after a batch that queued)", d.alerts.next_due),
        ("outbox (sender), nothing queued", d.outbox.send_due),
        ("supervision (supervisor, every tick)", named["supervision"]),
        ("backlog (observer, every tick)", named["backlog"]),
        ("a bare transaction: BEGIN; SELECT 1; COMMIT", bare),
    ]
    out = []
    for label, f in cases:
        for _ in range(20):
            f()
        w, c = time.perf_counter(), time.process_time()
        for _ in range(rounds):
            f()
        out.append((label, 1000 * (time.perf_counter() - w) / rounds, 1000 * (time.process_time() - c) / rounds))
    d.engine.outbox.close()
    engine.dispose()
    return out


# --- CPU by thread --------------------------------------------------------------------------------


def task_cpu(pid: int) -> dict[int, float]:
    """CPU seconds of each thread (task) of a process, from /proc/<pid>/task/<tid>/stat."""
    out: dict[int, float] = {}
    try:
        tids = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()]
    except OSError:
        return out
    for tid in tids:
        try:
            fields = Path(f"/proc/{pid}/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
            out[tid] = (int(fields[11]) + int(fields[12])) / bd.CLK_TCK
        except (OSError, IndexError, ValueError):
            pass
    return out


def thread_names(pid: int, tries: int = 3) -> dict[int, str]:
    """Python's names of a process's threads by native id (py-spy dump), {} without py-spy."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    for _ in range(tries):  # a non-blocking dump can catch the process mid-change: try again
        try:
            text = subprocess.run(
                [exe, "dump", "--pid", str(pid), "--nonblocking"], capture_output=True, text=True, timeout=20
            ).stdout
        except (OSError, subprocess.TimeoutExpired):
            return {}
        if found := re.findall(r'^Thread (\d+) \([^)]*\): "(.*)"$', text, flags=re.M):
            return {int(tid): name for tid, name in found}
    return {}


def thread_cpu_lines(parts: list[Part], before: dict[str, dict[int, float]], wall: float) -> dict[str, dict]:
    """Each product process's CPU over the window by thread group (outbox_0..7 together)."""
    out: dict[str, dict] = {}
    for part in parts:
        if part.proc is None:
            continue
        now = task_cpu(part.proc.pid)
        names = thread_names(part.proc.pid)
        groups: dict[str, float] = {}
        for tid, secs in now.items():
            name = profile_summary.thread_group(names.get(tid, "(not Python / unnamed)"))
            groups[name] = groups.get(name, 0.0) + secs - before.get(part.name, {}).get(tid, 0.0)
        out[part.name] = {k: v for k, v in sorted(groups.items(), key=lambda kv: -kv[1]) if v > 0}
    return {name: {"cpu_s": g, "wall_s": wall} for name, g in out.items()}


# --- profiling ---------------------------------------------------------------------------------


def start_profilers(
    parts: list[Part], out_dir: Path, label: str, seconds: float, mode: str
) -> list[tuple[str, subprocess.Popen, Path]]:
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out_dir.mkdir(parents=True, exist_ok=True)
    found = []
    for part in parts:
        if part.command == "web" or part.proc is None:
            continue  # the web process has nothing to do in this run
        for one in mode.split(","):
            out = out_dir / f"{label}-{part.name.split(' (')[0].replace(' ', '-')}-{one}.txt"
            flags = {"wall": ["--idle"], "cpu": [], "gil": ["--gil"]}[one]
            cmd = [exe, "record", "--pid", str(part.proc.pid), "--rate", "100", "--format", "raw", "--full-filenames"]
            cmd += ["--duration", str(int(seconds) + 1), "--nonblocking", "--threads", *flags, "--output", str(out)]
            popen = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            found.append((f"{part.name}, {one}", popen, out))
    return found


def stop_profiler(p: subprocess.Popen) -> None:
    try:
        p.wait(30)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGINT)
        p.wait(10)


# --- main --------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--topology", default="processes,up", help="processes, up, or both (processes,up: interleaved)")
    ap.add_argument("--dispatchers", type=int, default=2, help="`jinqiao dispatcher` processes (topology processes)")
    ap.add_argument("--rate", default="10,25,50", help="presses a second; a list such as 10,25,50 runs each")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of presses")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for stragglers after the load")
    ap.add_argument(
        "--idle-probe",
        type=float,
        default=0.0,
        metavar="S",
        help="first measure each process's CPU for S s of no presses",
    )
    ap.add_argument(
        "--boards",
        type=int,
        default=0,
        help="open boards during the load: each keeps the live stream open and reloads /api/v1/board on every change",
    )
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--log-level", default="info", help="the product's log level (each process logs to a file)")
    ap.add_argument("--quiet-below", type=float, default=0.0, help="first wait until the machine is less busy (%%)")
    ap.add_argument("--quiet-wait", type=float, default=300.0)
    ap.add_argument("--py-spy", metavar="DIR", help="profile the gateway and dispatcher processes with py-spy")
    ap.add_argument(
        "--py-spy-mode",
        default="wall",
        help="wall: every sample, waits included; cpu: running threads only; gil: the thread holding the GIL; "
        "several comma separated (wall,gil) record at once",
    )
    ap.add_argument("--py-spy-top", type=int, default=6, help="lines per thread in the profile summary")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    ap.add_argument(
        "--wake-cost", action="store_true", help="only measure what each pass costs when it finds nothing to do"
    )
    ap.add_argument("--report", metavar="JSON", help="only print the tables of an earlier run's --json file")
    args = ap.parse_args(argv)
    if args.report:
        for line in report(json.loads(Path(args.report).read_text())["runs"]):
            print(line)
        return 0
    topologies = [t.strip() for t in args.topology.split(",")]
    if not topologies or any(t not in ("processes", "up") for t in topologies):
        ap.error("--topology: processes, up, or processes,up")
    if any(m not in ("wall", "cpu", "gil") for m in args.py_spy_mode.split(",")):
        ap.error("--py-spy-mode: wall, cpu, gil, or several comma separated")
    if args.dispatchers < 1:
        ap.error("--dispatchers: at least 1")

    tmp = Path(tempfile.mkdtemp(prefix="jinqiao-bench-processes-", dir=os.environ.get("BENCH_TMP")))
    tmp.chmod(0o755)
    env = bd.Env(tmp, "postgresql")
    signal.signal(signal.SIGTERM, bd._interrupt)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "args": vars(args),
        "runs": [],
    }
    print(f"bench_processes: {os.cpu_count()} CPUs, Python {platform.python_version()}, temp {tmp}", flush=True)
    try:
        # pg_stat_statements: the statements each run makes, and the server's own time for them
        preload = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track_utility": "on"}
        env.pg = bd.Postgres(tmp / "pg", fsync=args.pg_fsync == "on", settings=preload).start()
        with pg_admin(env) as c:
            c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        print(f"  {env.pg.version} on port {env.pg.port}, fsync={args.pg_fsync}", flush=True)
        if args.wake_cost:
            print("\n== a pass that finds nothing to do, one thread, ms (wall / CPU):")
            for what, wall, cpu in wake_costs(env):
                print(f"   {what:<46} {wall:6.2f} / {cpu:5.2f}")
            return 0
        for rate in [float(r) for r in str(args.rate).split(",")]:
            for topology in topologies:
                if args.quiet_below:
                    busy = bd.wait_quiet(args.quiet_below, args.quiet_wait)
                else:
                    busy = bd.machine_busy(2.0)
                print(f"  machine {busy:.0f}% busy just before the run (2 s sample)", flush=True)
                run = run_one(env, args, topology, rate)
                run["busy_before_pct"] = busy
                results["runs"].append(run)
        results["db"] = env.db_label()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if env.pg:
            env.pg.stop()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    for line in report(results["runs"]):
        print(line)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False))
    return 0


def wakes(sql: dict, presses: int) -> dict[str, float]:
    """The passes run a press, from the statements that only they make (ticks of idle passes included)."""

    def calls(*needles: str) -> int:
        return sum(c for c, _ms, q in sql.get("top", []) if all(x in q for x in needles))

    n = max(presses, 1)
    return {
        "events": calls("FROM events WHERE events.processed_at IS NULL", "SKIP LOCKED") / n,
        "escalations": calls("FROM alerts WHERE alerts.next_action_at <=", "SKIP LOCKED") / n,
        # one claim reads each channel (sms, voice) once
        "claims": calls("FROM notifications WHERE notifications.channel =", "SKIP LOCKED") / n / 2,
        "plans": calls("SELECT alerts.next_action_at FROM alerts") / n,
    }


def label(r: dict) -> str:
    boards = len(r.get("boards", []))
    return r["topology"] + (f" + {boards} board{'s' if boards > 1 else ''}" if boards else "")


def report(runs: list[dict]) -> list[str]:
    """All runs as Markdown tables (docs/benchmarks.md takes them as they are)."""
    if not runs:
        return []
    out = ["| topology | presses/s | answered | API requests | press → first request, ms: p50 / p95 / **p99** / max |"]
    out.append("|---|---|---|---|---|")
    for r in runs:
        s = r["stages_ms"]["press -> first API request"]
        figures = f"{s['p50']:.1f} / {s['p95']:.1f} / **{s['p99']:.1f}** / {s['max']:.1f}" if s.get("n") else "–"
        out.append(
            f"| {label(r)} | {r['rate']:g} | {r['answered']}/{r['presses']} | "
            f"{r['requests_seen']}/{r['requests_expected']} | {figures} |"
        )
    out += ["", "| topology | presses/s | publish → gateway batch | batch → alert opened | opened → first request |"]
    out.append("|---|---|---|---|---|")
    for r in runs:
        cells = []
        for stage in ("publish -> gateway batch", "gateway batch -> alert opened", "alert opened -> first API request"):
            s = r["stages_ms"][stage]
            cells.append(f"{s['p50']:.1f} / {s['p99']:.1f}" if s.get("n") else "–")
        out.append(f"| {label(r)} | {r['rate']:g} | {' | '.join(cells)} |")
    out += [
        "",
        "| topology | presses/s | CPU, % of one CPU, over the load window | machine busy |",
        "|---|---|---|---|",
    ]
    for r in runs:
        wall = r["duration"]  # the window's own length is in cpu_lines; shares here are over the window
        line = r["cpu_lines"][0]
        secs = float(line.split("CPU over ", 1)[1].split(" s", 1)[0]) if "CPU over " in line else wall
        shares = ", ".join(f"{k.split(' (')[0]} {100 * v / secs:.0f}" for k, v in r["cpu"].items())
        busy = line.rsplit("machine ", 1)[1].split("%", 1)[0] if "machine " in line else "?"
        out.append(f"| {label(r)} | {r['rate']:g} | {shares} | {busy}% |")
    out += [
        "",
        "| topology | presses/s | product CPU a press, ms, by thread | SQL statements / commits a press | server time a press "
        "| passes a press: events / escalations / outbox claims |",
        "|---|---|---|---|---|---|",
    ]
    for r in runs:
        n = max(r["presses"], 1)
        total: dict[str, float] = {}
        for t in r.get("threads", {}).values():
            for k, v in t["cpu_s"].items():
                total[k] = total.get(k, 0.0) + v
        threads = ", ".join(f"{k} {1000 * v / n:.1f}" for k, v in sorted(total.items(), key=lambda kv: -kv[1])[:6])
        sql = r.get("sql") or {}
        k = sql.get("counters", {})
        out.append(
            f"| {label(r)} | {r['rate']:g} | {threads} | {sql.get('calls', 0) / n:.1f} / "
            f"{k.get('commits', 0) / n:.1f} | {sql.get('exec_ms', 0) / n:.2f} ms | "
            f"{(w := wakes(sql, n))['events']:.1f} / {w['escalations']:.1f} / {w['claims']:.1f} |"
        )
    return out


if __name__ == "__main__":
    sys.exit(main())
