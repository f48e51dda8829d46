"""The first minutes with the command line: --version, and ports already taken (the broker's and
the HTTP one) are a one-line error before anything has acted."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest
from sqlalchemy import select

from core.schema import Notification
from simulators.services import free_port, wait_for_port
from tests.support.web import open_alert, web_system


def env_for(tmp_path, **extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    return {
        **base,
        "JINQIAO_DATABASE_URL": f"sqlite:///{tmp_path}/j.db",
        "JINQIAO_LOG_FORMAT": "json",
        "JINQIAO_HTTP_PORT": str(free_port()),
        **extra,
    }


def run(*args: str, env: dict, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


@pytest.fixture
def held_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def test_version():
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "--version"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0 and result.stdout.startswith("jinqiao 0."), result


def test_a_taken_broker_port_is_one_line_naming_the_setting(tmp_path, held_port):
    result = run("up", env=env_for(tmp_path, JINQIAO_EMBEDDED_BROKER_PORT=str(held_port)))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = [ln for ln in result.stderr.splitlines() if ln.startswith("jinqiao up:")]
    assert len(line) == 1 and f"port {held_port}" in line[0] and "JINQIAO_EMBEDDED_BROKER_PORT" in line[0]


def test_the_embedded_broker_listens_on_the_port_it_is_given(tmp_path):
    broker, http = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jinqiao.cli", "up"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env_for(tmp_path, JINQIAO_EMBEDDED_BROKER_PORT=str(broker), JINQIAO_HTTP_PORT=str(http)),
    )
    try:
        wait_for_port(http, 60)
        wait_for_port(broker, 10)
    finally:
        proc.terminate()
        proc.wait(20)


def test_a_taken_http_port_stops_up_before_it_touches_anything(tmp_path, held_port):
    result = run("up", env=env_for(tmp_path, JINQIAO_HTTP_PORT=str(held_port)))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"jinqiao up: port {held_port} on 127.0.0.1 is already taken" in result.stderr
    assert "JINQIAO_HTTP_PORT" in result.stderr
    assert not (tmp_path / "j.db").exists()


def test_a_taken_http_port_stops_the_dispatcher_before_it_pages_anyone(engine, db_url, example_registry, held_port):
    _, dispatcher = web_system(engine, example_registry)
    open_alert(dispatcher)  # its first tier's pages wait in the outbox for a sender
    with dispatcher.alerts.sessions() as s:
        queued = s.scalars(select(Notification.id).where(Notification.status == "queued")).all()
    assert queued
    env = {**env_for_db(db_url), "JINQIAO_DISPATCHER_HTTP_PORT": str(held_port)}
    result = run("dispatcher", env=env)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"jinqiao dispatcher: port {held_port}" in result.stderr
    with dispatcher.alerts.sessions() as s:
        assert s.scalars(select(Notification.id).where(Notification.status == "queued")).all() == queued


def env_for_db(db_url: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}
    return {**base, "JINQIAO_DATABASE_URL": db_url, "JINQIAO_LOG_FORMAT": "json"}


def bare_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("JINQIAO_")}


def test_a_command_in_the_wrong_directory_creates_no_database_and_says_where_it_looked(tmp_path):
    for args in (("user", "token", "demo"), ("user", "disable", "demo"), ("device", "password", "pgr-0001")):
        result = subprocess.run(
            [sys.executable, "-m", "jinqiao.cli", *args],
            capture_output=True,
            text=True,
            env=bare_env(),
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 1, result
        assert f"there is no database at {tmp_path}/jinqiao.db" in result.stderr
        assert "JINQIAO_CONFIG" in result.stderr and "jinqiao db upgrade" in result.stderr
        assert list(tmp_path.iterdir()) == []


def test_a_second_terminal_finds_the_demos_database_through_its_jinqiao_toml(tmp_path, db_url, sessions):
    from tests.support.web import PASSWORD, utcnow
    from web.accounts import Accounts

    Accounts(sessions, utcnow).add_user("demo", "admin", PASSWORD)
    tmp_path = tmp_path / "second-terminal"  # db_url's SQLite file is in tmp_path itself
    tmp_path.mkdir()
    (tmp_path / "jinqiao.toml").write_text(f'# written by scripts/demo.sh\nJINQIAO_DATABASE_URL = "{db_url}"\n')
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "user", "token", "demo"],
        capture_output=True,
        text=True,
        env=bare_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "(from jinqiao.toml)" in result.stderr  # which database it opened, and why
    assert Accounts(sessions, utcnow).by_token(result.stdout.strip()).name == "demo"
    assert not (tmp_path / "jinqiao.db").exists()


def test_import_and_db_upgrade_may_create_the_database(tmp_path, example_registry):
    result = subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", "import", str(example_registry)],
        capture_output=True,
        text=True,
        env=bare_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "jinqiao.db").exists() and "(from the default)" in result.stderr
