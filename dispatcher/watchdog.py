"""The watchdog for the watcher: a process apart from the dispatchers that pages people directly
when the escalation machinery itself fails (docs/deployment.md, "The watchdog").

Shell around dispatcher/watchdog_rules.py: each round reads a snapshot (watchdog_snapshot.py),
decides, pages through its own notifier (watchdog_pager.py), never through the dispatchers'
outbox since the dispatchers may be what is dead, and records its findings in watchdog_findings:
one open row per cause, so a restarted watchdog does not page again. Who is paged: whoever is on
the hotline duty now, and the operators' phones configured for the watchdog (accounts carry no
phone number).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import Engine as DbEngine
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, reading, transaction
from core.heartbeat import Heartbeat, instance_name
from core.schema import WatchdogFinding
from dispatcher.watchdog_pager import PageError, Pager, pager_of
from dispatcher.watchdog_rules import Thresholds, decide, recovery_text, unreachable_text
from dispatcher.watchdog_snapshot import Recipient, hotline_on_duty, read_snapshot
from registry.calendar_days import StoredCalendar

log = structlog.get_logger("jinqiao.watchdog")

ROUNDS = Counter("jinqiao_watchdog_rounds_total", "Rounds the watchdog looked at the database")
ROUND_ERRORS = Counter("jinqiao_watchdog_round_errors_total", "Rounds that failed (the database unreachable, …)")
OPEN = Gauge("jinqiao_watchdog_open_findings", "Faults open now")
PAGES = Counter("jinqiao_watchdog_pages_total", "Pages and recovery messages, by outcome", ["purpose", "outcome"])

# --- the rounds ------------------------------------------------------------------------------------


@dataclass
class Known:
    """An open finding as this watchdog knows it; `row_id` None while the database has not taken it."""

    cause: str
    kind: str
    label: str
    summary: str
    since: datetime
    opened_at: datetime
    facts: dict
    row_id: int | None = None
    paged_at: datetime | None = None
    paged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    dirty: bool = False  # paged, not yet written


@dataclass
class Closing:
    """A resolved finding whose resolution the database has not taken yet."""

    row_id: int | None
    cause: str
    resolved_at: datetime
    recovered: list[str]


class Watchdog:
    """One round: read, decide, page, record. What it paged is remembered here first and written
    to the database after, so a database that cannot be written to (a frozen process holding
    SQLite's write lock) neither stops a page nor makes one go out twice; writes left over are
    tried again every round."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        pager: Pager,
        now: Callable[[], datetime],
        thresholds: Thresholds,
        phones: tuple[str, ...] = (),
        heartbeat: Heartbeat | None = None,
        calendar: StoredCalendar | None = None,
    ) -> None:
        self.sessions = sessions
        self.pager = pager
        self.now = now
        self.thresholds = thresholds
        self.phones = phones
        self.heartbeat = heartbeat
        self.calendar = calendar if calendar is not None else StoredCalendar()
        self.rounds = 0
        self.known: dict[str, Known] = {}
        self.closing: dict[str, Closing] = {}
        # the database itself unreachable: nothing can be recorded, so this one lives in memory only
        self.last_recipients: list[Recipient] = []
        self.unreachable_since: datetime | None = None
        self.unreachable_paged: list[str] | None = None

    def run_once(self) -> None:
        now = self.now()
        try:
            with reading(self.sessions) as s:
                snapshot = read_snapshot(s, now)
                rows = list(
                    s.scalars(
                        select(WatchdogFinding)
                        .where((WatchdogFinding.resolved_at.is_(None)) | (WatchdogFinding.recovery_paged_at.is_(None)))
                        .order_by(WatchdogFinding.id)
                    )
                )
                recipients = self._recipients(s, now)
        except Exception as exc:
            self._unreachable(now, exc)
            raise
        self._reachable(now, recipients)
        self._adopt(rows)
        decision = decide(snapshot, list(self.known), now, self.thresholds)
        for f in decision.opened:
            self.known[f.cause] = Known(f.cause, f.kind, f.label, f.summary, f.since, now, f.detail)
            log.error(
                "watchdog.finding_opened", cause=f.cause, kind=f.kind, since=f.since.isoformat(), summary=f.summary
            )
        for cause in decision.resolved:
            self._resolve(self.known.pop(cause), now)
        self._write()  # new findings reach the database before their page when it can take them
        for known in list(self.known.values()):
            if known.paged_at is None:
                self._page(known, recipients, now)
        self._write()
        self.rounds += 1
        ROUNDS.inc()
        OPEN.set(len(self.known))
        if self.heartbeat is not None:
            try:
                self.heartbeat.beat()
            except Exception as exc:
                log.warning("watchdog.heartbeat_failed", error=str(exc).splitlines()[0][:200])

    def _unreachable(self, now: datetime, exc: Exception) -> None:
        """No database: page whoever the last good round found, and the operators, once."""
        self.unreachable_since = self.unreachable_since or now
        if self.unreachable_paged is not None or now - self.unreachable_since <= self.thresholds.process_silence:
            return
        numbers = list(dict.fromkeys([r.phone for r in self.last_recipients] + list(self.phones)))
        text = unreachable_text(self.unreachable_since, now, str(exc).splitlines()[0][:80])
        sent, _ = self._send_all(numbers, text, "page", "database_unreachable")
        if sent:
            self.unreachable_paged = sent

    def _reachable(self, now: datetime, recipients: list[Recipient]) -> None:
        self.last_recipients = recipients
        if self.unreachable_since is None:
            return
        if self.unreachable_paged:
            self._send_all(
                self.unreachable_paged,
                recovery_text("数据库无法访问", self.unreachable_since, now),
                "recovery",
                "database_unreachable",
            )
        log.info("watchdog.database_back", down_s=round((now - self.unreachable_since).total_seconds(), 1))
        self.unreachable_since = self.unreachable_paged = None

    def _adopt(self, rows: list[WatchdogFinding]) -> None:
        """Findings in the database this process does not hold yet (a previous life's, or written by
        a round whose record failed): open ones are known, paged or not; resolved ones still owe
        their recovery message."""
        for row in rows:
            if row.cause in self.closing or any(k.row_id == row.id for k in self.known.values()):
                continue
            detail = row.detail or {}
            if row.resolved_at is None:
                if row.cause not in self.known:
                    self.known[row.cause] = Known(
                        row.cause,
                        row.kind,
                        row.label,
                        row.summary,
                        row.since,
                        row.opened_at,
                        detail.get("facts", {}),
                        row.id,
                        row.paged_at,
                        list(detail.get("paged", [])),
                        dict(detail.get("failed", {})),
                    )
            elif row.paged_at is None:
                self.closing[row.cause] = Closing(row.id, row.cause, row.resolved_at, [])
            else:
                numbers = list(detail.get("paged", []))
                sent, _ = self._send_all(
                    numbers, recovery_text(row.label, row.since, row.resolved_at), "recovery", row.cause
                )
                self.closing[row.cause] = Closing(row.id, row.cause, row.resolved_at, sent)

    def _recipients(self, s: Session, now: datetime) -> list[Recipient]:
        people = hotline_on_duty(s, self.calendar, now)
        seen = {p.phone for p in people}
        return people + [Recipient("operator", n) for n in self.phones if n not in seen]

    def _send_all(self, numbers: list[str], text: str, purpose: str, cause: str) -> tuple[list[str], dict[str, str]]:
        sent, failed = [], {}
        for number in numbers:
            try:
                sid = self.pager.send(number, text)
            except PageError as exc:
                failed[number] = str(exc)[:200]
                PAGES.labels(purpose, "failed").inc()
                log.error("watchdog.page_failed", cause=cause, purpose=purpose, to=number, error=str(exc)[:200])
                continue
            sent.append(number)
            PAGES.labels(purpose, "sent").inc()
            log.info("watchdog.paged", cause=cause, purpose=purpose, to=number, sid=sid)
        return sent, failed

    def _page(self, known: Known, recipients: list[Recipient], now: datetime) -> None:
        if not recipients:
            log.error(
                "watchdog.nobody_to_page",
                cause=known.cause,
                hint="nobody on the hotline duty now and JINQIAO_WATCHDOG_PHONES is empty",
            )
            return  # tried again next round: someone may come on duty
        sent, known.failed = self._send_all([r.phone for r in recipients], known.summary, "page", known.cause)
        if sent:  # nobody reached: it stays unpaged, and the next round tries again
            known.paged, known.paged_at, known.dirty = sent, now, True

    def _resolve(self, known: Known, now: datetime) -> None:
        lasted = round((now - known.since).total_seconds(), 1)
        log.info("watchdog.finding_resolved", cause=known.cause, lasted_s=lasted)
        sent: list[str] = []
        if known.paged_at is not None:  # a finding that reached nobody needs no recovery message
            # a failed recovery message is not retried: the fault is over, and the log has it
            sent, _ = self._send_all(known.paged, recovery_text(known.label, known.since, now), "recovery", known.cause)
        if known.row_id is None and known.paged_at is not None:
            self._insert(known)  # record what was paged, then close it
        self.closing[known.cause] = Closing(known.row_id, known.cause, now, sent)

    # --- writing what happened -----------------------------------------------------------------

    def _write(self) -> None:
        for known in list(self.known.values()):
            if known.row_id is None:
                self._insert(known)
            elif known.dirty:
                self._try(partial(self._mark_paged, known=known), known.cause)
        for closing in list(self.closing.values()):
            if closing.row_id is None or self._try(
                partial(self._close, closing=closing), closing.cause
            ):  # never recorded and never paged: nothing to close
                self.closing.pop(closing.cause)

    def _insert(self, known: Known) -> None:
        def insert(s: Session) -> None:
            row = WatchdogFinding(
                cause=known.cause,
                kind=known.kind,
                label=known.label,
                summary=known.summary,
                since=known.since,
                opened_at=known.opened_at,
                paged_at=known.paged_at,
                detail={"facts": known.facts, "paged": known.paged, "failed": known.failed},
            )
            s.add(row)
            s.flush()
            known.row_id, known.dirty = row.id, False

        try:
            with transaction(self.sessions) as s:
                insert(s)
        except IntegrityError:  # another watchdog holds this cause open: it pages, not this one
            if known.paged_at is None:
                self.known.pop(known.cause, None)
        except Exception as exc:
            known.row_id = None
            log.warning("watchdog.record_failed", cause=known.cause, error=str(exc).splitlines()[0][:200])

    @staticmethod
    def _mark_paged(s: Session, known: Known) -> None:
        row = s.get(WatchdogFinding, known.row_id)
        if row is not None:
            row.paged_at = known.paged_at
            row.detail = {**(row.detail or {}), "paged": known.paged, "failed": known.failed}
        known.dirty = False

    @staticmethod
    def _close(s: Session, closing: Closing) -> None:
        row = s.get(WatchdogFinding, closing.row_id)
        if row is not None:
            row.resolved_at = row.resolved_at or closing.resolved_at
            row.recovery_paged_at = closing.resolved_at
            row.detail = {**(row.detail or {}), "recovered": closing.recovered}

    def _try(self, write: Callable[[Session], None], cause: str) -> bool:
        try:
            with transaction(self.sessions) as s:
                write(s)
            return True
        except Exception as exc:
            log.warning("watchdog.record_failed", cause=cause, error=str(exc).splitlines()[0][:200])
            return False


class WatchdogLoop:
    """The watchdog's thread: a round every `interval` seconds until stopped."""

    def __init__(self, watchdog: Watchdog, interval: float) -> None:
        self.watchdog = watchdog
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)
        self.errors = 0

    def _run(self) -> None:
        while True:
            try:
                self.watchdog.run_once()
                self.errors = 0
            except Exception as exc:  # the database away: say so, and look again next round
                self.errors += 1
                ROUND_ERRORS.inc()
                log.error("watchdog.round_failed", error=str(exc).splitlines()[0][:200], errors=self.errors)
            if self._stop.wait(self.interval):
                return

    def start(self) -> None:
        self._thread.start()

    def check(self) -> None:
        if not self._thread.is_alive():
            raise RuntimeError("the watchdog thread stopped")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(15)
        if self.watchdog.heartbeat is not None:
            self.watchdog.heartbeat.stopped()


SQLITE_WAIT_MS = 1000


def watchdog_engine(url: str) -> DbEngine:
    """The database as the watchdog needs it: on SQLite, writes wait a second for the lock, not
    thirty. A frozen process (SIGSTOP) holding the write lock must not hold up the page about it;
    what could not be written is written in a later round (Watchdog)."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _short_wait(dbapi_conn, _record) -> None:
            dbapi_conn.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_MS}")

    return engine


def thresholds_of(settings) -> Thresholds:
    return Thresholds(
        process_silence=timedelta(seconds=settings.watchdog_process_silence),
        step_overdue=timedelta(seconds=settings.watchdog_step_overdue),
        outbox_stuck=timedelta(seconds=settings.watchdog_outbox_stuck),
        events_slack=timedelta(seconds=settings.watchdog_events_slack),
    )


def build_watchdog(settings, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> WatchdogLoop:
    pager = pager_of(settings)
    watchdog = Watchdog(sessions, pager, now, thresholds_of(settings), settings.watchdog_phone_list)
    watchdog.heartbeat = Heartbeat(
        sessions,
        "watchdog",
        instance_name(settings.instance_name, settings.watchdog_http_port),
        now,
        every=0,
        detail=lambda: {"rounds": watchdog.rounds},
    )
    if pager.name == "console":
        log.warning("watchdog.console_pager", hint="no JINQIAO_WATCHDOG_TWILIO_*: pages go to this log only")
    log.info(
        "watchdog.started",
        pager=pager.name,
        phones=len(settings.watchdog_phone_list),
        interval_s=settings.watchdog_interval,
        process_silence_s=settings.watchdog_process_silence,
        step_overdue_s=settings.watchdog_step_overdue,
        outbox_stuck_s=settings.watchdog_outbox_stuck,
        events_slack_s=settings.watchdog_events_slack,
    )
    return WatchdogLoop(watchdog, settings.watchdog_interval)
