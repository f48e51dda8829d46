"""What the routes are given, as annotated types: `def route(s: ReadSession, alerts: AlertsShell, now: Clock)`.

create_app puts one `Web` on `app.state.web`; each dependency below reads its part from there, so a
route names what it uses in its signature and nothing rides on the router. Who is asking (`Viewer`,
`Operator`, `Admin`) is in web/auth.py, over the same `Web`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker

from core.db import read_only
from dispatcher.alerts import Alerts
from dispatcher.supervision import Rules
from web.accounts import Accounts
from web.stream import Hub


@dataclass(frozen=True)
class Web:
    """Everything the web routes use, built once per process."""

    sessions: sessionmaker[Session]  # writes: each operation opens its own transaction
    reads: sessionmaker[Session]  # who is asking, the board, the stream, the GETs: never SQLite's write lock
    alerts: Alerts  # ack and resolve go through the same shell as the dispatcher's
    now: Callable[[], datetime]
    accounts: Accounts
    hub: Hub  # the live stream's one poller per process
    supervision: Rules  # a device's health on the board and in both device APIs
    secure_cookies: bool  # Secure flag on the cookies: when the public URL is https

    @classmethod
    def of(
        cls,
        sessions: sessionmaker[Session],
        alerts: Alerts,
        *,
        now: Callable[[], datetime],
        secure_cookies: bool,
        supervision: Rules = Rules(),
        accounts: Accounts | None = None,
    ) -> Web:
        reads = read_only(sessions)
        return cls(
            sessions,
            reads,
            alerts,
            now,
            accounts or Accounts(sessions, now, reads=reads),
            Hub(reads),
            supervision,
            secure_cookies,
        )


def web(request: Request) -> Web:
    return request.app.state.web


WebState = Annotated[Web, Depends(web)]


def sessions(w: WebState) -> sessionmaker[Session]:
    return w.sessions


def reads(w: WebState) -> sessionmaker[Session]:
    return w.reads


def read_session(w: WebState) -> Iterator[Session]:
    """One session that only reads, for the whole request."""
    with w.reads() as s:
        yield s


def alerts(w: WebState) -> Alerts:
    return w.alerts


def clock(w: WebState) -> Callable[[], datetime]:
    return w.now


def accounts(w: WebState) -> Accounts:
    return w.accounts


def hub(w: WebState) -> Hub:
    return w.hub


def supervision(w: WebState) -> Rules:
    return w.supervision


Sessions = Annotated[sessionmaker[Session], Depends(sessions)]  # for a write: `with transaction(sessions) as s`
Reads = Annotated[sessionmaker[Session], Depends(reads)]  # for a route that reads in more than one session
ReadSession = Annotated[Session, Depends(read_session)]
AlertsShell = Annotated[Alerts, Depends(alerts)]
Clock = Annotated[Callable[[], datetime], Depends(clock)]
AccountsDep = Annotated[Accounts, Depends(accounts)]
StreamHub = Annotated[Hub, Depends(hub)]
SupervisionRules = Annotated[Rules, Depends(supervision)]
