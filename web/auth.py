"""FastAPI dependencies for who is asking: a session cookie or an `Authorization: Bearer` token.

Cookie-authenticated requests that change something must carry the session's CSRF token in the
`X-CSRF-Token` header (the board's script reads it from the `jinqiao_csrf` cookie, which a page on
another site cannot read): a forged form from elsewhere brings the cookie but not the header.
Token-authenticated requests need no CSRF token: a browser never adds a bearer token by itself.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from web.accounts import RANK, Accounts, Principal
from web.deps import web

SESSION_COOKIE = "jinqiao_session"
CSRF_COOKIE = "jinqiao_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NotSignedIn(HTTPException):
    def __init__(self) -> None:
        super().__init__(
            401, "sign in first (session cookie or Authorization: Bearer token)", headers={"WWW-Authenticate": "Bearer"}
        )


def _look_up(accounts: Accounts, request: Request) -> Principal | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return accounts.by_token(header[7:].strip())
    if cookie := request.cookies.get(SESSION_COOKIE):
        return accounts.by_session(cookie)
    return None


def principal_of(request: Request) -> Principal | None:
    """The signed-in person of this request, or None (cached on the request)."""
    if hasattr(request.state, "principal"):
        return request.state.principal
    found = _look_up(web(request).accounts, request)
    request.state.principal = found
    return found


def still_signed_in(request: Request, principal: Principal) -> Callable[[], bool]:
    """For a long-lived response (the live stream): a check, to run again and again, that the
    request's credential still stands (not signed out, not revoked, the account still active and
    of the same role). It looks the credential up afresh each time; nothing is cached."""
    accounts = web(request).accounts

    def check() -> bool:
        now = _look_up(accounts, request)
        return now is not None and now.user_id == principal.user_id and now.role == principal.role

    return check


def current_user(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise NotSignedIn()
    if principal.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, principal.csrf_token or ""):
            raise HTTPException(
                403, "missing or wrong CSRF token (send the jinqiao_csrf cookie's value in the X-CSRF-Token header)"
            )
    return principal


SignedIn = Annotated[Principal, Depends(current_user)]  # anyone signed in, whatever the role


def require(role: str) -> Callable[..., Principal]:
    """A dependency: the request's person, who must hold at least `role`."""
    if role not in RANK:
        raise ValueError(f"unknown role {role}")

    def dependency(user: SignedIn) -> Principal:
        if not user.has(role):
            raise HTTPException(403, f"this needs the role '{role}' (you are '{user.role}')")
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
