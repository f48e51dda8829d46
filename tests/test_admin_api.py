"""Admins manage accounts over the API and the command line, and every change to an account or the
registry lands in the audit list, with who made it, in the change's own transaction."""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from core import audit
from core.schema import WebSession
from tests.support.web import PASSWORD, Served, bearer, make_users, web_system
from tests.test_accounts import cli
from web.accounts import AccountConflict, AccountError, Accounts

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
AT = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def accounts(sessions):
    return Accounts(sessions, lambda: AT, FAST)


def audit_rows(sessions, **narrow) -> list[dict]:
    with sessions() as s:
        return audit.entries(s, **narrow)


def test_role_display_name_and_password_changes_are_audited(accounts, sessions):
    accounts.add_user("boss", "admin", "a long password", actor="root")
    accounts.add_user("li", "viewer", "a long password", "李", actor="boss")
    assert accounts.set_role("li", "operator", actor="boss") is True
    assert accounts.set_role("li", "operator", actor="boss") is False
    assert accounts.set_display_name("li", " 李明 ", actor="boss") is True
    token, _ = accounts.sign_in("li", "a long password", "10.0.0.1")
    accounts.set_password("li", "another long one", actor="boss")
    assert accounts.by_session(token) is None  # the reset ended the session
    assert accounts.sign_in("li", "another long one", "10.0.0.1")
    api = accounts.create_token("li", "ci", actor="boss")
    accounts.revoke_token(api, actor="boss")
    rows = audit_rows(sessions, actor="boss")
    assert [r["action"] for r in rows] == [
        "token.revoke",
        "token.create",
        "user.password",
        "user.display_name",
        "user.role",
        "user.add",
    ]
    assert rows[3]["detail"] == {"from": "李", "to": "李明"} and rows[4]["detail"] == {
        "from": "viewer",
        "to": "operator",
    }
    flat = repr(rows)
    assert "long" not in flat and api not in flat and "argon2" not in flat  # no password, token or hash


def test_bad_changes_are_refused_and_not_audited(accounts, sessions):
    accounts.add_user("boss", "admin", "a long password")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.set_role("boss", "king")
    with pytest.raises(AccountError, match="no account named"):
        accounts.set_role("nobody", "viewer")
    with pytest.raises(AccountConflict, match="last active admin"):
        accounts.set_role("boss", "viewer")
    with pytest.raises(AccountConflict, match="last active admin"):
        accounts.set_active("boss", False)
    with pytest.raises(AccountError, match="at least 10"):
        accounts.set_password("boss", "short")
    with pytest.raises(AccountError, match="control characters"):
        accounts.set_display_name("boss", "a\x07b")
    assert [r["action"] for r in audit_rows(sessions)] == ["user.add"]
    accounts.add_user("second", "admin", "a long password")
    assert accounts.set_role("boss", "viewer") is True  # another admin remains


@pytest.fixture
def admin(engine, example_registry):
    app, dispatcher = web_system(engine, example_registry)
    tokens = make_users(dispatcher.alerts.sessions)
    server = Served(app).start()
    with httpx.Client(base_url=server.url, headers=bearer(tokens["admin"]), timeout=10) as http:
        yield http, dispatcher.alerts.sessions, tokens
    server.stop()


def test_admin_adds_changes_resets_and_gives_a_token(admin):
    http, sessions, _ = admin
    r = http.post(
        "/api/v1/users", json={"name": "wang", "display_name": "王芳", "role": "viewer", "password": PASSWORD}
    )
    assert r.status_code == 201 and r.json()["display_name"] == "王芳"
    r = http.put("/api/v1/users/wang", json={"role": "operator", "display_name": "王芳芳"})
    assert r.status_code == 200 and (r.json()["role"], r.json()["display_name"]) == ("operator", "王芳芳")
    signed = httpx.post(http.base_url.join("/api/v1/session"), json={"name": "wang", "password": PASSWORD})
    assert signed.status_code == 200
    assert http.post("/api/v1/users/wang/password", json={"password": "a new long password"}).status_code == 200
    with sessions() as s:
        assert s.scalars(select(WebSession)).all() == []  # wang's session ended (the others use tokens)
    r = http.post("/api/v1/users/wang/tokens", json={"label": "phone"})
    assert r.status_code == 201 and r.json()["token"].startswith("jq_")
    assert httpx.get(http.base_url.join("/api/v1/me"), headers=bearer(r.json()["token"])).json()["name"] == "wang"
    assert http.post(f"/api/v1/tokens/{r.json()['id']}/revoke").status_code == 200
    assert http.post("/api/v1/users/wang/disable").status_code == 200
    listed = http.get("/api/v1/audit", params={"actor": "admin"}).json()
    assert [e["action"] for e in listed][:7] == [
        "user.disable",
        "token.revoke",
        "token.create",
        "user.password",
        "user.role",
        "user.display_name",
        "user.add",
    ]
    assert all(e["target"] == "wang" for e in listed[:7])
    assert [e["action"] for e in http.get("/api/v1/audit", params={"action": "user.role", "limit": 1}).json()] == [
        "user.role"
    ]
    assert http.get("/api/v1/audit", params={"offset": 1, "limit": 1, "actor": "admin"}).json()[0]["action"] == (
        "token.revoke"
    )


@pytest.mark.parametrize(
    "method, path, body, status, message",
    [
        ("POST", "/api/v1/users", {"name": "admin", "role": "viewer", "password": PASSWORD}, 409, "exists already"),
        ("POST", "/api/v1/users", {"name": "x y", "role": "viewer", "password": PASSWORD}, 422, "bad name"),
        ("POST", "/api/v1/users", {"name": "zhao", "role": "boss", "password": PASSWORD}, 422, "unknown role"),
        ("POST", "/api/v1/users", {"name": "zhao", "role": "viewer", "password": "short"}, 422, "at least 10"),
        ("POST", "/api/v1/users", {"name": "zhao", "role": "viewer"}, 422, "password"),
        ("PUT", "/api/v1/users/admin", {"role": "viewer"}, 409, "your own role"),
        ("PUT", "/api/v1/users/nobody", {"role": "viewer"}, 404, "no account"),
        ("PUT", "/api/v1/users/viewer", {"role": "king"}, 422, "unknown role"),
        ("PUT", "/api/v1/users/viewer", {"display_name": "a\u0007"}, 422, "control characters"),
        ("POST", "/api/v1/users/viewer/password", {"password": "short"}, 422, "at least 10"),
        ("POST", "/api/v1/users/nobody/password", {"password": PASSWORD}, 404, "no account"),
        ("POST", "/api/v1/users/nobody/tokens", {"label": "x"}, 404, "no active account"),
        ("POST", "/api/v1/users/viewer/tokens", {"label": "x" * 201}, 422, "at most 200"),
        ("POST", "/api/v1/users/admin/disable", None, 409, "your own account"),
        ("GET", "/api/v1/audit?limit=0", None, 422, "greater than or equal to 1"),
        ("GET", "/api/v1/audit?offset=-1", None, 422, "greater than or equal to 0"),
    ],
)
def test_bad_account_requests_are_clear_4xx_and_change_nothing(admin, method, path, body, status, message):
    http, sessions, _ = admin
    before = len(audit_rows(sessions))  # the test accounts' own rows
    r = http.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert message.lower() in r.text.lower()
    assert len(audit_rows(sessions)) == before


def test_another_admin_may_demote_an_admin_and_it_takes_effect_at_once(admin):
    http, _, _ = admin
    http.post("/api/v1/users", json={"name": "boss2", "role": "admin", "password": PASSWORD}).raise_for_status()
    token = http.post("/api/v1/users/boss2/tokens", json={"label": "t"}).json()["token"]
    boss2 = httpx.Client(base_url=http.base_url, headers=bearer(token), timeout=10)
    assert boss2.put("/api/v1/users/admin", json={"role": "operator"}).status_code == 200
    assert http.get("/api/v1/users").status_code == 403  # admin is an operator now
    assert boss2.get("/api/v1/audit", params={"limit": 1}).json()[0]["detail"] == {"from": "admin", "to": "operator"}


def test_registry_changes_are_audited_with_the_admin_in_the_same_transaction(admin):
    http, sessions, _ = admin
    new = {"id": "pm-qian", "name": "钱明", "phone": "+8613900000007"}
    assert http.post("/api/v1/responders", json=new).status_code == 201
    assert http.put("/api/v1/responders/pm-qian", json={**new, "name": "钱明明"}).status_code == 200
    assert http.post("/api/v1/responders", json={**new, "id": "pm-x", "phone": "123"}).status_code == 422
    assert http.delete("/api/v1/responders/pm-qian").status_code == 200
    roster = http.get("/api/v1/roster").json()
    assert http.put("/api/v1/roster", json=roster).status_code == 200
    rows = http.get("/api/v1/audit", params={"limit": 4}).json()
    assert [(e["actor"], e["action"], e["target"]) for e in rows] == [
        ("admin", "roster.edit", "hotline"),
        ("admin", "responder.deactivate", "pm-qian"),
        ("admin", "responder.edit", "pm-qian"),
        ("admin", "responder.create", "pm-qian"),
    ]  # the refused create wrote nothing
    assert rows[2]["detail"]["entry"]["name"] == "钱明明"


def test_the_cli_records_its_changes_as_cli(db_url, sessions):
    added = cli(db_url, "user", "add", "wang", "--role", "admin", "--password-stdin", stdin="a long password\n")
    assert added.returncode == 0, added.stderr
    cli(db_url, "user", "add", "li", "--role", "viewer", "--password-stdin", stdin="a long password\n")
    role = cli(db_url, "user", "role", "li", "operator")
    assert role.returncode == 0 and "li is now operator" in role.stdout
    assert cli(db_url, "user", "role", "li", "operator").stdout.strip() == "account li was operator already"
    last = cli(db_url, "user", "role", "wang", "viewer")
    assert last.returncode == 1 and "last active admin" in last.stderr
    assert cli(db_url, "user", "role", "nobody", "viewer").returncode == 1
    assert cli(db_url, "user", "role", "li", "king").returncode == 2
    reset = cli(db_url, "user", "password", "li", "--password-stdin", stdin="a new long password\n")
    assert reset.returncode == 0 and "reset" in reset.stdout
    weak = cli(db_url, "user", "password", "li", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "at least 10" in weak.stderr
    no_tty = cli(db_url, "user", "password", "li")
    assert no_tty.returncode == 1 and "--password-stdin" in no_tty.stderr
    assert Accounts(sessions, lambda: AT, FAST).sign_in("li", "a new long password", "cli")[0]
    rows = audit_rows(sessions)
    assert [r["action"] for r in rows] == ["user.password", "user.role", "user.add", "user.add"]
    assert all(r["actor"].startswith("cli") for r in rows)


def test_a_refused_registry_change_names_the_field_of_each_problem(admin):
    http, _, _ = admin
    roster = http.get("/api/v1/roster").json()
    roster["workday"][0]["responder"] = "nobody"
    r = http.put("/api/v1/roster", json=roster)
    assert r.status_code == 422
    body = r.json()
    assert any("unknown responder 'nobody'" in p for p in body["problems"])  # the strings stay
    assert {
        "section": "hotline",
        "entry": None,
        "field": "workday.0.responder",
        "message": "unknown responder 'nobody'",
    } in (body["fields"])


@pytest.mark.parametrize(
    "problem, located",
    [
        ("residents[r-liu].contacts[0].phone: not an E.164 number", ("residents", "r-liu", "contacts.0.phone")),
        ("devices[pgr-1].resident: unknown resident 'x'", ("devices", "pgr-1", "resident")),
        ("duplicate id 'x' in residents", (None, None, None)),
    ],
)
def test_registry_problems_are_located(problem, located):
    from web.api.registry import located as locate

    found = locate(problem)
    assert (found["section"], found["entry"], found["field"]) == located
