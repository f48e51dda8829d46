"""Every route against every role and anonymous. The table is the rule book: a route the app has
and the table does not (or the other way round) fails the test, so no route goes out unguarded."""

from __future__ import annotations

import httpx
import pytest

try:
    from fastapi.routing import iter_route_contexts
except ImportError:  # older FastAPI: app.routes is already flat
    iter_route_contexts = None

from core.settings import load_settings
from tests.support.web import Served, bearer, make_users, open_alert, web_system

# who may: public | page (redirects to sign-in) | admin page (a page, and 403 below admin) | webhook (Twilio signature, Aliyun push token) | viewer | operator | admin
RULES: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "public",
    ("GET", "/readyz"): "public",
    ("GET", "/metrics"): "public",
    ("GET", "/login"): "public",
    ("POST", "/api/v1/session"): "public",
    ("POST", "/twilio/sms"): "webhook",
    ("POST", "/twilio/status"): "webhook",
    ("POST", "/twilio/voice"): "webhook",
    ("POST", "/aliyun/sms-report"): "webhook",  # Aliyun's pushes: the token in the URL (dispatcher/aliyun_webhooks.py)
    ("POST", "/aliyun/sms-up"): "webhook",
    ("POST", "/aliyun/voice-report"): "webhook",
    ("POST", "/aliyun/voice-call-report"): "webhook",
    ("GET", "/wecom/callback"): "webhook",  # WeCom's: signed and encrypted (dispatcher/wecom_webhooks.py)
    ("POST", "/wecom/callback"): "webhook",
    ("GET", "/"): "page",
    ("GET", "/admin"): "admin page",  # anonymous: to sign-in; signed in below admin: a 403 page
    ("GET", "/static/{name}"): "viewer",  # board.js here; the sign-in page's own files are public (below)
    ("GET", "/static/vendor/{name}"): "viewer",  # morphdom
    ("GET", "/static/swagger/{name}"): "viewer",  # Swagger UI for /docs
    ("GET", "/docs"): "viewer",
    ("GET", "/openapi.json"): "viewer",
    ("DELETE", "/api/v1/session"): "viewer",
    ("GET", "/api/v1/me"): "viewer",
    ("GET", "/api/v1/stream"): "viewer",
    ("GET", "/api/v1/alerts"): "viewer",
    ("GET", "/api/v1/board"): "viewer",
    ("GET", "/api/v1/alerts/{alert_id}"): "viewer",
    ("GET", "/api/v1/alerts/by-code/{code}"): "viewer",
    ("POST", "/api/v1/alerts/{alert_id}/ack"): "operator",
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): "operator",
    ("GET", "/api/v1/alerts/{alert_id}/dispatchable"): "viewer",
    ("POST", "/api/v1/alerts/{alert_id}/dispatch"): "operator",
    ("POST", "/api/v1/alerts/{alert_id}/escalate"): "operator",
    ("POST", "/api/v1/alerts/{alert_id}/repage"): "operator",
    ("POST", "/api/v1/alerts/{alert_id}/notes"): "operator",
    ("GET", "/api/v1/alerts/{alert_id}/timeline"): "viewer",
    ("GET", "/api/v1/alerts/{alert_id}/handoff"): "viewer",
    **{
        ("GET", p): "viewer"
        for p in (
            "/api/v1/communities",
            "/api/v1/communities/{entry_id}",
            "/api/v1/buildings",
            "/api/v1/residents",
            "/api/v1/residents/{entry_id}",
            "/api/v1/devices",
            "/api/v1/devices/{entry_id}",
            "/api/v1/responders",
            "/api/v1/responders/{entry_id}",
            "/api/v1/roster",
            "/api/v1/policy",
        )
    },
    **{
        (m, f"/api/v1/{kind}{tail}"): "admin"
        for kind in ("communities", "buildings", "residents", "devices", "responders")
        for m, tail in (("POST", ""), ("PUT", "/{entry_id}"), ("DELETE", "/{entry_id}"))
    },
    ("GET", "/api/v1/supervision/devices"): "viewer",
    ("GET", "/api/v1/supervision/residents/{resident_id}"): "viewer",
    ("GET", "/api/v1/supervision/maintenance"): "viewer",
    ("POST", "/api/v1/supervision/maintenance/{item_id}/close"): "operator",
    ("PUT", "/api/v1/roster"): "admin",
    ("PUT", "/api/v1/policy"): "admin",
    ("GET", "/api/v1/users"): "admin",
    ("POST", "/api/v1/users/{name}/disable"): "admin",
    ("POST", "/api/v1/users/{name}/enable"): "admin",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/users"): "admin",
    ("PUT", "/api/v1/users/{name}"): "admin",
    ("POST", "/api/v1/users/{name}/password"): "admin",
    ("POST", "/api/v1/users/{name}/tokens"): "admin",
    ("GET", "/api/v1/audit"): "admin",
    ("POST", "/api/v1/tokens/{token_id}/revoke"): "admin",
    ("GET", "/api/v1/calendar"): "viewer",
    ("GET", "/report"): "page",
    ("GET", "/api/v1/reports/calls"): "viewer",
    ("GET", "/visits"): "page",
    ("GET", "/api/v1/visits"): "viewer",
    ("GET", "/api/v1/residents/{resident_id}/visits"): "viewer",
    ("GET", "/api/v1/residents/{entry_id}/history"): "admin",
    ("POST", "/api/v1/residents/{resident_id}/visits"): "operator",
    ("GET", "/api/v1/follow-ups"): "viewer",
    ("POST", "/api/v1/follow-ups"): "operator",
    ("PUT", "/api/v1/follow-ups/{item_id}"): "operator",
    ("GET", "/api/v1/communities/{community_id}/summary"): "viewer",
    ("GET", "/api/v1/communities/{community_id}/service-team"): "viewer",
    ("POST", "/api/v1/follow-ups/{item_id}/assign"): "operator",
    ("GET", "/api/v1/roster/duty"): "viewer",
    ("PUT", "/api/v1/calendar"): "admin",
}
RANK = {"anonymous": -1, "viewer": 0, "operator": 1, "admin": 2}
ENTRY = {
    "communities": "tianshui-wulin",
    "buildings": "wulin-3",
    "residents": "r-liu",
    "devices": "pgr-0001",
    "responders": "pm-sun",
}


def app_routes(app) -> set[tuple[str, str]]:
    """(method, path) of every route, included routers unfolded (FastAPI ≥ 0.16x keeps them nested)."""
    routes = iter_route_contexts(app.routes) if iter_route_contexts else app.routes
    found = set()
    for route in routes:
        if route.path is not None and route.methods:
            found |= {(m, route.path) for m in set(route.methods) - {"HEAD"}}
    assert len(found) > 20
    return found


def concrete(path: str, alert_id: int) -> str:
    kind = path.split("/")[3] if path.startswith("/api/v1/") else ""
    return (
        path.replace("{alert_id}", str(alert_id))
        .replace("{entry_id}", ENTRY.get(kind, "x"))
        .replace("{name}", "board.js")
        .replace("{resident_id}", "r-zhang")
        .replace("{item_id}", "1")
        .replace("{token_id}", "999999")
    )  # not a real one: revoking a test token would sign a role out


@pytest.fixture
def served(engine, example_registry):
    wecom = dict(  # so that its callback is among the routes (the dispatcher never starts: nothing is sent)
        wecom_corp_id="ww-test",
        wecom_agent_id=1,
        wecom_secret="secret",
        wecom_callback_token="token",
        wecom_encoding_aes_key="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
        wecom_api_url="http://127.0.0.1:9",
    )
    settings = load_settings(database_url=engine.url.render_as_string(hide_password=False), **wecom)
    app, dispatcher = web_system(engine, example_registry, settings)
    tokens = make_users(dispatcher.alerts.sessions)
    alert_id = open_alert(dispatcher)
    server = Served(app).start()
    yield app, server, tokens, alert_id
    server.stop()


def call(http: httpx.Client, method: str, path: str, headers: dict) -> int:
    if path == "/api/v1/stream":
        with http.stream(method, path, headers=headers) as r:
            return r.status_code
    body = {} if method in ("POST", "PUT") else None
    return http.request(method, path, headers=headers, json=body).status_code


def test_every_route_has_a_rule(served):
    app = served[0]
    assert app_routes(app) - set(RULES) == set(), "routes without a rule in RULES"
    assert set(RULES) - app_routes(app) == set(), "rules for routes that do not exist"


def test_every_route_refuses_whoever_lacks_its_role(served):
    app, server, tokens, alert_id = served
    wrong = []
    with httpx.Client(base_url=server.url, timeout=10, follow_redirects=False) as http:
        for (method, template), rule in sorted(RULES.items()):
            path = concrete(template, alert_id)
            for who in ("anonymous", "viewer", "operator", "admin"):
                headers = bearer(tokens[who]) if who != "anonymous" else {}
                status = call(http, method, path, headers)
                if rule == "public":
                    ok = status not in (401, 403)
                elif rule == "webhook":
                    ok = status == 403  # nobody, signed in or not, without the provider's signature or token
                elif rule == "page":
                    ok = (status == 303) if who == "anonymous" else (status == 200)
                elif rule == "admin page":
                    ok = status == {"anonymous": 303, "admin": 200}.get(who, 403)
                elif who == "anonymous":
                    ok = status == 401
                elif RANK[who] < RANK[rule]:
                    ok = status == 403
                else:
                    ok = status not in (401, 403) and status < 500
                if not ok:
                    wrong.append(f"{method} {path} as {who}: {status} (rule {rule})")
    assert wrong == []


def test_sign_in_page_files_are_public_and_the_board_redirects(served):
    _, server, tokens, _ = served
    with httpx.Client(timeout=30, base_url=server.url, follow_redirects=False) as http:
        for name in ("app.css", "login.js", "i18n.js"):
            assert http.get(f"/static/{name}").status_code == 200
        assert http.get("/static/board.html").status_code == 401
        assert http.get("/static/../schema.py").status_code in (401, 404)
        assert http.get("/static/nothing.js", headers=bearer(tokens["viewer"])).status_code == 404
        r = http.get("/")
        assert r.status_code == 303 and r.headers["location"] == "/login"
        assert "金桥" in http.get("/login").text


def test_a_resident_name_is_never_served_without_signing_in(served):
    _, server, _, _ = served
    with httpx.Client(timeout=30, base_url=server.url, follow_redirects=True) as http:
        for path in (
            "/",
            "/docs",
            "/openapi.json",
            "/api/v1/board",
            "/api/v1/alerts",
            "/api/v1/residents",
            "/api/v1/residents/r-zhang",
            "/static/board.js",
        ):
            assert "张" not in http.get(path).text, path
