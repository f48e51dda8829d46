"""Accounts: people who sign in to the board, their sessions, API tokens, and the sign-in rate limit.

Passwords are argon2id hashes (argon2-cffi). Session and API tokens are 256 random bits, so the
database keeps only their SHA-256: a stolen database copy signs nobody in. Everything lives in the
database, so several web processes agree on who is signed in and on how many attempts failed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

import structlog
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from core.audit import record
from core.db import transaction
from core.schema import ApiToken, SignInFailure, User, WebSession

log = structlog.get_logger("jinqiao.accounts")

ROLES = ("viewer", "operator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 10
SESSION_LIFETIME = timedelta(hours=12)
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_NAME = 5
MAX_FAILURES_PER_ADDRESS = 20
TOKEN_PREFIX = "jq_"

_Credential = TypeVar("_Credential", WebSession, ApiToken)  # what a bearer of a token holds


class AccountError(ValueError):
    """A bad account request (name taken, weak password, unknown role); the message says which."""


class AccountConflict(AccountError):
    """The request clashes with what is there: the name is taken, or it would leave no active admin."""


class TooManyFailures(Exception):
    """Too many failed sign-ins for this name or address; retry after `retry_after` seconds."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many failed sign-ins; try again in {retry_after} s")


MAX_DISPLAY_NAME = 100


def checked_display_name(display_name: str) -> str:
    """A display name trimmed; refused when too long or holding control characters."""
    shown = (display_name or "").strip()
    if len(shown) > MAX_DISPLAY_NAME:
        raise AccountError(f"the display name has at most {MAX_DISPLAY_NAME} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in shown):
        raise AccountError("the display name may not hold control characters")
    return shown


@dataclass(frozen=True)
class Principal:
    """Who makes a request: their account, role and how they proved it (session or token)."""

    user_id: int
    name: str
    role: str
    via: str  # session | token
    csrf_token: str | None = None  # sessions only
    display_name: str = ""  # what the board and the texts call them ("王芳"); empty: the sign-in name

    @property
    def shown(self) -> str:
        """The name people see: the display name, else the sign-in name."""
        return self.display_name or self.name

    def has(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


@dataclass(frozen=True)
class NewSession:
    """A session just opened: who signed in, and the CSRF token its cookie carries."""

    principal: Principal
    csrf_token: str


def _shown(token_or_id: str | int) -> str:
    text = str(token_or_id)
    return text[:7] + "…" if text.startswith(TOKEN_PREFIX) else repr(text[:20])


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}' (one of {', '.join(ROLES)})")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")


def _keep_an_admin(s: Session, leaving: User) -> None:
    """Refuse a change that would leave no active admin."""
    others = s.scalar(select(func.count()).where(User.role == "admin", User.active.is_(True), User.id != leaving.id))
    if not others:
        raise AccountConflict(f"'{leaving.name}' is the last active admin; make another admin first")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        now: Callable[[], datetime],
        hasher: PasswordHasher | None = None,
        reads: sessionmaker[Session] | None = None,
    ) -> None:
        self.sessions = sessions
        self.reads = reads or sessions  # who is asking is looked up on every request: no write lock
        self.now = now
        self.hasher = hasher or PasswordHasher()
        # verifying against a dummy hash keeps an unknown name as slow as a wrong password
        self._dummy = self.hasher.hash(secrets.token_hex(16))

    # --- users ---------------------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, display_name: str = "", *, actor: str = "cli") -> User:
        if not NAME_RE.fullmatch(name or ""):
            raise AccountError(f"bad name '{name}' (letters, digits, _ . @ -, at most 64)")
        _check_role(role)
        _check_password(password)
        display_name = checked_display_name(display_name)
        with transaction(self.sessions) as s:
            if s.scalar(select(User).where(User.name == name)) is not None:
                raise AccountConflict(f"an account named '{name}' exists already")
            user = User(
                name=name,
                display_name=display_name,
                role=role,
                password_hash=self.hasher.hash(password),
                active=True,
                created_at=self.now(),
            )
            s.add(user)
            s.flush()
            record(s, self.now(), actor, "user.add", name, {"role": role, "display_name": display_name})
        log.info("account.added", user=name, role=role)
        return user

    def create_token(self, name: str, label: str = "", *, actor: str = "cli") -> str:
        """A new API token for the account; returned once, only its hash is kept."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with transaction(self.sessions) as s:
            user = s.scalar(select(User).where(User.name == name, User.active.is_(True)))
            if user is None:
                raise AccountError(f"no active account named '{name}'")
            row = ApiToken(user_id=user.id, label=label[:200], token_hash=digest(token), created_at=self.now())
            s.add(row)
            s.flush()
            record(s, self.now(), actor, "token.create", name, {"token_id": row.id, "label": row.label})
        log.info("account.token_created", user=name, label=label)
        return token

    def set_role(self, name: str, role: str, *, actor: str = "cli") -> bool:
        """Give the account another role; the last active admin keeps theirs. True if it changed."""
        _check_role(role)
        with transaction(self.sessions) as s:
            user = self._user(s, name)
            before = user.role
            if before == role:
                return False
            if before == "admin" and user.active:
                _keep_an_admin(s, user)
            user.role = role
            record(s, self.now(), actor, "user.role", name, {"from": before, "to": role})
        log.info("account.role_changed", user=name, role=role)
        return True

    def set_display_name(self, name: str, display_name: str, *, actor: str = "cli") -> bool:
        shown = checked_display_name(display_name)
        with transaction(self.sessions) as s:
            user = self._user(s, name)
            before = user.display_name
            if before == shown:
                return False
            user.display_name = shown
            record(s, self.now(), actor, "user.display_name", name, {"from": before, "to": shown})
        return True

    def set_password(self, name: str, password: str, *, actor: str = "cli") -> None:
        """Reset the password; every session of the account ends (its API tokens stay)."""
        _check_password(password)
        hashed = self.hasher.hash(password)
        with transaction(self.sessions) as s:
            user = self._user(s, name)
            user.password_hash = hashed
            s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            record(s, self.now(), actor, "user.password", name)
        log.info("account.password_reset", user=name)

    @staticmethod
    def _user(s: Session, name: str) -> User:
        user = s.scalar(select(User).where(User.name == name))
        if user is None:
            raise AccountError(f"no account named '{name}'")
        return user

    def token_id(self, token: str) -> int | None:
        with self.reads() as s:
            return s.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest(token)))

    def set_active(self, name: str, active: bool, *, actor: str = "cli") -> bool:
        """Enable or disable an account; every credential of a disabled one stops working at once
        (each request, and each open stream, looks the account up again). True if it changed."""
        with transaction(self.sessions) as s:
            user = s.scalar(select(User).where(User.name == name))
            if user is None:
                raise AccountError(f"no account named '{name}'")
            changed = user.active != active
            if changed and not active and user.role == "admin":
                _keep_an_admin(s, user)
            user.active = active
            if not active:  # its sessions end for good: enabling the account again signs nobody back in
                s.execute(delete(WebSession).where(WebSession.user_id == user.id))
            if changed:
                record(s, self.now(), actor, "user.enable" if active else "user.disable", name)
        log.info("account.enabled" if active else "account.disabled", user=name, changed=changed)
        return changed

    def revoke_token(self, token_or_id: str | int, *, actor: str = "cli") -> bool:
        """Revoke an API token, given as itself (`jq_…`) or by its id; True if it was live until now."""
        with transaction(self.sessions) as s:
            row = self._token_row(s, token_or_id)
            if row is None:
                raise AccountError(f"no API token {_shown(token_or_id)}")
            changed = row.revoked_at is None
            if changed:
                row.revoked_at = self.now()
                owner = s.get_one(User, row.user_id).name
                record(s, self.now(), actor, "token.revoke", owner, {"token_id": row.id, "label": row.label})
            token_id = row.id
        log.info("account.token_revoked", token_id=token_id, changed=changed)
        return changed

    def _token_row(self, s: Session, token_or_id: str | int) -> ApiToken | None:
        text = str(token_or_id).strip()
        if text.startswith(TOKEN_PREFIX):
            return s.scalar(select(ApiToken).where(ApiToken.token_hash == digest(text)))
        if text.isascii() and text.isdigit() and int(text) < 2**31:
            return s.get(ApiToken, int(text))
        return None

    def tokens(self, name: str | None = None) -> list[dict]:
        """The API tokens (never their values): id, account, label, created, revoked."""
        query = select(ApiToken, User.name).join(User, User.id == ApiToken.user_id).order_by(ApiToken.id)
        if name is not None:
            query = query.where(User.name == name)
        with self.reads() as s:
            return [
                {"id": t.id, "user": user, "label": t.label, "created_at": t.created_at, "revoked_at": t.revoked_at}
                for t, user in s.execute(query)
            ]

    def users(self) -> list[dict]:
        with self.reads() as s:
            return [
                {
                    "name": u.name,
                    "display_name": u.display_name,
                    "role": u.role,
                    "active": u.active,
                    "created_at": u.created_at,
                }
                for u in s.scalars(select(User).order_by(User.name))
            ]

    # --- signing in ----------------------------------------------------------------------------

    def sign_in(self, name: str, password: str, address: str) -> tuple[str, NewSession]:
        """Check the password (within the rate limit) and open a session: (cookie token, the new session)."""
        now = self.now()
        keys = [f"name:{name[:180]}", f"addr:{address[:180]}"]
        with transaction(self.sessions) as s:
            self._check_limit(s, keys, now)
            user = s.scalar(select(User).where(User.name == name))
            verified = self._verify(user.password_hash if user else self._dummy, password)
            if user is None or not verified or not user.active:
                s.add_all(SignInFailure(key=k, at=now) for k in keys)
                failed = True
            else:
                failed = False
                s.execute(delete(SignInFailure).where(SignInFailure.key == keys[0]))
                s.execute(delete(WebSession).where(WebSession.expires_at < now))
                token = secrets.token_urlsafe(32)
                row = WebSession(
                    token_hash=digest(token),
                    user_id=user.id,
                    csrf_token=secrets.token_urlsafe(32),
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
                s.add(row)
                if self.hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = self.hasher.hash(password)
                opened = NewSession(
                    Principal(user.id, user.name, user.role, "session", row.csrf_token, user.display_name),
                    row.csrf_token,
                )
        if failed:
            log.warning("account.sign_in_failed", user=name, address=address)
            raise AccountError("wrong name or password")
        log.info("account.signed_in", user=name, address=address)
        return token, opened

    def _verify(self, hashed: str, password: str) -> bool:
        try:
            return self.hasher.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False

    def _check_limit(self, s: Session, keys: list[str], now: datetime) -> None:
        since = now - FAILURE_WINDOW
        for key, limit in zip(keys, (MAX_FAILURES_PER_NAME, MAX_FAILURES_PER_ADDRESS), strict=False):
            count, oldest = s.execute(
                select(func.count(), func.min(SignInFailure.at)).where(
                    SignInFailure.key == key, SignInFailure.at >= since
                )
            ).one()
            if count >= limit:
                retry = int((oldest + FAILURE_WINDOW - now).total_seconds()) + 1
                log.warning("account.sign_in_limited", key=key, failures=count)
                raise TooManyFailures(max(retry, 1))

    def sign_out(self, token: str) -> None:
        with transaction(self.sessions) as s:
            s.execute(delete(WebSession).where(WebSession.token_hash == digest(token)))

    # --- who is this? --------------------------------------------------------------------------

    def by_session(self, token: str) -> Principal | None:
        found = self._held(WebSession, token)
        if found is None:
            return None
        session, user = found
        if session.expires_at <= self.now() or not user.active:
            return None
        return Principal(user.id, user.name, user.role, "session", session.csrf_token, user.display_name)

    def by_token(self, token: str) -> Principal | None:
        found = self._held(ApiToken, token)
        if found is None:
            return None
        api_token, user = found
        if api_token.revoked_at is not None or not user.active:
            return None
        return Principal(user.id, user.name, user.role, "token", None, user.display_name)

    def _held(self, kind: type[_Credential], token: str) -> tuple[_Credential, User] | None:
        """The session or API token whose hash is this token's, with its account."""
        with self.reads() as s:
            return s.execute(
                select(kind, User).join(User, User.id == kind.user_id).where(kind.token_hash == digest(token))
            ).first()
