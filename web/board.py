"""The board's web side: sign-in and sign-out, the pages and their files, the live stream, and the
OpenAPI documents (behind sign-in like everything else). `web_routers` assembles the whole web API."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Sequence

import structlog
from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session, sessionmaker

from web.accounts import SESSION_LIFETIME, AccountError, Accounts, Principal, TooManyFailures
from web.api import alerts
from web.api import registry
from web.api import supervision
from web.auth import (CSRF_COOKIE, SESSION_COOKIE, Admin, Viewer, current_user, principal_of,
                          still_signed_in)
from core.clock import utcnow
from web.app import Readiness, create_app
from web.deps import Web
from web.stream import Cursor, Hub, newest_id, sse

log = structlog.get_logger("jinqiao.board")

STATIC = Path(__file__).with_name("static")
PUBLIC_FILES = {"app.css", "login.js", "i18n.js"}  # what the sign-in page needs; no data in them
KEEPALIVE_S = 15.0
RECHECK_S = 2.0  # an open stream looks its credential up again at least this often


class SignIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    name: str
    role: str
    via: str


# Every page is our own files only: no inline script or style, no other origin, never in a frame.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
CDN = "https://cdn.jsdelivr.net"  # where FastAPI's Swagger UI page loads its script and style from
PAGE_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"}


def page_headers(csp: str = CSP) -> dict[str, str]:
    return {"Content-Security-Policy": csp, **PAGE_HEADERS}


def _docs_csp(html: str) -> str:
    """/docs is FastAPI's Swagger UI page: its one inline script is allowed by its hash, nothing else inline."""
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(code.encode()).digest()).decode()}'" for code in inline)
    return (f"default-src 'self'; script-src 'self' {CDN} {hashes}; style-src 'self' {CDN} 'unsafe-inline'; "
            f"img-src 'self' data: {CDN} https://fastapi.tiangolo.com; connect-src 'self'; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def _static(name: str) -> FileResponse:
    path = STATIC / name
    if "/" in name or name.startswith(".") or not path.is_file():
        raise HTTPException(404, f"no file {name}")
    headers = page_headers() if name.endswith(".html") else dict(PAGE_HEADERS)
    return FileResponse(path, headers={"Cache-Control": "no-cache", **headers})


def session_router(accounts: Accounts, secure_cookies: bool) -> APIRouter:
    router = APIRouter(tags=["session"])

    @router.get("/login", include_in_schema=False)
    def login_page():
        return _static("login.html")

    @router.post("/api/v1/session", response_model=Me, responses={401: {}, 429: {}})
    def sign_in(body: SignIn, request: Request):
        """Sign in with name and password: sets the session cookie (HttpOnly) and the CSRF cookie."""
        address = request.client.host if request.client else "unknown"
        try:
            token, session = accounts.sign_in(body.name, body.password, address)
        except TooManyFailures as e:
            return JSONResponse({"detail": str(e)}, 429, headers={"Retry-After": str(e.retry_after)})
        except AccountError as e:
            return JSONResponse({"detail": str(e)}, 401)
        principal = accounts.by_session(token)
        response = JSONResponse({"name": principal.name, "role": principal.role, "via": "session"})
        age = int(SESSION_LIFETIME.total_seconds())
        response.set_cookie(SESSION_COOKIE, token, max_age=age, httponly=True, samesite="lax",
                            secure=secure_cookies, path="/")
        response.set_cookie(CSRF_COOKIE, session.csrf_token, max_age=age, httponly=False, samesite="strict",
                            secure=secure_cookies, path="/")
        return response

    @router.delete("/api/v1/session")
    def sign_out(user: Annotated[Principal, Depends(current_user)], request: Request):
        """Sign out: the session ends on every web process."""
        if token := request.cookies.get(SESSION_COOKIE):
            accounts.sign_out(token)
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(SESSION_COOKIE, path="/")
        response.delete_cookie(CSRF_COOKIE, path="/")
        return response

    @router.get("/api/v1/me", response_model=Me)
    def me(user: Viewer):
        return {"name": user.name, "role": user.role, "via": user.via}

    return router


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/")
    def board_page(request: Request):
        if principal_of(request) is None:
            return RedirectResponse("/login", status_code=303)
        return _static("board.html")

    @router.get("/static/{name}")
    def static_file(name: str, request: Request):
        if name not in PUBLIC_FILES and principal_of(request) is None:
            raise HTTPException(401, "sign in first")
        return _static(name)

    @router.get("/openapi.json")
    def openapi(user: Viewer, request: Request):
        return JSONResponse(request.app.openapi())

    @router.get("/docs")
    def docs(user: Viewer):
        page = get_swagger_ui_html(openapi_url="/openapi.json", title="Jinqiao 金桥 API")
        page.headers.update(page_headers(_docs_csp(page.body.decode())))
        return page

    return router


def stream_router(hub: Hub, sessions: sessionmaker[Session]) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["alerts"])

    @router.get("/stream", response_class=StreamingResponse,
                responses={200: {"content": {"text/event-stream": {}}, "description": "Server-Sent Events"}})
    async def stream(user: Viewer, request: Request,
                     last_event_id: Annotated[int | None, Header(ge=0, le=2**62)] = None):
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
                    except asyncio.TimeoutError:
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

        return StreamingResponse(events(), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return router


class UserRow(BaseModel):
    name: str
    role: str
    active: bool
    created_at: datetime


class TokenRow(BaseModel):
    id: int
    user: str
    label: str
    created_at: datetime
    revoked_at: datetime | None


UserName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
TokenId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


def users_router(accounts: Accounts) -> APIRouter:
    """Admins disable and enable accounts and revoke API tokens; each takes effect at once, on every
    web process and on open streams (see `still_signed_in`)."""
    router = APIRouter(prefix="/api/v1", tags=["accounts"])

    def refused(exc: AccountError) -> HTTPException:
        return HTTPException(404, str(exc))

    @router.get("/users", response_model=list[UserRow])
    def users(_: Admin):
        return accounts.users()

    @router.post("/users/{name}/disable", responses={404: {}, 409: {}})
    def disable(name: UserName, admin: Admin):
        """Disable an account: its sessions end and its tokens stop working, at once."""
        if name == admin.name:
            raise HTTPException(409, "you cannot disable your own account")
        try:
            return {"name": name, "active": False, "changed": accounts.set_active(name, False)}
        except AccountError as exc:
            raise refused(exc) from None

    @router.post("/users/{name}/enable", responses={404: {}})
    def enable(name: UserName, _: Admin):
        try:
            return {"name": name, "active": True, "changed": accounts.set_active(name, True)}
        except AccountError as exc:
            raise refused(exc) from None

    @router.get("/tokens", response_model=list[TokenRow])
    def tokens(_: Admin, user: Annotated[str | None, Query(max_length=64)] = None):
        """Every API token (never its value): id, account, label, when made and revoked."""
        return accounts.tokens(user)

    @router.post("/tokens/{token_id}/revoke", responses={404: {}})
    def revoke(token_id: TokenId, _: Admin):
        try:
            return {"id": token_id, "revoked": True, "changed": accounts.revoke_token(token_id)}
        except AccountError as exc:
            raise refused(exc) from None

    return router


def web_routers(w: Web) -> list[APIRouter]:
    """Every router of the board and the API; create_app(..., web=w) puts `w` on app.state."""
    return [session_router(w.accounts, w.secure_cookies), pages_router(), stream_router(w.hub, w.reads),
            users_router(w.accounts), alerts.router,
            registry.router,
            supervision.router]


def web_app(readiness: Readiness, web: Web, extra: Sequence[APIRouter] = ()) -> FastAPI:
    """The web process's app: health, `extra` (the Twilio webhooks in `jinqiao up`), the board and the API."""
    return create_app(readiness, [*extra, *web_routers(web)], web)
