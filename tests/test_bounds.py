"""Bounds on every number a request carries, and the pages' security headers.

An unbounded integer reached the database and came back as HTTP 500 (an `offset` beyond 64 bits,
a huge `n` on a signed Twilio webhook). Every integer parameter in the OpenAPI document is sent
out of range here and must get a 4xx; the webhooks, which are not in that document, are tried by
hand with a valid signature."""

from __future__ import annotations

import re
from urllib.parse import quote

import httpx
import pytest
from twilio.request_validator import RequestValidator

from core.settings import load_settings
from tests.support.web import Served, bearer, make_users, open_alert, web_system

AUTH_TOKEN = "twilio-test-auth-token"
FILLERS = {
    "alert_id": "1",
    "entry_id": "r-zhang",
    "resident_id": "r-zhang",
    "item_id": "1",
    "name": "viewer",
    "token_id": "999999",
}


@pytest.fixture
def served(engine, db_url, example_registry):
    settings = load_settings(
        database_url=db_url,
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token=AUTH_TOKEN,
        twilio_from="+15005550006",
        twilio_api_url="http://127.0.0.1:9",
    )
    app, dispatcher = web_system(engine, example_registry, settings)
    tokens = make_users(dispatcher.alerts.sessions)
    open_alert(dispatcher)
    server = Served(app).start()
    yield app, server, tokens
    server.stop()


def integer_parameters(app) -> list[tuple[str, str, str, str]]:
    """(method, path, where, name) of every integer path, query or header parameter."""
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, op in item.items():
            for p in op.get("parameters", []):
                schemas = [p["schema"], *p["schema"].get("anyOf", [])]
                if any(s.get("type") == "integer" for s in schemas):
                    found.append((method.upper(), path, p["in"], p["name"]))
    return found


def test_every_integer_parameter_out_of_range_gets_a_4xx(served):
    app, server, tokens = served
    params = integer_parameters(app)
    assert ("GET", "/api/v1/supervision/devices", "query", "offset") in params
    assert ("GET", "/api/v1/supervision/maintenance", "query", "offset") in params
    wrong = []
    with httpx.Client(base_url=server.url, headers=bearer(tokens["admin"]), timeout=10) as http:
        for method, path, where, name in params:
            if path == "/api/v1/stream":  # an endless response when accepted: its header is tried below
                continue
            for value in (str(10**30), "-1", str(2**63)):
                url = path
                for key, filler in FILLERS.items():
                    url = url.replace(f"{{{key}}}", value if key == name else filler)
                query = {name: value} if where == "query" else None
                headers = {name: value} if where == "header" else None
                body = {} if method in ("POST", "PUT") else None
                status = http.request(method, url, params=query, headers=headers, json=body).status_code
                if not 400 <= status < 500:
                    wrong.append(f"{method} {url} {where} {name}={value}: {status}")
        assert http.get("/api/v1/stream", headers={"Last-Event-ID": str(10**30)}).status_code == 422
    assert wrong == []


def signed_post(server, path: str, form: dict) -> httpx.Response:
    public = "http://127.0.0.1:8000"  # the settings' default public URL, which the signature covers
    signature = RequestValidator(AUTH_TOKEN).compute_signature(public + path, form)
    return httpx.post(server.url + path, data=form, headers={"X-Twilio-Signature": signature})


@pytest.mark.parametrize("hook", ["/twilio/voice", "/twilio/status"])
@pytest.mark.parametrize("n", [str(10**30), str(2**31), "0", "²", "-5", "1e3"])
def test_a_signed_webhook_with_an_impossible_notification_id_gets_400(served, hook, n):
    _, server, _ = served
    form = {"CallSid": "CA" + "1" * 32, "CallStatus": "completed"}
    r = signed_post(server, f"{hook}?n={quote(n)}", form)
    assert r.status_code == 400, r.text
    assert "notification id" in r.json()["detail"]


def test_a_signed_webhook_with_an_unknown_but_possible_id_is_answered(served):
    _, server, _ = served
    form = {"CallSid": "CA" + "2" * 32, "CallStatus": "completed"}
    assert signed_post(server, "/twilio/status?n=2147483647", form).status_code == 204
    voice = signed_post(server, "/twilio/voice?n=2147483647", form)
    assert voice.status_code == 200 and "<Response>" in voice.text


def test_pages_send_a_strict_content_security_policy(served):
    _, server, tokens = served
    with httpx.Client(timeout=30, base_url=server.url, headers=bearer(tokens["viewer"])) as http:
        for path in ("/login", "/", "/docs"):
            r = http.get(path)
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/html"), path
            csp = r.headers["content-security-policy"]
            assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp, path
            assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0], path
            assert r.headers["x-content-type-options"] == "nosniff", path
            assert r.headers["referrer-policy"] == "no-referrer", path
        board = http.get("/").headers["content-security-policy"]
        assert "script-src 'self';" in board and "style-src 'self';" in board
        assert http.get("/static/board.js").headers["x-content-type-options"] == "nosniff"


def test_docs_loads_swagger_ui_from_the_app_itself_and_names_no_other_host(served):
    _, server, tokens = served
    with httpx.Client(timeout=30, base_url=server.url, headers=bearer(tokens["viewer"])) as http:
        r = http.get("/docs")
        assert r.status_code == 200
        assert "http://" not in r.text and "https://" not in r.text  # no CDN: /docs works offline
        csp = r.headers["content-security-policy"]
        assert "http" not in csp, csp
        urls = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        script = [u for u in urls if u.endswith("swagger-ui-bundle.js")]
        style = [u for u in urls if u.endswith("swagger-ui.css")]
        assert script == ["/static/swagger/swagger-ui-bundle.js"] and style == ["/static/swagger/swagger-ui.css"]
        for url in urls:
            got = http.get(url)
            assert got.status_code == 200 and got.content, url
        assert "SwaggerUIBundle" in http.get(script[0]).text
        assert http.get("/static/swagger/index.html").status_code == 404  # only the files /docs names
        assert http.get("/static/swagger/../board.py").status_code == 404
    with httpx.Client(timeout=30, base_url=server.url) as anonymous:  # behind sign-in like /docs itself
        assert anonymous.get("/static/swagger/swagger-ui-bundle.js").status_code == 401
        assert anonymous.get("/docs").status_code == 401
