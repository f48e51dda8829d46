"""The watchdog's shell (dispatcher/watchdog.py) against a real database, a fake clock and a
recording pager: who is paged, once per cause, the recovery message, and a restart that pages nothing."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from core.db import reading
from core.heartbeat import Heartbeat
from core.schema import Alert, Notification, WatchdogFinding
from dispatcher.watchdog import Watchdog
from dispatcher.watchdog_rules import Thresholds
from registry.store import import_registry
from tests.support.dispatch import PHONES, FakeClock
from tests.support.watchdog import RecordingPager

UTC = timezone.utc
# Monday 2 March 2026, a workday: 14:00 in Shanghai (duty-chen's day shift), and 23:00 (duty-he's night)
DAY = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
NIGHT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
OPERATOR = "+8613900000099"
TH = Thresholds(
    process_silence=timedelta(seconds=30),
    step_overdue=timedelta(seconds=60),
    outbox_stuck=timedelta(seconds=120),
    events_slack=timedelta(seconds=120),
)


@pytest.fixture
def site(sessions, example_registry):
    import_registry(sessions, example_registry)
    return sessions


def watchdog(sessions, clock, pager, phones=(OPERATOR,)) -> Watchdog:
    return Watchdog(sessions, pager, clock, TH, phones)


def findings(sessions) -> list[WatchdogFinding]:
    with reading(sessions) as s:
        return list(s.scalars(select(WatchdogFinding).order_by(WatchdogFinding.id)))


@pytest.mark.parametrize("start, on_duty", [(DAY, "duty-chen"), (NIGHT, "duty-he")])
def test_a_silent_dispatcher_pages_the_hotline_on_duty_and_the_operators_once_then_says_it_is_back(
    site, start, on_duty
):
    clock, pager = FakeClock(start), RecordingPager()
    beat = Heartbeat(site, "dispatcher", "host-a:8000", clock, every=0)
    beat.beat()
    dog = watchdog(site, clock, pager)
    dog.run_once()
    assert pager.sent == []

    clock.advance(seconds=31)  # no beat for longer than the threshold
    dog.run_once()
    assert sorted(to for to, _ in pager.sent) == sorted([PHONES[on_duty], OPERATOR])
    assert "调度进程 host-a:8000" in pager.sent[0][1] and "31秒无心跳" in pager.sent[0][1]
    for _ in range(5):  # looking again and again pages nobody again
        clock.advance(seconds=10)
        dog.run_once()
    assert len(pager.sent) == 2

    beat.beat()  # SIGCONT: it beats again
    clock.advance(seconds=1)
    dog.run_once()
    recoveries = pager.sent[2:]
    assert sorted(to for to, _ in recoveries) == sorted([PHONES[on_duty], OPERATOR])
    assert recoveries[0][1] == "【金桥监护】已恢复：调度进程 host-a:8000 无心跳，故障持续约1分22秒。"
    clock.advance(seconds=10)
    dog.run_once()
    assert len(pager.sent) == 4
    (row,) = findings(site)
    assert row.cause == "dispatcher_silent:host-a:8000" and row.resolved_at and row.recovery_paged_at


def test_a_restarted_watchdog_does_not_page_again_for_an_open_cause(site):
    clock = FakeClock(DAY)
    Heartbeat(site, "dispatcher", "host-a:8000", clock).beat()
    clock.advance(minutes=5)
    first = RecordingPager()
    watchdog(site, clock, first).run_once()
    assert len(first.sent) == 2

    clock.advance(minutes=1)
    second = RecordingPager()
    watchdog(site, clock, second).run_once()  # a new process: its state is the database's
    assert second.sent == []


def test_overdue_steps_and_a_stuck_outbox_are_one_page_each_however_many_rows(site):
    clock, pager = FakeClock(DAY), RecordingPager()
    with site.begin() as s:
        for i, late in enumerate((61, 300, 30)):
            s.add(
                Alert(
                    code=f"48{i:02d}",
                    resident_id="r-zhang",
                    kind="emergency",
                    reason="alarm",
                    state="triggered",
                    opened_at=DAY - timedelta(minutes=10),
                    updated_at=DAY,
                    tier_index=0,
                    next_action_at=DAY - timedelta(seconds=late),
                )
            )
        for i in range(3):
            s.add(
                Notification(
                    dedupe_key=f"k{i}",
                    to_number=PHONES["pm-li"],
                    channel="sms",
                    purpose="page",
                    status="queued",
                    next_attempt_at=DAY - timedelta(seconds=200),
                    created_at=DAY,
                )
            )
        s.add(
            Notification(
                dedupe_key="later",
                to_number=PHONES["pm-li"],
                channel="sms",
                purpose="page",
                status="queued",
                next_attempt_at=DAY + timedelta(hours=1),
                created_at=DAY,
            )
        )  # not due yet
    watchdog(site, clock, pager, phones=()).run_once()
    texts = pager.to(PHONES["duty-chen"])
    assert len(pager.sent) == 2 and len(texts) == 2
    assert "2个报警的升级步骤逾期" in texts[0] and "编号4801，逾期5分" in texts[0]
    assert "3条短信/电话通知滞留未发出" in texts[1]
    assert [f.cause for f in findings(site)] == ["steps_overdue", "outbox_stuck"]


def test_a_page_nobody_received_is_tried_again_and_one_that_reached_someone_is_not(site):
    clock = FakeClock(DAY)
    Heartbeat(site, "dispatcher", "host-a:8000", clock).beat()
    clock.advance(minutes=1)
    down = RecordingPager(failing={PHONES["duty-chen"], OPERATOR})
    dog = watchdog(site, clock, down)
    dog.run_once()
    assert down.sent == [] and findings(site)[0].paged_at is None

    down.failing = {OPERATOR}  # the provider is back for one of the two
    clock.advance(seconds=10)
    dog.run_once()
    clock.advance(seconds=10)
    dog.run_once()
    assert down.sent and [to for to, _ in down.sent] == [PHONES["duty-chen"]]
    assert findings(site)[0].detail["paged"] == [PHONES["duty-chen"]]


def test_a_cause_gone_before_anyone_was_told_gets_no_recovery_message(site):
    clock = FakeClock(DAY)
    beat = Heartbeat(site, "dispatcher", "host-a:8000", clock, every=0)
    beat.beat()
    clock.advance(minutes=1)
    pager = RecordingPager(failing={PHONES["duty-chen"], OPERATOR})
    dog = watchdog(site, clock, pager)
    dog.run_once()
    beat.beat()
    pager.failing = set()
    dog.run_once()
    assert pager.sent == []
    (row,) = findings(site)
    assert row.resolved_at and row.recovery_paged_at and row.paged_at is None


def test_a_clean_stop_pages_nothing_while_another_dispatcher_runs_but_the_last_one_stopping_does(site):
    clock, pager = FakeClock(DAY), RecordingPager()
    a = Heartbeat(site, "dispatcher", "a", clock, every=0)
    b = Heartbeat(site, "dispatcher", "b", clock, every=0)
    a.beat(), b.beat()
    a.stopped()
    clock.advance(minutes=5)
    b.beat()
    dog = watchdog(site, clock, pager, phones=())
    dog.run_once()
    assert pager.sent == []
    b.stopped()
    clock.advance(seconds=1)
    dog.run_once()
    assert len(pager.sent) == 1 and "没有任何调度进程在运行" in pager.sent[0][1]


def test_the_fleet_going_quiet_pages_once_the_longest_heartbeat_interval_has_passed(site):
    from core.schema import Event

    clock, pager = FakeClock(DAY), RecordingPager()
    with site.begin() as s:
        s.add(Event(device_id="pgr-0001", event_id="hb-1", type="heartbeat", received_at=DAY, payload="{}"))
    dog = watchdog(site, clock, pager, phones=())
    clock.advance(hours=2, seconds=120)  # the example's longest interval is 2 h (z2m-sos-liu), slack 120 s
    dog.run_once()
    assert pager.sent == []
    clock.advance(seconds=1)
    dog.run_once()
    assert len(pager.sent) == 1 and "没有收到任何设备的消息" in pager.sent[0][1]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_database_nobody_can_write_to_still_gets_its_page_once_and_the_record_follows(db_url, example_registry):
    """A frozen process holding SQLite's write lock: the watchdog pages anyway, and writes later."""
    import sqlite3

    from core.db import session_factory
    from dispatcher.watchdog import watchdog_engine

    engine = watchdog_engine(db_url)
    try:
        sessions = session_factory(engine)
        import_registry(sessions, example_registry)
        clock, pager = FakeClock(DAY), RecordingPager()
        Heartbeat(sessions, "dispatcher", "host-a:8000", clock).beat()
        clock.advance(minutes=1)
        frozen = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None)
        frozen.execute("BEGIN IMMEDIATE")  # what a SIGSTOPped dispatcher mid-transaction leaves behind
        dog = watchdog(sessions, clock, pager)
        dog.run_once()
        dog.run_once()
        assert len(pager.sent) == 2 and findings(sessions) == []

        frozen.rollback()  # SIGCONT, or SIGKILL: the lock is free again
        frozen.close()
        dog.run_once()
        assert len(pager.sent) == 2
        (row,) = findings(sessions)
        assert row.paged_at == DAY + timedelta(minutes=1) and sorted(row.detail["paged"]) == sorted(
            [PHONES["duty-chen"], OPERATOR]
        )
        watchdog(sessions, clock, RecordingPager()).run_once()  # and a restarted watchdog knows it was paged
        assert len(pager.sent) == 2
    finally:
        engine.dispose()


def test_a_database_gone_away_pages_the_last_known_recipients_once_and_says_when_it_is_back(site, tmp_path):
    from core.db import make_engine, session_factory

    clock, pager = FakeClock(DAY), RecordingPager()
    dog = watchdog(site, clock, pager)
    dog.run_once()  # a good round: it knows who is on duty
    gone = make_engine(f"sqlite:///{tmp_path}/no-such-dir/jinqiao.db")
    dog.sessions = session_factory(gone)
    for _ in range(4):  # 0, 10, 20, 30 s: within the threshold
        with pytest.raises(Exception):  # noqa: B017  (whatever a vanished database raises)
            dog.run_once()
        assert pager.sent == []
        clock.advance(seconds=10)
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017  (whatever a vanished database raises)
            dog.run_once()
        clock.advance(seconds=10)
    assert sorted(to for to, _ in pager.sent) == sorted([PHONES["duty-chen"], OPERATOR])
    assert "数据库已40秒无法访问" in pager.sent[0][1]

    dog.sessions = site
    dog.run_once()
    assert [text for _, text in pager.sent[2:]] == ["【金桥监护】已恢复：数据库无法访问，故障持续约1分10秒。"] * 2
    gone.dispose()
