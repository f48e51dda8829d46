#!/usr/bin/env python3
"""Dispatcher benchmark: two bounded runs, everything private and on 127.0.0.1.

    .venv/bin/python scripts/bench_dispatch.py                      # both measurements, SQLite
    .venv/bin/python scripts/bench_dispatch.py --db postgresql      # both, a private PostgreSQL cluster
    .venv/bin/python scripts/bench_dispatch.py --only press --rate 50 --duration 20
    .venv/bin/python scripts/bench_dispatch.py --only timers --alerts 10000 --spread 60
    .venv/bin/python scripts/bench_dispatch.py --only cost          # CPU and SQL per unit of work

1. press  -> first Twilio API request, open loop.
   Our own Mosquitto (free port, the configuration of docs/deployment.md), the real Gateway and the
   real dispatcher (build_dispatcher, the real TwilioNotifier and `twilio` library) in this process,
   wired as tests/test_end_to_end.py and `jinqiao up` wire them (ingest.on_stored wakes the engine).
   The fake Twilio (simulators/fake_twilio.py) runs in a child process, as Twilio is not inside ours;
   it records the time each Messages.json / Calls.json request arrived. A publisher process presses
   `--rate` buttons a second for `--duration` s, each press from a different device of a different
   resident, each at its scheduled time whatever came back (open loop). Each resident has a building
   of its own with one party member, so the party member's phone number names the press: latency =
   time the fake received the first request to that number - time the press was published.
   Twilio's own rate limit is not what is measured: sms/calls_per_second are set to 10000.
   By default the fake never calls back (its status delays are set to days): only the press path is
   loaded. `--callbacks` also serves the webhooks in this process (as `jinqiao up` does) and lets the
   fake post status callbacks and fetch TwiML at Twilio's pace.

2. timers -> escalation timer lateness with `--alerts` open alerts.
   `--alerts` triggered alerts are written straight into the database (tier 0 = the building tier
   already paged, step 1, with the rows that step left: timeline and delivered notifications), their
   next_action_at spread evenly over `--spread` s starting `--lead` s after the insert. Then the real
   Engine (escalator + sender threads, APScheduler, the real clock) runs with an in-process notifier
   that only records (this measures timers, not Twilio). Lateness of a step = the `at` of its
   `tier_notified` timeline row (the dispatcher's now() when it decided) - its scheduled
   next_action_at; also reported: the time the first page of that step reached the notifier.

3. cost (only with --only cost): one thread, nothing else in the process, CPU time and SQL
   statements per alert opened, per timer step and per notification sent (a notifier that only
   returns an id). It says what one dispatcher process can sustain at best.

Clocks: every timestamp is the wall clock of this one machine (time.time(), datetime.now(UTC) in the
product and in the fake): publisher, fake, gateway and dispatcher all read the same clock.
The load generators, broker, database and the service share this machine's CPUs; the tables show
CPU used by each and by everything else on the machine during the window. All processes started
here are stopped at the end, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gateway.mqtt_link import stop_network_loop  # noqa: E402
from simulators import services  # noqa: E402  (after the path set-up)

TOPIC_ROOT = "jinqiao"
SID, TOKEN, FROM = "AC" + "0" * 32, "bench-token", "+15005550006"
GOAL_PRESS_P99_MS = 50.0
GOAL_TIMER_P99_S = 1.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, timezone.utc)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    s = sorted(values)
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": min(values),
        "p50": pct(values, 50),
        "p95": pct(values, 95),
        "p99": pct(values, 99),
        "max": max(values),
        "mean": sum(values) / len(values),
    }


# --- services ----------------------------------------------------------------------------------


class Postgres(services.Postgres):
    """The tests' private cluster, plus the process list the CPU accounting needs."""

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, WAL writer, …)."""
        try:
            master = self.postmaster_pid()
        except (OSError, ValueError, IndexError):
            return []
        found = [master]
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if int((d / "stat").read_text().rsplit(")", 1)[1].split()[1]) == master:
                        found.append(int(d.name))
                except (OSError, ValueError, IndexError):
                    pass
        return found


# --- CPU accounting ----------------------------------------------------------------------------


def proc_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_cpu() -> tuple[float, float]:
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / CLK_TCK, total / CLK_TCK


def machine_busy(seconds: float) -> float:
    """Percent of all CPUs busy over the next `seconds`."""
    b0, t0 = machine_cpu()
    time.sleep(seconds)
    b1, t1 = machine_cpu()
    return 100.0 * (b1 - b0) / max(t1 - t0, 1e-9)


class CpuWindow:
    """CPU seconds used by each named group of processes between start() and end()."""

    def __init__(self, groups: dict[str, callable]) -> None:
        self.groups = groups  # name -> () -> list of pids (re-read at the end: backends come and go)

    def _read(self) -> dict[str, dict[int, float]]:
        return {name: {pid: proc_cpu(pid) for pid in pids()} for name, pids in self.groups.items()}

    def start(self) -> CpuWindow:
        self.t0 = time.monotonic()
        self.before = self._read()
        self.m0 = machine_cpu()
        return self

    def end(self) -> dict[str, float]:
        after = self._read()
        wall = time.monotonic() - self.t0
        m1 = machine_cpu()
        out: dict[str, float] = {}
        for name, now in after.items():
            out[name] = sum(v - self.before[name].get(pid, 0.0) for pid, v in now.items())
        busy = m1[0] - self.m0[0]
        ncpu = os.cpu_count() or 1
        out["everything else"] = max(0.0, busy - sum(out.values()))
        self.wall = wall
        self.machine_busy_pct = 100.0 * busy / max(m1[1] - self.m0[1], 1e-9)
        self.ncpu = ncpu
        return out


def cpu_lines(cpu: dict[str, float], window: CpuWindow) -> list[str]:
    lines = [f"CPU over {window.wall:.1f} s ({window.ncpu} CPUs, machine {window.machine_busy_pct:.0f}% busy):"]
    for name, secs in cpu.items():
        lines.append(f"  {name:<34} {secs:7.1f} s  = {100 * secs / window.wall:5.0f}% of one CPU")
    return lines


# --- child processes ---------------------------------------------------------------------------


def _fake_twilio_main(conn, callbacks: bool, webhook_base: str | None, api_latency: float) -> None:
    """The fake Twilio in its own process. Commands over the pipe: count, dump, stop."""
    from simulators.fake_twilio import Delays, FakeTwilio

    threading.stack_size(256 * 1024)  # one sleeping thread per accepted send
    never = 10**6
    delays = Delays() if callbacks else Delays(status_step=never, ring=never, answer=never, no_answer=never, talk=never)
    fake = FakeTwilio(auth_token=TOKEN, account_sid=SID, webhook_base=webhook_base, delays=delays, speed=1.0)
    # The fake's http.server handler writes the headers and the body of an answer in two writes; with
    # Nagle's algorithm on, the body then waits for the client's delayed ACK: about 40 ms a request
    # (measured: 44 ms p50 with, 1.6 ms without). Twilio does not do that; switch Nagle off here.
    fake._server.RequestHandlerClass.disable_nagle_algorithm = True
    if api_latency > 0:  # Twilio's response time as seen from the service: the answer comes this much later
        for name in ("create_message", "create_call"):
            original = getattr(fake, name)

            def slow(account, form, _original=original):
                answer = _original(account, form)  # recorded (Sent.time) on arrival, as before
                time.sleep(api_latency)
                return answer

            setattr(fake, name, slow)
    fake.start()
    conn.send(fake.url)
    while True:
        cmd = conn.recv()
        if cmd == "count":
            conn.send(len(fake.requests))
        elif cmd == "dump":
            sent = fake.messages + fake.calls
            conn.send(
                {
                    "sent": [(s.kind, s.to, s.time.timestamp()) for s in sent],
                    "requests": [(r.time.timestamp(), r.path, r.to, r.status_code) for r in fake.requests],
                    "callbacks": [(c.kind, c.status_code, c.error) for c in fake.callbacks],
                }
            )
        elif cmd == "stop":
            fake.stop()
            conn.send("stopped")
            return


def _publisher_main(conn, port: int, plan: list[tuple[str, str]], t0: float, rate: float) -> None:
    """Open loop: press i is published at t0 + i/rate whatever happened before. Sends back
    (scheduled, published) wall-clock times per press."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-publisher-{os.getpid()}", protocol=mqtt.MQTTv5)
    c.max_inflight_messages_set(0)
    c.max_queued_messages_set(0)
    c.on_socket_open = lambda client, userdata, sock: sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    connected = threading.Event()
    c.on_connect = lambda *a: connected.set()
    c.connect("127.0.0.1", port, keepalive=60)
    c.loop_start()
    if not connected.wait(15):
        conn.send({"error": "publisher: no CONNACK"})
        return
    conn.send("ready")
    times: list[tuple[float, float]] = []
    infos = []
    for i, (device, event_id) in enumerate(plan):
        at = t0 + i / rate
        delay = at - time.time()
        if delay > 0:
            time.sleep(delay)
        payload = json.dumps({"id": event_id, "type": "alarm", "battery": 87}, separators=(",", ":"))
        published = time.time()
        infos.append(c.publish(f"{TOPIC_ROOT}/v1/dev/{device}/event", payload, qos=1))
        times.append((at, published))
    for info in infos:
        info.wait_for_publish(30)
    conn.send({"times": times, "unacked": sum(1 for i in infos if not i.is_published())})
    c.disconnect()
    stop_network_loop(c)


# --- registry ---------------------------------------------------------------------------------


def phone(prefix: str, i: int) -> str:
    return f"+86{prefix}{i:08d}"


def build_registry(
    n_residents: int,
    residents_per_building: int,
    buildings_per_community: int,
    family: bool,
    devices: bool,
    prefix: str = "r",
) -> dict:
    """A registry document: each building has its own party member (a unique phone number), each
    community its own mediator, one hotline roster for all; tiers as the product's example."""
    communities, residents, devs, responders = [], [], [], []
    n_buildings = -(-n_residents // residents_per_building)
    for b in range(n_buildings):
        c = b // buildings_per_community
        if b % buildings_per_community == 0:
            responders.append({"id": f"med-{c}", "name": f"调解员{c}", "phone": phone("138", c)})
            communities.append(
                {
                    "id": f"com-{c}",
                    "name": f"社区{c}",
                    "timezone": "Asia/Shanghai",
                    "mediator": f"med-{c}",
                    "buildings": [],
                }
            )
        responders.append({"id": f"pm-{b}", "name": f"党员{b}", "phone": phone("139", b)})
        communities[-1]["buildings"].append({"id": f"bld-{b}", "name": f"{b}幢", "party_members": [f"pm-{b}"]})
    for i in range(n_residents):
        r = {
            "id": f"{prefix}-{i}",
            "name": f"居民{i}",
            "building": f"bld-{i // residents_per_building}",
            "address": f"{i // residents_per_building}幢{i % residents_per_building + 1}01",
            "lives_alone": True,
        }
        if family:
            r["contacts"] = [{"name": f"家属{i}", "phone": phone("137", i), "notify": True}]
        residents.append(r)
        if devices:
            devs.append({"id": f"dev-{i}", "resident": r["id"], "kind": "pager", "heartbeat": "10m"})
    responders += [
        {"id": "duty-a", "name": "值班甲", "phone": phone("136", 1)},
        {"id": "duty-b", "name": "值班乙", "phone": phone("136", 2)},
    ]
    day = [
        {"from": "08:00", "to": "20:00", "responder": "duty-a"},
        {"from": "20:00", "to": "08:00", "responder": "duty-b"},
    ]
    return {
        "communities": communities,
        "residents": residents,
        "devices": devs,
        "responders": responders,
        "hotline": {"workday": day, "weekend": day, "holiday": day},
        "escalation": {
            "tiers": [
                {"tier": "building", "channels": ["sms", "voice"], "timeout": "2m"},
                {"tier": "mediator", "channels": ["sms", "voice"], "timeout": "2m"},
                {"tier": "hotline", "channels": ["sms", "voice"], "timeout": "2m"},
            ],
            "ack_expiry": "24h",
        },
    }


def import_doc(engine, doc: dict) -> float:
    from core.db import session_factory
    from registry.store import import_registry
    from registry.validation import validate_registry

    t = time.monotonic()
    import_registry(session_factory(engine), validate_registry(doc))
    return time.monotonic() - t


# --- set-up shared by both runs ----------------------------------------------------------------


@dataclass
class Env:
    tmp: Path
    db: str
    pg: Postgres | None = None
    log_file: object = None

    def new_database(self, name: str) -> str:
        from core.db import upgrade

        if self.db == "sqlite":
            url = f"sqlite:///{self.tmp}/{name}.db"
        else:
            url = self.pg.create_database(name)
        upgrade(url)
        return url

    def db_pids(self) -> list[int]:
        return self.pg.pids() if self.pg else []

    def db_label(self) -> str:
        if self.db == "sqlite":
            return f"SQLite {__import__('sqlite3').sqlite_version} (WAL, synchronous=FULL) file on {self.tmp}"
        return f"{self.pg.version}, fsync={'on' if self.pg.fsync else 'off'}, private cluster"


def configure_logs(level: str, path: Path):
    """The product's structlog set-up (JSON lines, as in production off a terminal), into a file."""
    import structlog

    from core.logs import configure_logging

    configure_logging(level, "json")
    f = open(path, "a", buffering=1)  # noqa: SIM115  (the log for the rest of the run)
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=f))
    import logging

    for h in logging.getLogger().handlers:
        if isinstance(h, logging.StreamHandler):
            h.setStream(f)
    return f


def wait_quiet(threshold: float, max_wait: float) -> float:
    """Waits (up to max_wait s) for the machine to be less than `threshold`% busy; returns the last reading."""
    deadline = time.monotonic() + max_wait
    busy = machine_busy(2.0)
    while busy > threshold and time.monotonic() < deadline:
        print(f"  machine {busy:.0f}% busy (others' work); waiting for < {threshold:.0f}% …", flush=True)
        busy = machine_busy(5.0)
    return busy


# --- 1. press -> first Twilio request -----------------------------------------------------------


def run_press(env: Env, args) -> dict:
    from sqlalchemy import text

    from core.db import make_engine
    from core.settings import load_settings
    from dispatcher.service import build_dispatcher
    from gateway.service import Gateway
    from simulators.services import Mosquitto, free_port, wait_for_port

    n = int(round(args.rate * args.duration))
    warm = 5
    print(
        f"\n[press] {n} presses at {args.rate:g}/s for {args.duration:g} s ({warm} warm-up presses first), {env.db}",
        flush=True,
    )
    url = env.new_database(f"press_{os.getpid()}_{int(args.rate * 1000)}")
    engine = make_engine(url)
    doc = build_registry(
        n + warm, residents_per_building=1, buildings_per_community=100, family=not args.no_family, devices=True
    )
    took = import_doc(engine, doc)
    print(
        f"  registry: {n + warm} residents, buildings, party members and devices imported in {took:.1f} s", flush=True
    )

    broker = Mosquitto(
        env.tmp / f"mosquitto-{args.current}", conf_extra="set_tcp_nodelay true\n" if args.broker_nodelay else ""
    )
    broker.start()
    ctx = mp.get_context("spawn")
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    fake_conn, child_conn = ctx.Pipe()
    fake = ctx.Process(
        target=_fake_twilio_main,
        args=(child_conn, args.callbacks, public if args.callbacks else None, args.api_latency / 1000),
        name="fake-twilio",
        daemon=True,
    )
    fake.start()
    fake_url = fake_conn.recv()

    settings = load_settings(
        database_url=url,
        mqtt_url=broker.url,
        public_url=public,
        http_port=port,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from=FROM,
        twilio_api_url=fake_url,
        sms_per_second=10000,
        calls_per_second=10000,
    )
    from jinqiao.runtime import tune_interpreter

    tune_interpreter()  # as `jinqiao up` does
    dispatcher = build_dispatcher(settings, engine)
    gateway = Gateway(engine, broker.url, TOPIC_ROOT, "bench")
    gateway.ingest.on_stored = dispatcher.engine.wake
    server = http = None
    if args.callbacks:
        import uvicorn

        from jinqiao.runtime import dispatcher_app
        from web.app import Readiness

        app = dispatcher_app(Readiness(engine, {"broker": gateway.link.connected}), dispatcher, engine)
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
        http = threading.Thread(target=server.run, name="http", daemon=True)
    pub = None
    result: dict = {}
    try:
        dispatcher.start()
        gateway.start()
        if http:
            http.start()
            wait_for_port(port)
        if not gateway.link.wait_connected(15):
            raise RuntimeError("the gateway did not connect to the broker")
        per_alarm = 2 + (0 if args.no_family else 1)  # page SMS + page call (+ family SMS)

        def fake_count() -> int:
            fake_conn.send("count")
            return fake_conn.recv()

        def wait_requests(target: int, timeout: float) -> int:
            deadline = time.monotonic() + timeout
            got = fake_count()
            while got < target and time.monotonic() < deadline:
                time.sleep(0.25)
                got = fake_count()
            return got

        # warm-up: imports, first connections, the twilio client, caches; excluded from the figures
        warm_plan = [(f"dev-{n + i}", f"warm-{i}") for i in range(warm)]
        run_publisher(ctx, broker.port, warm_plan, rate=10.0)
        wait_requests(warm * per_alarm, 20)
        time.sleep(1.0)
        base_requests = fake_count()

        plan = [(f"dev-{i}", f"press-{i}") for i in range(n)]
        groups = {
            "service (gateway+dispatcher+web)" if args.callbacks else "service (gateway+dispatcher)": lambda: [
                os.getpid()
            ],
            "fake Twilio (child process)": lambda: [fake.pid],
            "mosquitto": lambda: [broker.proc.pid],
        }
        if env.pg:
            groups["postgresql (all backends)"] = env.db_pids
        pub_conn, pub_child = ctx.Pipe()
        t0 = time.time() + 3.0
        pub = ctx.Process(
            target=_publisher_main, args=(pub_child, broker.port, plan, t0, args.rate), name="publisher", daemon=True
        )
        pub.start()
        ready = pub_conn.recv()
        if ready != "ready":
            raise RuntimeError(str(ready))
        groups["publisher (child process)"] = lambda: [pub.pid]
        window = CpuWindow(groups)
        time.sleep(max(0.0, t0 - time.time() - 0.2))
        profiler = start_profiler(args, args.duration + 2)
        window.start()
        pub_result = pub_conn.recv()
        expected = base_requests + n * per_alarm
        got = wait_requests(expected, args.drain)
        cpu = window.end()
        stop_profiler(profiler)
        pub.join(10)
        time.sleep(0.5)
        fake_conn.send("dump")
        dump = fake_conn.recv()

        # what the database says about each press
        with engine.connect() as c:
            events = {eid: at for eid, at in c.execute(text("SELECT event_id, received_at FROM events"))}
            alerts = {eid: at for eid, at in c.execute(text("SELECT source_event_id, opened_at FROM alerts"))}
            queued = c.execute(text("SELECT count(*) FROM notifications WHERE status = 'queued'")).scalar()
        result = analyse_press(args, n, plan, pub_result, dump, events, alerts, doc)
        result.update(
            cpu=cpu,
            cpu_lines=cpu_lines(cpu, window),
            requests_expected=expected - base_requests,
            requests_seen=got - base_requests,
            still_queued=queued,
            callbacks=args.callbacks,
            family=not args.no_family,
            api_latency_ms=args.api_latency,
        )
    finally:
        if pub is not None and pub.is_alive():
            pub.terminate()
        if server:
            server.should_exit = True
            http.join(5)
        gateway.stop()
        dispatcher.stop()
        try:
            fake_conn.send("stop")
            fake_conn.recv()
        except (OSError, EOFError):
            pass
        fake.join(10)
        if fake.is_alive():
            fake.terminate()
        broker.stop()
        engine.dispose()
    print_press(result, env)
    return result


def run_publisher(ctx, port: int, plan, rate: float) -> dict:
    conn, child = ctx.Pipe()
    p = ctx.Process(target=_publisher_main, args=(child, port, plan, time.time() + 1.0, rate), daemon=True)
    p.start()
    conn.recv()
    out = conn.recv()
    p.join(10)
    return out


def analyse_press(args, n, plan, pub_result, dump, events, alerts, doc) -> dict:
    """Per press: published -> gateway batch -> alert opened (dispatcher pass) -> first API request."""
    first: dict[str, float] = {}
    for _kind, to, t in dump["sent"]:
        if to not in first or t < first[to]:
            first[to] = t
    # dev-i belongs to resident r-i, in building bld-i whose party member has phone 139{i:08d}
    e2e, stored, opened, sent_after_open, late = [], [], [], [], []
    missing = 0
    for i, ((_device, event_id), (sched, published)) in enumerate(zip(plan, pub_result["times"], strict=False)):
        late.append(published - sched)
        to = phone("139", i)
        if to not in first:
            missing += 1
            continue
        e2e.append(first[to] - published)
        ev, al = events.get(event_id), alerts.get(event_id)
        if ev is not None and al is not None:
            ev_ts = ev.replace(tzinfo=timezone.utc).timestamp() if isinstance(ev, datetime) else _parse_db_time(ev)
            al_ts = al.replace(tzinfo=timezone.utc).timestamp() if isinstance(al, datetime) else _parse_db_time(al)
            stored.append(ev_ts - published)
            opened.append(al_ts - ev_ts)
            sent_after_open.append(first[to] - al_ts)
    errors = sum(1 for _, _, _, status in dump["requests"] if status >= 300)
    callbacks = len(dump["callbacks"])
    callbacks_failed = sum(1 for _, status, error in dump["callbacks"] if error or not status or status >= 300)
    ms = lambda xs: [1000 * x for x in xs]  # noqa: E731
    return {
        "presses": n,
        "rate": args.rate,
        "duration": args.duration,
        "answered": len(e2e),
        "missing": missing,
        "api_errors": errors,
        "webhook_posts": callbacks,
        "webhook_posts_failed": callbacks_failed,
        "publisher_late_ms": summary(ms(late)),
        "unacked": pub_result.get("unacked"),
        "stages_ms": {
            "publish -> gateway batch": summary(ms(stored)),
            "gateway batch -> alert opened": summary(ms(opened)),
            "alert opened -> first API request": summary(ms(sent_after_open)),
            "press -> first API request": summary(ms(e2e)),
        },
    }


def _parse_db_time(value) -> float:
    return datetime.fromisoformat(str(value)).replace(tzinfo=timezone.utc).timestamp()


def print_press(r: dict, env: Env) -> None:
    if not r:
        return
    print(f"\n== press -> first Twilio API request: {r['presses']} presses at {r['rate']:g}/s, {env.db_label()}")
    print(
        f"   answered {r['answered']}/{r['presses']} (missing {r['missing']}), API requests {r['requests_seen']}"
        f"/{r['requests_expected']} expected, non-2xx {r['api_errors']}, still queued {r['still_queued']}, "
        f"callbacks {'on' if r['callbacks'] else 'off'}, family SMS {'on' if r['family'] else 'off'}, "
        f"fake API latency {r['api_latency_ms']:g} ms"
    )
    if r["callbacks"]:
        print(
            f"   webhook posts by the fake (status callbacks, TwiML, keys): {r['webhook_posts']}, "
            f"failed {r['webhook_posts_failed']}"
        )
    print(f"   {'ms':<36}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for name, s in r["stages_ms"].items():
        if s.get("n"):
            print(f"   {name:<36}{s['p50']:9.1f}{s['p95']:9.1f}{s['p99']:9.1f}{s['max']:9.1f}")
    lt = r["publisher_late_ms"]
    print(f"   {'(publisher behind its schedule)':<36}{lt['p50']:9.1f}{lt['p95']:9.1f}{lt['p99']:9.1f}{lt['max']:9.1f}")
    e2e = r["stages_ms"]["press -> first API request"]
    if e2e.get("n"):
        ok = e2e["p99"] <= GOAL_PRESS_P99_MS and r["missing"] == 0
        print(f"   goal p99 <= {GOAL_PRESS_P99_MS:g} ms: {'MET' if ok else 'NOT MET'} (p99 {e2e['p99']:.1f} ms)")
    for line in r["cpu_lines"]:
        print("   " + line)


# --- 2. timer lateness ------------------------------------------------------------------------


class RecordingNotifier:
    """Sends nothing: records when each page reached it (this run measures timers, not Twilio)."""

    sender_id = "bench"
    delivers_at_once = True

    def __init__(self) -> None:
        self.sent: list[tuple[int | None, str, float]] = []
        self._lock = threading.Lock()
        self.alerts: set[int] = set()

    def send(self, note) -> str:
        t = time.time()
        with self._lock:
            self.sent.append((note.alert_id, note.channel, t))
            self.alerts.add(note.alert_id)
        return f"bench-{note.id}"


def run_timers(env: Env, args) -> dict:
    from sqlalchemy import bindparam, insert, select, text, update

    from core.db import make_engine, session_factory
    from core.schema import Alert, Notification, TimelineEntry
    from dispatcher.alerts import Alerts
    from dispatcher.engine import Engine
    from dispatcher.passes import SENDER, Pass
    from dispatcher.passes.outbox import Outbox
    from dispatcher.sending import RateLimiter

    n = args.alerts
    print(f"\n[timers] {n} open alerts, next steps spread over {args.spread:g} s, {env.db}", flush=True)
    url = env.new_database(f"timers_{os.getpid()}")
    engine = make_engine(url)
    per_building = 10
    doc = build_registry(
        n, residents_per_building=per_building, buildings_per_community=10, family=not args.no_family, devices=False
    )
    took = import_doc(engine, doc)
    print(
        f"  registry: {n} residents in {n // per_building} buildings, {n // per_building // 10} communities, "
        f"imported in {took:.1f} s",
        flush=True,
    )

    # the alerts, as the first step left them: building tier paged, waiting for its timer
    t_ins = time.monotonic()
    opened = datetime.now(timezone.utc) - timedelta(seconds=90)
    far = opened + timedelta(days=1)
    rng = random.Random(7)
    with engine.begin() as c:
        c.execute(
            insert(Alert),
            [
                dict(
                    code=f"{10000 + i}",  # codes are unique among open alerts; past 9000 they have five digits
                    resident_id=f"r-{i}",
                    device_id=None,
                    kind="emergency",
                    reason="alarm",
                    state="triggered",
                    opened_at=opened,
                    updated_at=opened,
                    source_event_id=None,
                    cycle=0,
                    tier_index=0,
                    tier_round=0,
                    step=1,
                    next_action_at=far,
                    repeat_presses=0,
                )
                for i in range(n)
            ],
        )
        ids = [row[0] for row in c.execute(select(Alert.id).order_by(Alert.id))]
        c.execute(
            insert(TimelineEntry),
            [
                dict(alert_id=a, at=opened, what=w, actor="system", channel="system", detail={})
                for a in ids
                for w in ("opened", "tier_notified")
            ],
        )
        c.execute(
            insert(Notification),
            [
                dict(
                    dedupe_key=f"{a}:0:1:pm-{i // per_building}:{ch}",
                    alert_id=a,
                    responder_id=f"pm-{i // per_building}",
                    recipient_name="",
                    to_number=phone("139", i // per_building),
                    channel=ch,
                    purpose="page",
                    cycle=0,
                    tier_index=0,
                    tier_round=0,
                    priority=0,
                    body="…",
                    language="zh-CN",
                    status="delivered",
                    final=True,
                    failed=False,
                    attempts=1,
                    next_attempt_at=opened,
                    created_at=opened,
                    sent_at=opened,
                    provider_sid=f"old-{a}-{ch}",
                    provider_status="delivered",
                )
                for i, a in enumerate(ids)
                for ch in ("sms", "voice")
            ],
        )
    # evenly spread over the window, in an order unrelated to the alert ids
    due = min(args.due or n, n)
    offsets = [args.lead + args.spread * (k + 0.5) / due for k in range(due)]
    offsets += [args.lead + args.spread + 3600.0] * (n - due)  # open, but their timers are an hour away
    rng.shuffle(offsets)
    base = time.time()
    scheduled = {a: base + off for a, off in zip(ids, offsets, strict=False)}
    with engine.begin() as c:
        c.execute(
            update(Alert).where(Alert.id == bindparam("aid")).values(next_action_at=bindparam("due")),
            [{"aid": a, "due": utc(t)} for a, t in scheduled.items()],
        )
    setup_s = time.monotonic() - t_ins
    first_due = min(scheduled.values())
    print(
        f"  {n} alerts (+{2 * n} timeline rows, {2 * n} notifications) written in {setup_s:.1f} s; "
        f"first timer due in {first_due - time.time():.1f} s",
        flush=True,
    )
    if first_due <= time.time() + 0.5:
        print("  WARNING: the first timers came due before the engine started; raise --lead", flush=True)

    sessions = session_factory(engine)
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    notifier = RecordingNotifier()
    alerts = Alerts(sessions, now)
    from core.settings import Settings
    from jinqiao.runtime import tune_interpreter

    tune_interpreter()  # as `jinqiao dispatcher` does
    outbox = Outbox(sessions, notifier, now, RateLimiter({}), workers=Settings.model_fields["send_workers"].default)
    # the escalation and the outbox passes only: this measures timers, not supervision
    dispatcher = Engine(
        alerts,
        outbox,
        now,
        [
            Pass("events", alerts.process_events),
            Pass("escalations", alerts.escalate_due),
            Pass("outbox", outbox.send_due, SENDER),
        ],
    )
    groups = {"service (dispatcher engine)": lambda: [os.getpid()]}
    if env.pg:
        groups["postgresql (all backends)"] = env.db_pids
    window = CpuWindow(groups)
    started = time.time()
    dispatcher.start()
    window.start()
    profiler = start_profiler(args, args.lead + args.spread + 5)
    deadline = first_due + args.spread + args.drain
    progress_at = time.time() + 10
    while len(notifier.alerts) < due and time.time() < deadline:
        time.sleep(0.2)
        if time.time() >= progress_at:
            print(f"  … {len(notifier.alerts)}/{due} alerts paged ({len(notifier.sent)} pages)", flush=True)
            progress_at += 10
    cpu = window.end()
    stop_profiler(profiler)
    dispatcher.stop()
    end = time.time()

    with engine.connect() as c:
        rows = c.execute(
            select(TimelineEntry.alert_id, TimelineEntry.at, TimelineEntry.detail)
            .where(TimelineEntry.what == "tier_notified", TimelineEntry.at >= utc(started))
            .order_by(TimelineEntry.alert_id, TimelineEntry.at)
        ).all()
        steps = dict(c.execute(text("SELECT step, count(*) FROM alerts GROUP BY step")).all())
    # The step each alert was waiting for; a run longer than the tier timeout (2 minutes) also sees
    # the following step, whose due time is the `next_at` its predecessor wrote: both are timers.
    decided: dict[int, float] = {}
    later_steps: list[float] = []
    previous_next: dict[int, float] = {}
    for a, at, detail in rows:
        if a not in decided:
            decided[a] = at.timestamp()
        elif a in previous_next:
            later_steps.append(at.timestamp() - previous_next[a])
        previous_next[a] = datetime.fromisoformat(detail["next_at"]).timestamp()
    first_page: dict[int, float] = {}
    for a, _ch, t in notifier.sent:
        if a is not None and (a not in first_page or t < first_page[a]):
            first_page[a] = t
    lateness = [decided[a] - scheduled[a] for a in decided if a in scheduled]
    page_late = [first_page[a] - scheduled[a] for a in first_page if a in scheduled]
    # a step still not taken when the run ended is at least (end - due) late: counted so, not left out
    overdue = [end - t for a, t in scheduled.items() if t <= end and a not in decided]
    overdue_pages = [end - t for a, t in scheduled.items() if t <= end and a not in first_page]
    lateness += overdue
    page_late += overdue_pages
    early = sum(1 for x in lateness if x < 0)
    result = {
        "alerts": n,
        "due": due,
        "spread": args.spread,
        "lead": args.lead,
        "stepped": len(decided),
        "early": early,
        "overdue_at_end": len(overdue),
        "steps_by_value": {str(k): v for k, v in steps.items()},
        "pages": len(notifier.sent),
        "paged_alerts": len(first_page),
        "decision_late_s": summary(lateness),
        "page_late_s": summary(page_late),
        "later_steps": len(later_steps),
        "later_steps_late_s": summary(later_steps),
        "cpu": cpu,
        "cpu_lines": cpu_lines(cpu, window),
        "run_s": end - started,
    }
    engine.dispose()
    print_timers(result, env)
    return result


def print_timers(r: dict, env: Env) -> None:
    print(
        f"\n== escalation timer lateness: {r['alerts']} open alerts, {r['due']} of them due evenly over "
        f"{r['spread']:g} s ({r['due'] / r['spread']:.0f} steps/s, {2 * r['due'] / r['spread']:.0f} pages/s), "
        f"{env.db_label()}"
    )
    print(
        f"   steps taken {r['stepped']}/{r['due']} (early: {r['early']}; following steps also due in the run: "
        f"{r['later_steps']}), pages to the notifier {r['pages']} for {r['paged_alerts']} alerts"
    )
    if r["overdue_at_end"]:
        print(
            f"   {r['overdue_at_end']} due steps were still not taken when the run ended: counted at their lateness "
            f"so far (a lower bound)"
        )
    print(f"   {'seconds late':<36}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}")
    for name, key in (
        ("timer due -> step decided", "decision_late_s"),
        ("timer due -> first page sent", "page_late_s"),
        ("(following steps: due -> decided)", "later_steps_late_s"),
    ):
        s = r[key]
        if s.get("n"):
            print(f"   {name:<36}{s['p50']:9.3f}{s['p95']:9.3f}{s['p99']:9.3f}{s['max']:9.3f}")
    s = r["decision_late_s"]
    if s.get("n"):
        ok = s["p99"] <= GOAL_TIMER_P99_S and r["stepped"] == r["due"]
        print(f"   goal p99 <= {GOAL_TIMER_P99_S:g} s: {'MET' if ok else 'NOT MET'} (p99 {s['p99']:.3f} s)")
    for line in r["cpu_lines"]:
        print("   " + line)


# --- 3. cost per unit of work (no concurrency) ---------------------------------------------------


def run_cost(env: Env, args) -> dict:
    """CPU and SQL statements per alert opened, per timer step and per notification sent, one thread,
    nothing else running in this process: what the throughput of one dispatcher process is made of."""
    from sqlalchemy import event, insert, update

    from core.db import make_engine, session_factory
    from core.schema import Alert, Event
    from dispatcher.alerts import Alerts
    from dispatcher.passes.outbox import Outbox
    from dispatcher.sending import RateLimiter

    n = args.cost_alerts
    print(f"\n[cost] {n} alerts opened, stepped and paged by one thread, {env.db}", flush=True)
    url = env.new_database(f"cost_{os.getpid()}")
    engine = make_engine(url)
    import_doc(engine, build_registry(n, 1, 100, family=not args.no_family, devices=True))
    now = lambda: datetime.now(timezone.utc)  # noqa: E731
    with engine.begin() as c:
        c.execute(
            insert(Event),
            [
                dict(device_id=f"dev-{i}", event_id=f"cost-{i}", type="alarm", received_at=now(), payload="{}")
                for i in range(n)
            ],
        )
    counts = {"statements": 0, "commits": 0}
    event.listen(engine, "before_cursor_execute", lambda *a: counts.__setitem__("statements", counts["statements"] + 1))
    event.listen(engine, "commit", lambda *a: counts.__setitem__("commits", counts["commits"] + 1))
    sessions = session_factory(engine)
    alerts = Alerts(sessions, now)

    class NullNotifier:
        sender_id, delivers_at_once = "null", False

        def send(self, note) -> str:
            return f"null-{note.id}"

    outbox = Outbox(sessions, NullNotifier(), now, RateLimiter({}))

    def measure(label: str, work, units_of) -> dict:
        counts.update(statements=0, commits=0)
        w0, c0, units = time.perf_counter(), time.process_time(), 0
        while True:
            done = work()
            if not done:
                break
            units += units_of(done)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        row = {
            "what": label,
            "units": units,
            "wall_ms": 1000 * wall / max(units, 1),
            "cpu_ms": 1000 * cpu / max(units, 1),
            "statements": counts["statements"] / max(units, 1),
            "commits": counts["commits"] / max(units, 1),
        }
        return row

    rows = [
        measure("alert opened (process_events, 200 a pass)", alerts.process_events, lambda k: k),
        measure("notification sent (null notifier)", outbox.send_due, lambda k: k),
    ]
    with engine.begin() as c:
        c.execute(update(Alert).values(next_action_at=now() - timedelta(seconds=1)))
    rows.append(measure("timer step (escalate_due, 100 a pass)", alerts.escalate_due, lambda k: k))
    rows.append(measure("notification sent (null notifier)", outbox.send_due, lambda k: k))
    engine.dispose()
    per_alarm = rows[0]["cpu_ms"] + rows[1]["cpu_ms"] * rows[1]["units"] / max(rows[0]["units"], 1)
    per_step = rows[2]["cpu_ms"] + rows[3]["cpu_ms"] * rows[3]["units"] / max(rows[2]["units"], 1)
    result = {"rows": rows, "cpu_ms_per_alarm": per_alarm, "cpu_ms_per_step": per_step}
    print(f"\n== cost per unit of work, one thread, {env.db_label()}")
    print(f"   {'':<44}{'units':>7}{'wall ms':>9}{'CPU ms':>9}{'SQL':>7}{'commits':>9}")
    for r in rows:
        print(
            f"   {r['what']:<44}{r['units']:>7}{r['wall_ms']:9.2f}{r['cpu_ms']:9.2f}{r['statements']:7.1f}"
            f"{r['commits']:9.2f}"
        )
    print(
        f"   CPU in this process per alarm (open + its pages): {per_alarm:.1f} ms -> at most "
        f"{1000 / per_alarm:.0f} alarms/s on one CPU (one GIL), before the gateway, the HTTP client and any wait"
    )
    print(f"   CPU per timer step (step + its pages): {per_step:.1f} ms -> at most {1000 / per_step:.0f} steps/s")
    return result


# --- profiling (optional) ---------------------------------------------------------------------


def start_profiler(args, seconds: float):
    if not args.py_spy:
        return None
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    out = Path(args.py_spy).resolve()
    out = out.with_name(f"{out.stem}-{args.current}{out.suffix or '.txt'}")
    return subprocess.Popen(
        [
            exe,
            "record",
            "--pid",
            str(os.getpid()),
            "--rate",
            "100",
            "--format",
            "raw",
            "--duration",
            str(int(seconds) + 1),
            "--nonblocking",
            "--threads",
            "--idle",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_profiler(p) -> None:
    if p is not None:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGINT)
            p.wait(10)


# --- main ---------------------------------------------------------------------------------------


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt  # SIGTERM: stop what we started, as on Ctrl-C


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument(
        "--only",
        choices=("press", "timers", "cost"),
        help="run one measurement (default: press and timers); cost: CPU and SQL per unit of work",
    )
    ap.add_argument("--cost-alerts", type=int, default=1000, help="alerts for the cost run")
    ap.add_argument("--rate", default="50", help="presses a second (press run); a list such as 10,25,50 runs each")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of presses (press run)")
    ap.add_argument(
        "--callbacks",
        action="store_true",
        help="press run: serve the webhooks in-process and let the fake call back as Twilio would",
    )
    ap.add_argument(
        "--api-latency",
        type=float,
        default=0.0,
        metavar="MS",
        help="press run: the fake answers each API request this many ms after it arrived "
        "(Twilio's response time; 0: as fast as the fake can)",
    )
    ap.add_argument("--no-family", action="store_true", help="residents without a family contact (no family SMS)")
    ap.add_argument("--broker-nodelay", action="store_true", help="add set_tcp_nodelay true to mosquitto.conf")
    ap.add_argument("--alerts", type=int, default=10_000, help="open alerts (timer run)")
    ap.add_argument(
        "--due",
        type=int,
        default=0,
        help="how many of them come due during the run (default all); the others an hour later",
    )
    ap.add_argument("--spread", type=float, default=60.0, help="seconds over which their timers come due")
    ap.add_argument("--lead", type=float, default=5.0, help="seconds from the insert to the first timer")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for stragglers after the load")
    ap.add_argument("--pg-fsync", choices=("on", "off"), default="on")
    ap.add_argument("--log-level", default="info", help="the product's log level (logs go to a file)")
    ap.add_argument(
        "--quiet-below",
        type=float,
        default=0.0,
        help="first wait (up to --quiet-wait s) until the machine is less than this %% busy",
    )
    ap.add_argument("--quiet-wait", type=float, default=300.0)
    ap.add_argument("--py-spy", metavar="FILE", help="profile this process with py-spy (collapsed stacks)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder (databases, logs)")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="jinqiao-bench-dispatch-", dir=os.environ.get("BENCH_TMP")))
    tmp.chmod(0o755)
    env = Env(tmp, args.db)
    env.log_file = configure_logs(args.log_level, tmp / "service.log")
    signal.signal(signal.SIGTERM, _interrupt)
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "args": vars(args),
    }
    print(f"bench_dispatch: {os.cpu_count()} CPUs, Python {platform.python_version()}, temp {tmp}", flush=True)
    try:
        if args.db == "postgresql":
            env.pg = Postgres(tmp / "pg", fsync=args.pg_fsync == "on").start()
            print(f"  {env.pg.version} on port {env.pg.port}, fsync={args.pg_fsync}", flush=True)
        if args.quiet_below:
            results["busy_before_pct"] = wait_quiet(args.quiet_below, args.quiet_wait)
        else:
            results["busy_before_pct"] = machine_busy(2.0)
        print(f"  machine {results['busy_before_pct']:.0f}% busy just before the runs (2 s sample)", flush=True)
        if args.only in (None, "press"):
            results["press"] = []
            for rate in [float(r) for r in str(args.rate).split(",")]:
                args.rate, args.current = rate, f"press-{args.db}-{rate:g}"
                if args.quiet_below and len(results["press"]):
                    wait_quiet(args.quiet_below, args.quiet_wait)
                results["press"].append(run_press(env, args))
        if args.only in (None, "timers"):
            if args.quiet_below and args.only is None:
                wait_quiet(args.quiet_below, args.quiet_wait)
            args.current = f"timers-{args.db}"
            results["timers"] = run_timers(env, args)
        if args.only == "cost":
            results["cost"] = run_cost(env, args)
        results["db"] = env.db_label()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        if env.pg:
            env.pg.stop()
        if env.log_file:
            env.log_file.close()
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
