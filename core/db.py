"""Engine, sessions and migrations. No module-level engine: callers make one from Settings."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).with_name("migrations")
READ_ONLY = "jinqiao_read_only"  # execution option: a transaction that only reads


class FairLock:
    """A reentrant lock handed to waiters in arrival order.

    SQLite has one writer. Its busy handler polls with growing sleeps, so a thread that commits and
    begins again at once (the escalator in a busy minute) would win every time against one that
    waits (the sender). Queuing writers of one process here hands the write lock over in turn.
    """

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._waiters: deque[threading.Event] = deque()
        self._owner: int | None = None
        self._depth = 0

    def __enter__(self) -> FairLock:
        me = threading.get_ident()
        with self._mutex:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None and not self._waiters:
                self._owner, self._depth = me, 1
                return self
            turn = threading.Event()
            self._waiters.append(turn)
        turn.wait()
        with self._mutex:
            self._owner, self._depth = me, 1
        return self

    def __exit__(self, *exc) -> None:
        with self._mutex:
            self._depth -= 1
            if self._depth:
                return
            self._owner = None
            if self._waiters:
                self._owner = -1  # reserved for the next in line until it wakes
                self._waiters.popleft().set()


def make_engine(url: str, **kwargs) -> Engine:
    """An engine tuned for our two databases.

    SQLite: WAL so readers never block the writer, synchronous=FULL because a stored event must
    survive a power cut (batched commits keep that affordable), and a busy timeout so that several
    processes on one file wait instead of failing.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:
            # pysqlite's own transaction handling would defer BEGIN; we want BEGIN at once.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn) -> None:
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")  # deferred: a WAL reader neither waits for nor blocks the writer
            else:
                # IMMEDIATE takes the write lock up front: no deadlock when two processes upgrade a read.
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        engine.info_write_lock = FairLock()  # type: ignore[attr-defined]
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
    return create_engine(url, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def write_lock(engine: Engine | None) -> AbstractContextManager:
    """The in-process queue of SQLite writers (nothing on PostgreSQL, whose row locks suffice)."""
    return getattr(engine, "info_write_lock", None) or nullcontext()


def _engine_of(sessions: sessionmaker[Session]) -> Engine | None:
    return sessions.kw.get("bind")


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with write_lock(_engine_of(sessions)), sessions() as session, session.begin():
        yield session


def read_only(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """A sessionmaker whose sessions only read (the board, the API's GETs, the stream's poll):
    on SQLite their transactions begin deferred, so they neither wait for nor hold up a writer."""
    engine = _engine_of(sessions)
    return sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False)  # type: ignore[union-attr]  # our sessionmakers are always bound


def reading(sessions: sessionmaker[Session]) -> Session:
    """One session that only reads (see read_only): `with reading(sessions) as s: …`."""
    return read_only(sessions)()


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the database to the newest schema; safe to run any number of times."""
    command.upgrade(alembic_config(url), revision)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
