"""SQLite's one writer: readers never wait for it, and writers of one process take turns in order."""

from __future__ import annotations

import threading
import time

from sqlalchemy import func, select, text

from core.db import FairLock, make_engine, read_only, reading, session_factory, transaction, upgrade
from core.schema import PolicySetting


def test_the_fair_lock_hands_over_in_arrival_order_and_is_reentrant():
    lock = FairLock()
    order: list[int] = []
    lock.__enter__()
    with lock:  # the holder may take it again without deadlock
        pass
    threads = []
    for i in range(5):
        t = threading.Thread(target=lambda i=i: (lock.__enter__(), order.append(i), lock.__exit__()))
        t.start()
        threads.append(t)
        deadline = time.monotonic() + 5
        while len(lock._waiters) < i + 1 and time.monotonic() < deadline:  # each is queued before the next comes
            time.sleep(0.001)
    lock.__exit__()
    for t in threads:
        t.join(5)
    assert order == [0, 1, 2, 3, 4]


def test_a_released_lock_is_not_taken_over_by_a_newcomer_before_the_one_who_waited():
    lock = FairLock()
    got: list[str] = []
    lock.__enter__()
    waiter = threading.Thread(target=lambda: (lock.__enter__(), got.append("waiter"), lock.__exit__()))
    waiter.start()
    while not lock._waiters:
        time.sleep(0.001)
    lock.__exit__()
    with lock:  # the releasing thread comes straight back, as the escalator does between passes
        got.append("newcomer")
    waiter.join(5)
    assert got == ["waiter", "newcomer"]


def test_on_sqlite_a_reader_does_not_wait_for_a_writer_in_progress(tmp_path):
    url = f"sqlite:///{tmp_path}/w.db"
    upgrade(url)
    engine = make_engine(url)
    sessions = session_factory(engine)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with transaction(sessions) as s:
            s.add(PolicySetting(key="k", value="1"))
            s.flush()
            holding.set()
            release.wait(10)

    t = threading.Thread(target=writer)
    t.start()
    assert holding.wait(10)
    counted: list[int] = []
    reader = threading.Thread(target=lambda: counted.append(_count(sessions)))
    reader.start()
    reader.join(5)
    still_writing = not release.is_set()
    release.set()
    t.join(10)
    assert counted == [0] and still_writing  # read while the write lock was held; the uncommitted row unseen
    assert _count(sessions) == 1
    engine.dispose()


def test_reading_sessions_begin_deferred_and_transactions_immediate_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/b.db"
    upgrade(url)
    engine = make_engine(url)
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt.split()[0:2]))
    sessions = session_factory(engine)
    with reading(sessions) as s:
        s.execute(text("SELECT 1"))
    with transaction(sessions) as s:
        s.execute(text("SELECT 1"))
    assert seen[0] == ["BEGIN"] and seen[2] == ["BEGIN", "IMMEDIATE"]
    engine.dispose()


def _count(sessions) -> int:
    with reading(sessions) as s:
        return s.scalar(select(func.count()).select_from(PolicySetting))


def test_read_only_sessions_begin_deferred_and_share_the_engine(tmp_path):
    url = f"sqlite:///{tmp_path}/r.db"
    upgrade(url)
    engine = make_engine(url)
    seen: list[str] = []
    from sqlalchemy import event

    event.listen(engine, "before_cursor_execute", lambda conn, cur, stmt, *a: seen.append(stmt))
    reads = read_only(session_factory(engine))
    with reads() as s:
        s.execute(text("SELECT 2"))
    assert seen[:2] == ["BEGIN", "SELECT 2"]
    engine.dispose()
