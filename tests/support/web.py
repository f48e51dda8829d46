"""Accounts for tests that talk to the web API: a user of each role and their bearer tokens."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy.orm import Session, sessionmaker

from web.accounts import ROLES, Accounts

PASSWORD = "correct horse battery staple"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


DISPLAY_NAMES = {"operator": "王芳"}  # the operator acts on the board as "值班员 王芳"


def make_users(sessions: sessionmaker[Session], roles=ROLES) -> dict[str, str]:
    """One account per role, named after it (password PASSWORD; the operator shown as 王芳); role → API token."""
    accounts = Accounts(sessions, utcnow)
    tokens = {}
    for role in roles:
        accounts.add_user(role, role, PASSWORD, DISPLAY_NAMES.get(role, ""))
        tokens[role] = accounts.create_token(role, "tests")
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Served:
    """An ASGI app on a real uvicorn server in a thread, on a free port (closed by `stop`)."""

    def __init__(self, app, port: int | None = None) -> None:
        import threading

        import uvicorn

        from simulators.services import free_port

        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> Served:
        from simulators.services import wait_for_port

        self.thread.start()
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def web_system(engine, registry_path, settings=None, now=None):
    """The registry imported, a dispatcher (not started), and the app with every router: (app, dispatcher).
    `now`: the clock of both (default: the wall clock)."""
    from core.db import session_factory
    from core.settings import load_settings
    from dispatcher.service import build_dispatcher
    from jinqiao.runtime import dispatcher_app
    from registry.store import import_registry
    from web.app import Readiness

    import_registry(session_factory(engine), registry_path)
    dispatcher = build_dispatcher(
        settings or load_settings(database_url=engine.url.render_as_string(hide_password=False)),
        engine,
        **({"now": now} if now is not None else {}),
    )
    app = dispatcher_app(Readiness(engine), dispatcher, engine)
    return app, dispatcher


def open_alert(dispatcher, resident_id: str = "r-zhang", kind: str = "emergency") -> int:
    from core.db import transaction

    with transaction(dispatcher.alerts.sessions) as s:
        return dispatcher.alerts.open_alert(s, resident_id=resident_id, kind=kind, reason="alarm", now=utcnow()).id


def refused_to(sessions, alert_id: int, name: str, then: str | None = "twilio") -> int:
    """A `channel_refused` entry, as the outbox records Aliyun's refusal over its limit, for the
    alert's first page to `name` (queued when the alert opened); returns that page's id."""
    from datetime import datetime, timezone

    from sqlalchemy import select

    from core.db import transaction
    from core.schema import Notification, TimelineEntry

    with transaction(sessions) as s:
        n = s.scalars(
            select(Notification.id)
            .where(Notification.alert_id == alert_id, Notification.recipient_name == name)
            .order_by(Notification.id)
            .limit(1)
        ).one()
        reason = "aliyun refused: isv.BUSINESS_LIMIT_CONTROL: 触发天级流控Permits:50"
        detail = {"notification_id": n, "by": "aliyun", "then": then, "reason": reason}
        now = datetime.now(timezone.utc)
        s.add(
            TimelineEntry(alert_id=alert_id, at=now, what="channel_refused", actor=name, channel="sms", detail=detail)
        )
        return n


def late_fetch(matches: str, delay_ms: int = 1500) -> str:
    """A page init script: the page's fetch of a URL for which the JavaScript expression `matches`
    (over `url`, a string, at the time of the fetch) is answered by the server at once, and the
    answer reaches the page `delay_ms` later, as over a slow link. Once the page has
    read such an answer (what it does with it runs at once after), window.lateAnswersRead counts it."""
    return f"""
window.lateAnswersRead = 0;
const fetchNow = window.fetch;
window.fetch = async (address, ...rest) => {{
  const url = String(address);
  if (!({matches})) return fetchNow(address, ...rest);
  const answer = await fetchNow(address, ...rest);  // the server answers now; the answer arrives late
  await new Promise((r) => setTimeout(r, {delay_ms}));
  const json = answer.json.bind(answer);
  answer.json = () => json().then((body) => {{ setTimeout(() => {{ window.lateAnswersRead += 1; }}, 0); return body; }});
  return answer;
}};
"""
