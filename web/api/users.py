"""Admins disable and enable accounts and revoke API tokens; each takes effect at once, on every
web process and on open streams (see `web.auth.still_signed_in`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel

from web.accounts import AccountError
from web.auth import Admin
from web.deps import AccountsDep


class UserRow(BaseModel):
    name: str
    display_name: str
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


router = APIRouter(prefix="/api/v1", tags=["accounts"])


def refused(exc: AccountError) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("/users", response_model=list[UserRow])
def users(_: Admin, accounts: AccountsDep):
    return accounts.users()


@router.post("/users/{name}/disable", responses={404: {}, 409: {}})
def disable(name: UserName, admin: Admin, accounts: AccountsDep):
    """Disable an account: its sessions end and its tokens stop working, at once."""
    if name == admin.name:
        raise HTTPException(409, "you cannot disable your own account")
    try:
        return {"name": name, "active": False, "changed": accounts.set_active(name, False)}
    except AccountError as exc:
        raise refused(exc) from None


@router.post("/users/{name}/enable", responses={404: {}})
def enable(name: UserName, _: Admin, accounts: AccountsDep):
    try:
        return {"name": name, "active": True, "changed": accounts.set_active(name, True)}
    except AccountError as exc:
        raise refused(exc) from None


@router.get("/tokens", response_model=list[TokenRow])
def tokens(_: Admin, accounts: AccountsDep, user: Annotated[str | None, Query(max_length=64)] = None):
    """Every API token (never its value): id, account, label, when made and revoked."""
    return accounts.tokens(user)


@router.post("/tokens/{token_id}/revoke", responses={404: {}})
def revoke(token_id: TokenId, _: Admin, accounts: AccountsDep):
    try:
        return {"id": token_id, "revoked": True, "changed": accounts.revoke_token(token_id)}
    except AccountError as exc:
        raise refused(exc) from None
