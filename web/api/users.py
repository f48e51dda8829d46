"""Admins disable and enable accounts and revoke API tokens; each takes effect at once, on every
web process and on open streams (see `web.auth.still_signed_in`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from web.accounts import AccountConflict, AccountError
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


class NewUser(BaseModel):
    name: str = Field(max_length=64)
    display_name: str = Field(default="", max_length=200)
    role: str = Field(max_length=20)
    password: str = Field(max_length=1000)


class UserChange(BaseModel):
    role: str | None = Field(default=None, max_length=20)
    display_name: str | None = Field(default=None, max_length=200)


class NewPassword(BaseModel):
    password: str = Field(max_length=1000)


class NewToken(BaseModel):
    label: str = Field(default="", max_length=200)


UserName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")]
TokenId = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


router = APIRouter(prefix="/api/v1", tags=["accounts"])


def refused(exc: AccountError) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("/users", response_model=list[UserRow])
def users(_: Admin, accounts: AccountsDep):
    return accounts.users()


def _answer(exc: AccountError) -> HTTPException:
    """A clash is 409, an unknown account 404, anything else the Accounts refuse 422."""
    if isinstance(exc, AccountConflict):
        return HTTPException(409, str(exc))
    if str(exc).startswith("no account named") or str(exc).startswith("no active account"):
        return HTTPException(404, str(exc))
    return HTTPException(422, str(exc))


def _row(accounts, name: str) -> dict:
    for user in accounts.users():
        if user["name"] == name:
            return user
    raise HTTPException(404, f"no account named '{name}'")


@router.post("/users", status_code=201, response_model=UserRow, responses={409: {}, 422: {}})
def add_user(body: NewUser, admin: Admin, accounts: AccountsDep):
    """Add an account (409 if the name is taken; 422 with the reason for a bad name, role or password)."""
    try:
        accounts.add_user(body.name, body.role, body.password, body.display_name, actor=admin.name)
    except AccountError as exc:
        raise _answer(exc) from None
    return _row(accounts, body.name)


@router.put("/users/{name}", response_model=UserRow, responses={404: {}, 409: {}, 422: {}})
def change_user(name: UserName, body: UserChange, admin: Admin, accounts: AccountsDep):
    """Change an account's role and/or display name; an admin cannot demote themselves, nor the last admin."""
    if body.role is not None and name == admin.name and body.role != admin.role:
        raise HTTPException(409, "you cannot change your own role; ask another admin")
    _row(accounts, name)
    try:
        if body.display_name is not None:
            accounts.set_display_name(name, body.display_name, actor=admin.name)
        if body.role is not None:
            accounts.set_role(name, body.role, actor=admin.name)
    except AccountError as exc:
        raise _answer(exc) from None
    return _row(accounts, name)


@router.post("/users/{name}/password", responses={404: {}, 422: {}})
def reset_password(name: UserName, body: NewPassword, admin: Admin, accounts: AccountsDep):
    """Set a new password; that account's sessions end (its API tokens keep working)."""
    try:
        accounts.set_password(name, body.password, actor=admin.name)
    except AccountError as exc:
        raise _answer(exc) from None
    return {"name": name, "password_reset": True}


@router.post("/users/{name}/tokens", status_code=201, responses={404: {}})
def new_token(name: UserName, body: NewToken, admin: Admin, accounts: AccountsDep):
    """A new API token for the account: its value is in this answer only, never again."""
    try:
        token = accounts.create_token(name, body.label, actor=admin.name)
    except AccountError as exc:
        raise _answer(exc) from None
    return {"id": accounts.token_id(token), "user": name, "label": body.label, "token": token}


@router.post("/users/{name}/disable", responses={404: {}, 409: {}})
def disable(name: UserName, admin: Admin, accounts: AccountsDep):
    """Disable an account: its sessions end and its tokens stop working, at once."""
    if name == admin.name:
        raise HTTPException(409, "you cannot disable your own account")
    try:
        return {"name": name, "active": False, "changed": accounts.set_active(name, False, actor=admin.name)}
    except AccountConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except AccountError as exc:
        raise refused(exc) from None


@router.post("/users/{name}/enable", responses={404: {}})
def enable(name: UserName, admin: Admin, accounts: AccountsDep):
    try:
        return {"name": name, "active": True, "changed": accounts.set_active(name, True, actor=admin.name)}
    except AccountError as exc:
        raise refused(exc) from None


@router.get("/tokens", response_model=list[TokenRow])
def tokens(_: Admin, accounts: AccountsDep, user: Annotated[str | None, Query(max_length=64)] = None):
    """Every API token (never its value): id, account, label, when made and revoked."""
    return accounts.tokens(user)


@router.post("/tokens/{token_id}/revoke", responses={404: {}})
def revoke(token_id: TokenId, admin: Admin, accounts: AccountsDep):
    try:
        return {"id": token_id, "revoked": True, "changed": accounts.revoke_token(token_id, actor=admin.name)}
    except AccountError as exc:
        raise refused(exc) from None
