"""Accounts for tests that talk to the web API: a user of each role and their bearer tokens."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker

from jinqiao.accounts import ROLES, Accounts

PASSWORD = "correct horse battery staple"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def make_users(sessions: sessionmaker[Session], roles=ROLES) -> dict[str, str]:
    """One account per role, named after it (password PASSWORD); returns role → API token."""
    accounts = Accounts(sessions, utcnow)
    tokens = {}
    for role in roles:
        accounts.add_user(role, role, PASSWORD)
        tokens[role] = accounts.create_token(role, "tests")
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
