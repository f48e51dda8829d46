"""The board's web side: its pages and their files, the live stream, and the OpenAPI documents
(behind sign-in like everything else); `ROUTERS` lists every router of the board and the API, and
`web_app` is the web process's app over them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import structlog
from fastapi import APIRouter, FastAPI, Header, HTTPException, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from core.clock import utcnow
from web.api import (
    alert_find,
    alerts,
    audit,
    dispatching,
    follow_ups,
    in_call,
    mediator_day,
    registry,
    reports,
    resident_history,
    roster_duty,
    service_team,
    session,
    supervision,
    users,
    visits,
)
from web.app import Readiness, create_app
from web.auth import Viewer, principal_of, still_signed_in
from web.deps import Reads, StreamHub, Web
from web.stream import Cursor, newest_id, sse

log = structlog.get_logger("jinqiao.board")

STATIC = Path(__file__).with_name("static")
VENDOR = STATIC / "vendor"  # third-party scripts we serve ourselves (see its README.md)


def _swagger_ui() -> Path:
    """Swagger UI 5 (it reads OpenAPI 3.1, which FastAPI writes) as the swagger-ui-py package ships
    it; found, not imported, as the package itself would pull in its framework glue."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is missing (see pyproject.toml)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


SWAGGER = _swagger_ui()
SWAGGER_FILES = {"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"}
PUBLIC_FILES = {"app.css", "login.js", "i18n.js"}  # what the sign-in page needs; no data in them
KEEPALIVE_S = 15.0
RECHECK_S = 2.0  # an open stream looks its credential up again at least this often


# Every page is our own files only: no inline script or style, no other origin, never in a frame.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def page_headers(csp: str = CSP) -> dict[str, str]:
    return {"Content-Security-Policy": csp, **PAGE_HEADERS}


def _docs_csp(html: str) -> str:
    """/docs is FastAPI's Swagger UI page over our own copy of Swagger UI: its one inline script is
    allowed by its hash, no other script; Swagger UI sets inline styles on its elements."""
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'" for code in inline
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def _static(name: str, folder: Path = STATIC) -> FileResponse:
    path = folder / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, f"no file {name}")
    headers = page_headers() if name.endswith(".html") else dict(PAGE_HEADERS)
    return FileResponse(path, headers={"Cache-Control": "no-cache", **headers})


pages = APIRouter(include_in_schema=False)


@pages.get("/login", include_in_schema=False)
def login_page():
    return _static("login.html")


@pages.get("/")
def board_page(request: Request):
    if principal_of(request) is None:
        return RedirectResponse("/login", status_code=303)
    return _static("board.html")


@pages.get("/report")
def report_page(request: Request):
    """The monthly calls report, to read and to print."""
    if principal_of(request) is None:
        return RedirectResponse("/login", status_code=303)
    return _static("report.html")


@pages.get("/visits")
def visits_page(request: Request):
    """The monitoring net: who is due a visit, and a visit recorded for a party member."""
    if principal_of(request) is None:
        return RedirectResponse("/login", status_code=303)
    return _static("visits.html")


@pages.get("/admin")
def admin_page(request: Request):
    """The admins' page (accounts, the audit list, the registry editors); others are sent to the board."""
    who = principal_of(request)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    if not who.has("admin"):
        return HTMLResponse(FORBIDDEN_PAGE, status_code=403, headers=page_headers())
    return _static("admin.html")


FORBIDDEN_PAGE = (
    '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>金桥 · 403</title>'
    '<link rel="stylesheet" href="/static/app.css"></head><body><main><h1>403</h1>'
    "<p>只有管理员可以打开管理页面。Only admins may open the admin page.</p>"
    '<p><a href="/">返回值班台 · Back to the board</a></p></main></body></html>'
)


@pages.get("/static/{name}")
def static_file(name: str, request: Request):
    if name not in PUBLIC_FILES and principal_of(request) is None:
        raise HTTPException(401, "sign in first")
    return _static(name)


@pages.get("/static/vendor/{name}")
def vendor_file(name: str, user: Viewer):
    return _static(name, VENDOR)


@pages.get("/static/swagger/{name}")
def swagger_file(name: str, user: Viewer):
    if name not in SWAGGER_FILES:
        raise HTTPException(404, f"no file {name}")
    return _static(name, SWAGGER)


@pages.get("/openapi.json")
def openapi(user: Viewer, request: Request):
    return JSONResponse(request.app.openapi())


@pages.get("/docs")
def docs(user: Viewer):
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Jinqiao 金桥 API",
        swagger_js_url="/static/swagger/swagger-ui-bundle.js",
        swagger_css_url="/static/swagger/swagger-ui.css",
        swagger_favicon_url="/static/swagger/favicon-32x32.png",
    )
    page.headers.update(page_headers(_docs_csp(bytes(page.body).decode())))
    return page


live = APIRouter(prefix="/api/v1", tags=["alerts"])  # the board's live stream


@live.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}},
)
async def stream(
    user: Viewer,
    request: Request,
    hub: StreamHub,
    sessions: Reads,
    last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None,
):
    """Alert changes as Server-Sent Events: `entry` (a timeline entry; its id is the SSE id, so a
    reconnecting client sends Last-Event-ID and catches up) and `changed` (anything else)."""
    sub = hub.subscribe()
    loop = asyncio.get_running_loop()
    signed_in = still_signed_in(request, user)

    def start() -> tuple[Cursor, list[dict]]:
        with sessions() as s:
            if last_event_id is None:
                return Cursor(newest_id(s)), []
            cursor = Cursor(last_event_id)
            return cursor, cursor.read(s, utcnow())

    def read(cursor: Cursor) -> list[dict]:
        with sessions() as s:
            return cursor.read(s, utcnow())

    async def events():
        try:
            cursor, entries = await asyncio.to_thread(start)
            yield "retry: 1000\n" + sse("hello", {"user": user.name, "cursor": cursor.after})
            for e in entries:
                yield sse("entry", e, e["id"])
            quiet_since = loop.time()
            while True:
                try:
                    kind, _ = await asyncio.wait_for(sub.queue.get(), RECHECK_S)
                except TimeoutError:
                    kind = "idle"
                if kind == "close":
                    return
                # the credential is looked up again before every delivery and every few seconds:
                # a sign-out, a revoked token or a disabled account ends the stream at once
                if not await asyncio.to_thread(signed_in):
                    log.info("stream.credential_ended", user=user.name, via=user.via)
                    yield sse("signed_out", {"reason": "the session or token is no longer valid"})
                    return
                if kind == "idle":
                    if await request.is_disconnected():
                        return
                    if loop.time() - quiet_since >= KEEPALIVE_S:
                        quiet_since = loop.time()
                        yield ": keep-alive\n\n"
                    continue
                quiet_since = loop.time()
                entries = await asyncio.to_thread(read, cursor)
                for e in entries:
                    yield sse("entry", e, e["id"])
                if not entries:
                    yield sse("changed", {})
        finally:
            hub.unsubscribe(sub)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )


# Every router of the board and the API, in the order they are matched.
ROUTERS = [
    session.router,
    pages,
    live,
    users.router,
    audit.router,
    alert_find.router,
    alerts.router,
    in_call.router,  # escalate, repage, notes, the readable timeline, the 120 hand-off
    dispatching.router,
    registry.router,
    resident_history.router,  # the changes to one resident's record (admin)
    roster_duty.router,
    supervision.router,
    reports.router,
    visits.router,
    follow_ups.router,
    mediator_day.router,
    service_team.router,
]


def web_app(readiness: Readiness, web: Web, extra: Sequence[APIRouter] = ()) -> FastAPI:
    """The web process's app: health, `extra` (the Twilio webhooks in `jinqiao up`), the board and the API."""
    return create_app(readiness, [*extra, *ROUTERS], web)
