"""Sign-in and sign-out for the board (a session cookie and its CSRF cookie), and who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from web.accounts import SESSION_LIFETIME, AccountError, TooManyFailures
from web.auth import CSRF_COOKIE, SESSION_COOKIE, SignedIn, Viewer
from web.deps import AccountsDep, WebState


class SignIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class Me(BaseModel):
    name: str
    display_name: str = ""  # the name the board shows; empty: the sign-in name
    role: str
    via: str


router = APIRouter(tags=["session"])


@router.post("/api/v1/session", response_model=Me, responses={401: {}, 429: {}})
def sign_in(body: SignIn, request: Request, w: WebState):
    """Sign in with name and password: sets the session cookie (HttpOnly) and the CSRF cookie."""
    address = request.client.host if request.client else "unknown"
    try:
        token, opened = w.accounts.sign_in(body.name, body.password, address)
    except TooManyFailures as e:
        return JSONResponse({"detail": str(e)}, 429, headers={"Retry-After": str(e.retry_after)})
    except AccountError as e:
        return JSONResponse({"detail": str(e)}, 401)
    response = JSONResponse(
        {
            "name": opened.principal.name,
            "display_name": opened.principal.display_name,
            "role": opened.principal.role,
            "via": "session",
        }
    )
    age = int(SESSION_LIFETIME.total_seconds())
    response.set_cookie(
        SESSION_COOKIE, token, max_age=age, httponly=True, samesite="lax", secure=w.secure_cookies, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE,
        opened.csrf_token,
        max_age=age,
        httponly=False,
        samesite="strict",
        secure=w.secure_cookies,
        path="/",
    )
    return response


@router.delete("/api/v1/session")
def sign_out(user: SignedIn, request: Request, accounts: AccountsDep):
    """Sign out: the session ends on every web process."""
    if token := request.cookies.get(SESSION_COOKIE):
        accounts.sign_out(token)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/api/v1/me", response_model=Me)
def me(user: Viewer):
    return {"name": user.name, "display_name": user.display_name, "role": user.role, "via": user.via}
