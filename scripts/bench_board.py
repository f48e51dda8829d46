#!/usr/bin/env python3
"""Board benchmark: press -> shown on the board, p50/p99.

    .venv/bin/python scripts/bench_board.py                       # SQLite, 200 presses at 5/s
    .venv/bin/python scripts/bench_board.py --db postgresql --presses 300 --rate 10

A private Mosquitto (free port) and database; the real Gateway and dispatcher (console notifier,
no Twilio) in this process, wired as `jinqiao up` wires them; `jinqiao web` as a process of its
own (the board's server learns of alerts only through the database, as in production). A board
client signs in with an API token and holds the live stream (GET /api/v1/stream). Each press comes
from a different resident's device (so each opens an alert), paced at --rate, open loop.

Two figures per press, both from the moment the press was published to the broker:
  event: the stream's `opened` entry for its alert reached the client;
  board: the client's following GET /api/v1/board (what the board page does on an event) returned
         with the alert in it, i.e. the board has what it renders.
Rendering in the browser adds a few milliseconds of DOM work (not measured here; the Chromium test
shows the same path end to end). All clocks are this machine's time.time().
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
from sqlalchemy import select  # noqa: E402

from core.clock import utcnow  # noqa: E402
from core.db import make_engine, session_factory, upgrade  # noqa: E402
from core.schema import Alert  # noqa: E402
from core.settings import load_settings  # noqa: E402
from devices.protocol import Topics  # noqa: E402
from dispatcher.service import build_dispatcher  # noqa: E402
from gateway.mqtt_link import stop_network_loop  # noqa: E402
from gateway.service import Gateway  # noqa: E402
from registry.store import import_registry  # noqa: E402
from registry.validation import validate_registry  # noqa: E402
from simulators.services import Mosquitto, Postgres, free_port, wait_for_port  # noqa: E402
from web.accounts import Accounts  # noqa: E402


def registry(n: int) -> dict:
    return {
        "communities": [
            {
                "id": "c",
                "name": "测试社区",
                "mediator": "med",
                "buildings": [{"id": "b", "name": "1幢", "party_members": ["pm"]}],
            }
        ],
        "residents": [{"id": f"r{i}", "name": f"居民{i}", "building": "b", "address": f"1幢{i}室"} for i in range(n)],
        "devices": [{"id": f"d{i}", "resident": f"r{i}"} for i in range(n)],
        "responders": [
            {"id": "pm", "name": "党员", "phone": "+8613900000001"},
            {"id": "med", "name": "调解员", "phone": "+8613900000004"},
            {"id": "duty", "name": "值班", "phone": "+8613900000005"},
        ],
        "hotline": {
            k: [{"from": "00:00", "to": "24:00", "responder": "duty"}] for k in ("workday", "weekend", "holiday")
        },
        "escalation": {
            "tiers": [
                {"tier": "building", "channels": ["sms"], "timeout": "2m"},
                {"tier": "hotline", "channels": ["sms"], "timeout": "2m"},
            ]
        },
    }


class BoardClient:
    def __init__(self, url: str, token: str) -> None:
        self.url, self.headers = url, {"Authorization": f"Bearer {token}"}
        self.event_at: dict[int, float] = {}
        self.board_at: dict[int, float] = {}
        self.connected = threading.Event()
        self.stop = False
        threading.Thread(target=self._stream, daemon=True).start()

    def _stream(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            if not self.stop:
                raise

    def _read(self) -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(10, read=None)) as http,
            http.stream("GET", self.url + "/api/v1/stream", headers=self.headers) as r,
        ):
            event, data = None, ""
            for line in r.iter_lines():
                if self.stop:
                    return
                if line.startswith("event:"):
                    event = line[6:].strip()
                elif line.startswith("data:"):
                    data = line[5:].strip()
                elif line == "" and data:
                    now = time.time()
                    if event == "hello":
                        self.connected.set()
                    elif event == "entry":
                        entry = json.loads(data)
                        if entry["what"] == "opened":
                            self.event_at[entry["alert_id"]] = now
                            threading.Thread(target=self._fetch, args=(entry["alert_id"],), daemon=True).start()
                    event, data = None, ""

    def _fetch(self, alert_id: int) -> None:
        with httpx.Client(timeout=10) as http:
            board = http.get(self.url + "/api/v1/board", headers=self.headers).json()
        if any(a["id"] == alert_id for a in board["open"]):
            self.board_at[alert_id] = time.time()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--presses", type=int, default=200)
    ap.add_argument("--rate", type=float, default=5.0, help="presses a second")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="jinqiao-bench-board-"))
    work.chmod(0o755)
    broker = Mosquitto(work / "mosquitto").start()
    pg = None
    if args.db == "postgresql":
        pg = Postgres(work / "pg", fsync=True).start()
        db_url = pg.create_database("bench")
    else:
        db_url = f"sqlite:///{work}/bench.db"
    web = None
    gateway = dispatcher = None
    try:
        upgrade(db_url)
        engine = make_engine(db_url)
        sessions = session_factory(engine)
        import_registry(sessions, validate_registry(registry(args.presses)))
        accounts = Accounts(sessions, utcnow)
        accounts.add_user("viewer", "viewer", "bench password, not a secret")
        token = accounts.create_token("viewer", "bench")
        settings = load_settings(database_url=db_url, mqtt_url=broker.url)
        dispatcher = build_dispatcher(settings, engine)
        gateway = Gateway(engine, broker.url, "jinqiao", "bench")
        gateway.ingest.on_stored = dispatcher.engine.wake
        dispatcher.engine.start()
        gateway.start()
        assert gateway.link.wait_connected(10)
        port = free_port()
        env = {
            **os.environ,
            "JINQIAO_DATABASE_URL": db_url,
            "JINQIAO_HTTP_PORT": str(port),
            "JINQIAO_LOG_LEVEL": "warning",
        }
        web = subprocess.Popen(
            [sys.executable, "-m", "jinqiao.cli", "web"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(port, 30)
        client = BoardClient(f"http://127.0.0.1:{port}", token)
        assert client.connected.wait(10), "the stream did not connect"

        topics = Topics("jinqiao")
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-board", protocol=mqtt.MQTTv5)
        pub.connect("127.0.0.1", broker.port)
        pub.loop_start()
        pressed: dict[str, float] = {}
        start = time.time()
        for i in range(args.presses):
            due = start + i / args.rate
            time.sleep(max(0.0, due - time.time()))
            pressed[f"d{i}"] = time.time()
            pub.publish(topics.event(f"d{i}"), json.dumps({"id": f"bench-{i}", "type": "alarm"}), qos=1)
        deadline = time.time() + 30
        while len(client.board_at) < args.presses and time.time() < deadline:
            time.sleep(0.1)
        stop_network_loop(pub)
        client.stop = True

        with sessions() as s:
            device_of = dict(s.execute(select(Alert.id, Alert.device_id)).all())
        event = [(client.event_at[a] - pressed[device_of[a]]) * 1000 for a in client.event_at]
        board = [(client.board_at[a] - pressed[device_of[a]]) * 1000 for a in client.board_at]
        print(
            f"database: {args.db}; presses: {args.presses} at {args.rate}/s; "
            f"seen on the stream: {len(event)}; on the board: {len(board)}"
        )
        for name, values in (("press -> stream event", event), ("press -> board data", board)):
            if values:
                print(
                    f"{name:24s} p50 {statistics.median(values):6.0f} ms   p90 {pct(values, 90):6.0f} ms   "
                    f"p99 {pct(values, 99):6.0f} ms   max {max(values):6.0f} ms"
                )
        return 0 if len(board) == args.presses else 1
    finally:
        if web:
            web.terminate()
            web.wait(15)
        if gateway:
            gateway.stop()
        if dispatcher:
            dispatcher.engine.stop()
        broker.stop()
        if pg:
            pg.stop()


if __name__ == "__main__":
    raise SystemExit(main())
