"""Every process that runs alone serves /healthz, /readyz (database and broker, each with its reason)
and /metrics on a port of its own: `jinqiao gateway` and `jinqiao dispatcher` as real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from simulators.services import free_port
from tests.support.processes import stop

ROOT = Path(__file__).resolve().parents[1]


def start(command: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "jinqiao.cli", command],
            cwd=ROOT,
            env={**base, "JINQIAO_LOG_FORMAT": "json", **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def wait_for(probe, proc: subprocess.Popen, log_path: Path, timeout: float = 30.0):
    """Poll `probe` until it returns something truthy; fail with the process log if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the process exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}"
        try:
            result = probe()
        except httpx.HTTPError:
            result = None
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"no outcome in {timeout}s:\n{log_path.read_text()[-3000:]}")


def readyz(port: int) -> tuple[int, dict]:
    r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    return r.status_code, r.json()


def log_events(path: Path) -> list[dict]:
    events = []
    for line in path.read_text(errors="replace").splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


def test_the_gateway_alone_serves_health_readiness_with_reasons_and_metrics(db_url, mosquitto, tmp_path):
    port, log_path = free_port(), tmp_path / "gateway.log"
    gw = start(
        "gateway",
        {"JINQIAO_DATABASE_URL": db_url, "JINQIAO_MQTT_URL": mosquitto.url, "JINQIAO_GATEWAY_HTTP_PORT": str(port)},
        log_path,
    )
    try:
        wait_for(lambda: httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200, gw, log_path)
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(readyz(port)), gw, log_path)
        assert body["status"] == "ok" and body["checks"] == {"database": "ok", "broker": "ok"}
        assert body["broker"]["connected"] is True
        metrics = wait_for(
            lambda: (lambda t: t if "jinqiao_gateway_mqtt_connected 1.0" in t else None)(
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            ),
            gw,
            log_path,
        )
        assert "jinqiao_gateway_store_failures_total" in metrics

        mosquitto.stop()  # the broker goes away: not ready, and it says why
        status, body = wait_for(lambda: (lambda r: r if r[0] == 503 else None)(readyz(port)), gw, log_path)
        assert body["status"] == "unavailable" and body["checks"]["database"] == "ok"
        assert body["checks"]["broker"].startswith("disconnected since ")
        assert body["broker"]["connected"] is False and body["broker"]["reason"] and body["broker"]["since"]
        wait_for(
            lambda: "jinqiao_gateway_mqtt_connected 0.0" in httpx.get(f"http://127.0.0.1:{port}/metrics").text,
            gw,
            log_path,
        )
        lost = [e for e in log_events(log_path) if e.get("event") == "mqtt.disconnected"]
        assert lost and lost[0]["level"] == "warning" and lost[0]["reason"]
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200  # alive all the same

        mosquitto.start()  # back: ready again, and the log says so
        wait_for(lambda: readyz(port)[0] == 200, gw, log_path, timeout=60)
        assert [e for e in log_events(log_path) if e.get("event") == "mqtt.connected"][-1]["down_for_s"] > 0
    finally:
        assert stop(gw) == 0
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    assert len(log_events(log_path)) == len(lines)  # one format per run: every line is JSON, uvicorn's too


def test_the_dispatcher_alone_says_it_uses_no_broker_and_serves_its_metrics(db_url, tmp_path):
    port, log_path = free_port(), tmp_path / "dispatcher.log"
    proc = start("dispatcher", {"JINQIAO_DATABASE_URL": db_url, "JINQIAO_DISPATCHER_HTTP_PORT": str(port)}, log_path)
    try:
        status, body = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(readyz(port)), proc, log_path)
        assert body == {"status": "ok", "checks": {"database": "ok", "broker": "not used"}, "broker": None}
        text = wait_for(
            lambda: (lambda t: t if 'jinqiao_dispatcher_passes_total{pass_name="supervision"}' in t else None)(
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
            ),
            proc,
            log_path,
        )
        assert 'jinqiao_dispatcher_passes_total{pass_name="events"}' in text
    finally:
        assert stop(proc) == 0
