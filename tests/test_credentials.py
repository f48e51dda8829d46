"""Disabling an account and revoking a token take effect at once: on the next request, and on a
live stream that is already open (`jinqiao user disable|enable|token --revoke`, and the admin API)."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.support.web import PASSWORD, Served, bearer, make_users, utcnow, web_system
from tests.test_board_stream import Events
from web.accounts import AccountError, Accounts


@pytest.fixture
def web(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    yield server, Accounts(dispatcher.alerts.sessions, utcnow), tokens
    server.stop()


def ends_within(events: Events, seconds: float) -> str:
    """The last event before the stream closed, waiting at most `seconds` for the close."""
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        kind = events.next("signed_out", timeout=max(deadline - time.monotonic(), 0.01))[0]
        if kind == "closed":
            return last or "closed"
        last = kind
    raise AssertionError(f"the stream was still open after {seconds} s")


def test_disabling_an_account_ends_its_open_stream_and_its_tokens(web):
    server, accounts, tokens = web
    events = Events(server.url + "/api/v1/stream", bearer(tokens["viewer"]))
    try:
        assert events.status == 200 and events.next("hello")[0] == "hello"
        accounts.set_active("viewer", False)
        assert ends_within(events, 30) == "signed_out"
    finally:
        events.close()
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(tokens["viewer"])).status_code == 401
    accounts.set_active("viewer", True)
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(tokens["viewer"])).status_code == 200


def test_signing_out_ends_the_sessions_open_stream(web):
    server, _, _ = web
    with httpx.Client(timeout=30, base_url=server.url) as http:
        assert http.post("/api/v1/session", json={"name": "operator", "password": PASSWORD}).status_code == 200
        cookie = f"jinqiao_session={http.cookies['jinqiao_session']}"
        events = Events(server.url + "/api/v1/stream", {"Cookie": cookie})
        try:
            assert events.next("hello")[0] == "hello"
            assert (
                http.delete("/api/v1/session", headers={"X-CSRF-Token": http.cookies["jinqiao_csrf"]}).status_code
                == 200
            )
            assert ends_within(events, 30) == "signed_out"
        finally:
            events.close()


def test_a_revoked_token_gets_401_at_once_and_its_stream_ends(web):
    server, accounts, tokens = web
    token = accounts.create_token("operator", "to revoke")
    events = Events(server.url + "/api/v1/stream", bearer(token))
    try:
        assert events.next("hello")[0] == "hello"
        assert accounts.revoke_token(token) is True
        assert httpx.get(server.url + "/api/v1/alerts", headers=bearer(token)).status_code == 401
        assert ends_within(events, 30) == "signed_out"
    finally:
        events.close()
    assert accounts.revoke_token(token) is False  # twice changes nothing
    assert httpx.get(server.url + "/api/v1/alerts", headers=bearer(tokens["operator"])).status_code == 200
    with pytest.raises(AccountError, match="no API token"):
        accounts.revoke_token("jq_never-made")


def test_admins_disable_enable_and_revoke_through_the_api_and_nobody_else_may(web):
    server, accounts, tokens = web
    admin = httpx.Client(timeout=30, base_url=server.url, headers=bearer(tokens["admin"]))
    for who in ("viewer", "operator"):
        for method, path in (
            ("GET", "/api/v1/users"),
            ("POST", "/api/v1/users/viewer/disable"),
            ("POST", "/api/v1/users/viewer/enable"),
            ("GET", "/api/v1/tokens"),
            ("POST", "/api/v1/tokens/1/revoke"),
        ):
            assert httpx.request(method, server.url + path, headers=bearer(tokens[who])).status_code == 403, (who, path)
    assert {u["name"]: u["active"] for u in admin.get("/api/v1/users").json()} == {
        "viewer": True,
        "operator": True,
        "admin": True,
    }
    r = admin.post("/api/v1/users/operator/disable")
    assert r.status_code == 200 and r.json()["changed"] is True
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(tokens["operator"])).status_code == 401
    assert admin.post("/api/v1/users/operator/enable").json()["changed"] is True
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(tokens["operator"])).status_code == 200
    assert admin.post("/api/v1/users/admin/disable").status_code == 409  # not oneself
    assert admin.post("/api/v1/users/nobody/disable").status_code == 404
    listed = admin.get("/api/v1/tokens", params={"user": "viewer"}).json()
    assert [t["user"] for t in listed] == ["viewer"] and "token_hash" not in listed[0]
    assert admin.post(f"/api/v1/tokens/{listed[0]['id']}/revoke").json()["changed"] is True
    assert httpx.get(server.url + "/api/v1/me", headers=bearer(tokens["viewer"])).status_code == 401
    assert admin.get("/api/v1/tokens", params={"user": "viewer"}).json()[0]["revoked_at"] is not None
    assert admin.post("/api/v1/tokens/999999/revoke").status_code == 404
    assert admin.post(f"/api/v1/tokens/{2**40}/revoke").status_code == 422
    admin.close()


def cli(db_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"JINQIAO_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "JINQIAO_LOG_LEVEL": "warning"},
    )


def test_cli_user_disable_enable_and_token_revoke(db_url, sessions):
    accounts = Accounts(sessions, utcnow)
    accounts.add_user("wang", "operator", PASSWORD)
    first, second = accounts.create_token("wang", "a"), accounts.create_token("wang", "b")
    disabled = cli(db_url, "user", "disable", "wang")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout, disabled.stderr
    assert accounts.by_token(first) is None
    assert cli(db_url, "user", "enable", "wang").returncode == 0
    assert accounts.by_token(first).name == "wang"
    assert cli(db_url, "user", "disable", "nobody").returncode == 1
    by_value = cli(db_url, "user", "token", "--revoke", first)
    assert by_value.returncode == 0 and "revoked" in by_value.stdout, by_value.stderr
    assert accounts.by_token(first) is None and accounts.by_token(second).name == "wang"
    listed = cli(db_url, "user", "token", "--list", "wang").stdout.splitlines()
    second_id = [line.split("\t")[0] for line in listed if line.endswith("\tb")][0]
    assert cli(db_url, "user", "token", "--revoke", second_id).returncode == 0
    assert accounts.by_token(second) is None
    assert cli(db_url, "user", "token", "--revoke", "12345").returncode == 1
    made = cli(db_url, "user", "token", "wang")
    assert made.returncode == 0 and "API token" in made.stderr
