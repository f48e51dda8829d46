"""Accounts: password hashing, sign-in and its rate limit (kept in the database), sessions, API
tokens, CSRF for cookie-authenticated changes, cookie flags, and `jinqiao user add/token`."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core.db import session_factory, transaction
from core.schema import ApiToken, User, WebSession
from core.settings import load_settings
from dispatcher.service import build_dispatcher
from jinqiao.runtime import dispatcher_app
from registry.store import import_registry
from tests.support.web import PASSWORD, Served, bearer, make_users, open_alert, web_system
from web.accounts import MAX_FAILURES_PER_NAME, AccountError, Accounts, TooManyFailures
from web.app import Readiness

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def accounts(sessions, clock):
    return Accounts(sessions, clock, FAST)


def test_password_is_stored_as_argon2id_and_checked(accounts, sessions):
    accounts.add_user("li", "operator", "a long password")
    with sessions() as s:
        user = s.scalar(select(User).where(User.name == "li"))
    assert user.password_hash.startswith("$argon2id$") and "a long password" not in user.password_hash
    token, _ = accounts.sign_in("li", "a long password", "10.0.0.1")
    principal = accounts.by_session(token)
    assert (principal.name, principal.role, principal.via) == ("li", "operator", "session")
    with pytest.raises(AccountError, match="wrong name or password"):
        accounts.sign_in("li", "not it at all", "10.0.0.1")
    with pytest.raises(AccountError, match="wrong name or password"):
        accounts.sign_in("nobody", "a long password", "10.0.0.1")


def test_sign_in_returns_the_session_that_the_cookie_signs_in_with(accounts, sessions):
    accounts.add_user("li", "operator", "a long password")
    token, opened = accounts.sign_in("li", "a long password", "10.0.0.1")
    assert opened.principal == accounts.by_session(token)  # the sign-in's answer is who the cookie is
    with sessions() as s:
        assert opened.csrf_token == s.scalar(select(WebSession.csrf_token))  # the CSRF cookie's value


@pytest.mark.parametrize(
    "name, role, password, message",
    [
        ("li li", "operator", "a long password", "bad name"),
        ("li", "boss", "a long password", "unknown role"),
        ("li", "admin", "short", "at least 10"),
    ],
)
def test_bad_accounts_are_refused_with_a_reason(accounts, name, role, password, message):
    with pytest.raises(AccountError, match=message):
        accounts.add_user(name, role, password)


def test_the_display_name_is_what_people_see_and_is_checked(accounts):
    accounts.add_user("wangfang", "operator", "a long password", " 王芳 ")
    _, opened = accounts.sign_in("wangfang", "a long password", "10.0.0.1")
    assert (opened.principal.display_name, opened.principal.shown) == ("王芳", "王芳")
    accounts.add_user("li", "viewer", "a long password")
    assert accounts.by_session(accounts.sign_in("li", "a long password", "10.0.0.1")[0]).shown == "li"
    with pytest.raises(AccountError, match="at most 100"):
        accounts.add_user("long", "viewer", "a long password", "王" * 101)
    with pytest.raises(AccountError, match="control characters"):
        accounts.add_user("ctl", "viewer", "a long password", "王\x1b芳")
    assert {u["name"]: u["display_name"] for u in accounts.users()} == {"wangfang": "王芳", "li": ""}


def test_a_name_is_taken_once(accounts):
    accounts.add_user("li", "viewer", "a long password")
    with pytest.raises(AccountError, match="exists already"):
        accounts.add_user("li", "admin", "another long one")


def test_failed_sign_ins_are_limited_per_name_and_shared_by_processes(sessions, clock):
    web1, web2 = Accounts(sessions, clock, FAST), Accounts(sessions, clock, FAST)  # two web processes
    web1.add_user("li", "operator", "a long password")
    for i in range(MAX_FAILURES_PER_NAME):
        with pytest.raises(AccountError):
            (web1 if i % 2 else web2).sign_in("li", f"guess {i}", f"10.0.0.{i}")
    with pytest.raises(TooManyFailures) as limited:  # even the right password, from anywhere
        web2.sign_in("li", "a long password", "10.9.9.9")
    assert 0 < limited.value.retry_after <= 15 * 60 + 1
    clock.t += timedelta(minutes=16)
    token, _ = web1.sign_in("li", "a long password", "10.0.0.1")
    assert web2.by_session(token).name == "li"


def test_failed_sign_ins_are_limited_per_address(accounts, clock):
    for i in range(20):
        with pytest.raises(AccountError):
            accounts.sign_in(f"user{i}", "guess", "10.6.6.6")
    with pytest.raises(TooManyFailures):
        accounts.sign_in("anyone", "guess", "10.6.6.6")


def test_sessions_expire_end_on_sign_out_and_with_the_account(accounts, sessions, clock):
    accounts.add_user("li", "operator", "a long password")
    token, _ = accounts.sign_in("li", "a long password", "10.0.0.1")
    with sessions() as s:
        assert s.scalar(select(WebSession.token_hash)) != token  # only a digest is kept
    clock.t += timedelta(hours=13)
    assert accounts.by_session(token) is None
    token, _ = accounts.sign_in("li", "a long password", "10.0.0.1")
    accounts.sign_out(token)
    assert accounts.by_session(token) is None
    token, _ = accounts.sign_in("li", "a long password", "10.0.0.1")
    with transaction(sessions) as s:
        s.scalar(select(User).where(User.name == "li")).active = False
    assert accounts.by_session(token) is None
    with pytest.raises(AccountError):
        accounts.sign_in("li", "a long password", "10.0.0.1")


def test_api_tokens_are_kept_hashed_and_can_be_revoked(accounts, sessions, clock):
    accounts.add_user("bot", "viewer", "a long password")
    token = accounts.create_token("bot", "monitoring")
    with sessions() as s:
        row = s.scalar(select(ApiToken))
    assert token.startswith("jq_") and row.token_hash != token and token not in row.token_hash
    assert accounts.by_token(token).via == "token"
    assert accounts.by_token(token + "x") is None
    with transaction(sessions) as s:
        s.scalar(select(ApiToken)).revoked_at = clock()
    assert accounts.by_token(token) is None
    with pytest.raises(AccountError, match="no active account"):
        accounts.create_token("nobody")


# --- over HTTP ---------------------------------------------------------------------------------


@pytest.fixture
def web(engine, db_url, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    yield server, dispatcher, tokens
    server.stop()


def signed_in(server, name: str) -> httpx.Client:
    http = httpx.Client(timeout=30, base_url=server.url)
    r = http.post("/api/v1/session", json={"name": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return http


def test_cookie_flags_and_csrf_for_changes(web):
    server, dispatcher, _ = web
    alert_id = open_alert(dispatcher)
    with httpx.Client(timeout=30, base_url=server.url) as http:
        r = http.post("/api/v1/session", json={"name": "operator", "password": PASSWORD})
        cookies = {c.split("=")[0]: c.lower() for c in r.headers.get_list("set-cookie")}
        assert "httponly" in cookies["jinqiao_session"] and "samesite=lax" in cookies["jinqiao_session"]
        assert "httponly" not in cookies["jinqiao_csrf"] and "samesite=strict" in cookies["jinqiao_csrf"]
        assert "secure" not in cookies["jinqiao_session"]  # plain http here
        assert http.get("/api/v1/me").json() == {
            "name": "operator",
            "display_name": "王芳",
            "role": "operator",
            "via": "session",
        }
        # a forged cross-site form brings the cookie but not the header
        assert http.post(f"/api/v1/alerts/{alert_id}/ack").status_code == 403
        assert http.post(f"/api/v1/alerts/{alert_id}/ack", headers={"X-CSRF-Token": "guess"}).status_code == 403
        r = http.post(f"/api/v1/alerts/{alert_id}/ack", headers={"X-CSRF-Token": http.cookies["jinqiao_csrf"]})
        assert r.status_code == 200 and r.json() == {"changed": True, "state": "acknowledged", "by": "值班员 王芳"}
        # signing out needs the token too, and ends the session
        assert http.delete("/api/v1/session").status_code == 403
        csrf = http.cookies["jinqiao_csrf"]
        assert http.delete("/api/v1/session", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert http.get("/api/v1/me").status_code == 401


def test_cookies_are_secure_behind_https(engine, db_url, example_registry):
    import_registry(session_factory(engine), example_registry)
    settings = load_settings(database_url=db_url, public_url="https://jinqiao.example.org")
    dispatcher = build_dispatcher(settings, engine)
    from jinqiao.runtime import secure_cookies

    app = dispatcher_app(Readiness(engine), dispatcher, engine, secure_cookies(settings))
    make_users(dispatcher.alerts.sessions, ["viewer"])
    server = Served(app).start()
    try:
        r = httpx.post(server.url + "/api/v1/session", json={"name": "viewer", "password": PASSWORD})
        assert all("secure" in c.lower() for c in r.headers.get_list("set-cookie"))
    finally:
        server.stop()


def test_token_requests_need_no_csrf_and_actions_carry_the_persons_name(web):
    server, dispatcher, tokens = web
    alert_id = open_alert(dispatcher)
    with httpx.Client(timeout=30, base_url=server.url, headers=bearer(tokens["operator"])) as http:
        assert (
            http.post(
                f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "helped_at_home", "note": "邻居帮忙"}
            ).json()["state"]
            == "resolved"
        )
        alert = http.get(f"/api/v1/alerts/{alert_id}").json()
    resolved = [e for e in alert["timeline"] if e["what"] == "resolved"][0]
    assert (resolved["actor"], resolved["channel"]) == ("值班员 王芳", "web")
    assert resolved["detail"] == {"outcome": "helped_at_home", "note": "邻居帮忙"}
    assert alert["acknowledged_by"] == alert["resolved_by"] == "值班员 王芳" and alert["outcome"] == "helped_at_home"


def test_sign_in_over_http_is_rate_limited_with_retry_after(web):
    server, _, _ = web
    with httpx.Client(timeout=30, base_url=server.url) as http:
        for _ in range(MAX_FAILURES_PER_NAME):
            assert http.post("/api/v1/session", json={"name": "admin", "password": "wrong!"}).status_code == 401
        r = http.post("/api/v1/session", json={"name": "admin", "password": PASSWORD})
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert http.post("/api/v1/session", json={"name": "admin"}).status_code == 422


def test_bad_bearer_tokens_and_cookies_get_401(web):
    server, _, _ = web
    for headers in (
        {"Authorization": "Bearer jq_nothing"},
        {"Authorization": "Basic YTpi"},
        {"Cookie": "jinqiao_session=forged"},
    ):
        assert httpx.get(server.url + "/api/v1/alerts", headers=headers).status_code == 401


def cli(db_url: str, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "jinqiao.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={"JINQIAO_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin", "JINQIAO_LOG_LEVEL": "warning"},
        timeout=60,
    )


def test_cli_user_add_and_token(db_url, sessions):
    added = cli(db_url, "user", "add", "wang", "--role", "admin", "--password-stdin", stdin="a long password\n")
    assert added.returncode == 0, added.stderr
    assert "account wang (admin) added" in added.stdout
    again = cli(db_url, "user", "add", "wang", "--role", "viewer", "--password-stdin", stdin="a long password\n")
    assert again.returncode == 1 and "exists already" in again.stderr
    weak = cli(db_url, "user", "add", "zhao", "--role", "viewer", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    no_tty = cli(db_url, "user", "add", "zhao", "--role", "viewer")
    assert no_tty.returncode == 1 and "--password-stdin" in no_tty.stderr
    bad_role = cli(db_url, "user", "add", "zhao", "--role", "boss", "--password-stdin", stdin="a long password\n")
    assert bad_role.returncode == 2
    token = cli(db_url, "user", "token", "wang", "--label", "ci")
    assert token.returncode == 0 and token.stdout.strip().startswith("jq_")
    accounts = Accounts(sessions, lambda: datetime.now(timezone.utc))
    assert accounts.by_token(token.stdout.strip()).name == "wang"
    assert accounts.sign_in("wang", "a long password", "cli")[0]
    assert cli(db_url, "user", "token", "nobody").returncode == 1
