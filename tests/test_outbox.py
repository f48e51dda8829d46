"""The outbox sender with concurrent workers: a slow provider answer holds up only its own message."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.schema import Alert, Notification, TimelineEntry
from dispatcher.passes.outbox import Outbox
from dispatcher.sending import RateLimiter, SendError
from tests.support.dispatch import T0, World
from tests.support.waiting import eventually

SLOW = "+8613900000001"  # 李建国's number: his SMS and call hang until the test lets them go


@dataclass
class GatedNotifier:
    """Sends at once, except to the numbers in `slow` ("*": all), which wait for `gate`; fails numbers in `fail`."""

    slow: tuple[str, ...] = (SLOW,)
    sender_id: str = "+15550000000"
    delivers_at_once: bool = False
    gate: threading.Event = field(default_factory=threading.Event)
    sent: list[tuple[str, str]] = field(default_factory=list)
    fail: dict[str, bool] = field(default_factory=dict)  # number -> temporary
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, note: Notification) -> str:
        if note.to_number in self.slow or "*" in self.slow:
            self.gate.wait(10)
        if note.to_number in self.fail:
            raise SendError("refused", self.fail[note.to_number])
        with self.lock:
            self.sent.append((note.to_number, note.channel))
        return f"SID{note.id}"


def statuses(sessions) -> dict[int, tuple[str, str]]:
    with sessions() as s:
        return {n.id: (n.to_number, n.status) for n in s.scalars(select(Notification))}


@pytest.fixture
def world(sessions, example_registry) -> World:
    """A press, turned into its alert: the building tier's 2 SMS and 2 calls, and the family SMS, queued."""
    w = World(sessions, example_registry, T0)
    w.press()
    w.alerts.process_events()
    return w


def make_outbox(world: World, notifier, workers: int, failed: list[int], queue_per_worker: int = 4) -> Outbox:
    woken = threading.Event()
    outbox = Outbox(
        world.sessions,
        notifier,
        world.clock,
        RateLimiter({}),
        workers=workers,
        on_failed=failed.append,
        on_idle=woken.set,
        queue_per_worker=queue_per_worker,
    )
    outbox.woken = woken  # type: ignore[attr-defined]
    return outbox


def test_a_slow_answer_for_one_page_does_not_hold_up_the_others(world, sessions):
    notifier = GatedNotifier()
    outbox = make_outbox(world, notifier, workers=8, failed=[])
    try:
        assert outbox.send_due() == 5
        eventually(lambda: len(notifier.sent) == 3)  # all but 李建国's SMS and call went out, and were recorded
        eventually(lambda: sorted(st for _, st in statuses(sessions).values()) == ["sending"] * 2 + ["sent"] * 3)
        assert not outbox.idle()
        notifier.gate.set()
        eventually(outbox.idle)
        assert sorted(st for _, st in statuses(sessions).values()) == ["sent"] * 5
        with sessions() as s:
            assert (
                len(s.scalars(select(TimelineEntry).where(TimelineEntry.what.in_(("sms_sent", "voice_sent")))).all())
                == 5
            )
        assert outbox.woken.is_set()  # a worker that comes free wakes the sender to claim more
    finally:
        notifier.gate.set()
        outbox.close()


def test_no_more_is_claimed_than_the_workers_can_take_and_the_best_go_first(world, sessions):
    notifier = GatedNotifier(slow=("*",))
    outbox = make_outbox(world, notifier, workers=2, failed=[], queue_per_worker=1)
    try:
        assert outbox.send_due() == 2  # the two volunteers' SMS: pages before the family SMS, and stuck
        assert outbox.send_due() == 0  # nobody free: nothing more is claimed
        sending = [to for to, st in statuses(sessions).values() if st == "sending"]
        assert sorted(sending) == [SLOW, "+8613900000002"]
        notifier.gate.set()
        eventually(
            lambda: (
                outbox.send_due() == 0
                and outbox.idle()
                and sorted(st for _, st in statuses(sessions).values()) == ["sent"] * 5
            )
        )
    finally:
        notifier.gate.set()
        outbox.close()


def test_with_workers_failures_are_retried_or_given_up_as_with_one(world, sessions):
    notifier = GatedNotifier(fail={"+8613900000002": True, "+61400000001": False})  # 赵玉兰 5xx, family invalid
    notifier.gate.set()
    failed: list[int] = []
    outbox = make_outbox(world, notifier, workers=8, failed=failed)
    try:
        outbox.send_due()
        eventually(outbox.idle)
        by_number = {}
        for _nid, (to, st) in statuses(sessions).items():
            by_number.setdefault(to, []).append(st)
        assert sorted(by_number["+8613900000002"]) == ["queued", "queued"]  # temporary: back in the queue
        assert by_number["+61400000001"] == ["failed"]  # permanent: given up, and the engine told
        with sessions() as s:
            family_id = s.scalar(select(Notification.id).where(Notification.to_number == "+61400000001"))
        assert failed == [family_id]
    finally:
        outbox.close()


# --- claims: an owner and a lease ------------------------------------------------------------------


def left_sending(sessions, owner: str, lease_until) -> list[int]:
    """What a sender leaves behind when it claimed every queued row: `sending`, owned, leased until then."""
    from sqlalchemy import update

    with sessions.begin() as s:
        ids = list(s.scalars(select(Notification.id).where(Notification.status == "queued")))
        s.execute(
            update(Notification)
            .where(Notification.id.in_(ids))
            .values(
                status="sending",
                attempts=1,
                claimed_by=owner,
                sent_at=lease_until - timedelta(seconds=5),
                lease_until=lease_until,
            )
        )
    return ids


def test_rows_of_a_sender_whose_lease_ran_out_are_sent_by_another_at_once(world, sessions):
    ids = left_sending(sessions, "dead-process", world.clock() - timedelta(seconds=1))
    outbox = Outbox(sessions, world.notifier, world.clock, RateLimiter({}), owner="restarted")
    assert outbox.send_due() == len(ids) == 5  # no SENDING_STALE minute: at once
    assert sorted(m.notification_id for m in world.notifier.sent) == ids
    with sessions() as s:
        rows = s.scalars(select(Notification).where(Notification.id.in_(ids))).all()
        assert {(n.status, n.claimed_by, n.lease_until, n.attempts) for n in rows} == {("sent", "restarted", None, 2)}


def test_rows_within_a_live_owners_lease_are_not_taken_until_it_runs_out(world, sessions):
    ids = left_sending(sessions, "alive", world.clock() + timedelta(seconds=3))
    other = Outbox(sessions, world.notifier, world.clock, RateLimiter({}), owner="other")
    assert other.send_due() == 0
    world.clock.advance(seconds=3)  # lease_until == now: still held
    assert other.send_due() == 0 and world.notifier.sent == []
    world.clock.advance(seconds=1)
    assert other.send_due() == len(ids)


def test_a_sender_renews_the_lease_of_what_it_is_still_sending(world, sessions):
    notifier = GatedNotifier()  # 李建国's SMS and call hang
    mine = make_outbox(world, notifier, workers=8, failed=[])
    other = Outbox(sessions, world.notifier, world.clock, RateLimiter({}), owner="other")
    try:
        assert mine.send_due() == 5
        eventually(lambda: len(notifier.sent) == 3)
        for _ in range(5):  # 10 s pass, far past one lease; the engine calls send_due on every tick
            world.clock.advance(seconds=2)
            mine.send_due()
            assert other.send_due() == 0
        with sessions() as s:
            hung = s.scalars(select(Notification).where(Notification.status == "sending")).all()
        assert len(hung) == 2 and {n.claimed_by for n in hung} == {mine.owner}
        assert all(n.lease_until > world.clock() for n in hung)
        notifier.gate.set()
        eventually(mine.idle)
        assert sorted(st for _, st in statuses(sessions).values()) == ["sent"] * 5 and world.notifier.sent == []
    finally:
        notifier.gate.set()
        mine.close()


def test_each_outbox_is_its_own_owner():
    a, b = (Outbox(None, None, lambda: None, RateLimiter({})) for _ in range(2))
    assert a.owner != b.owner and len(a.owner) == 32


# --- the order of the claims, and a finite rate -------------------------------------------------------


def test_the_claim_order_is_emergency_then_wellness_then_device_oldest_first(sessions, example_registry):
    from core.db import transaction

    w = World(sessions, example_registry, T0)
    kinds: dict[int, str] = {}
    with transaction(sessions) as s:  # opened in the reverse of the order they must go out
        kinds[
            w.alerts.open_alert(
                s, resident_id="r-liu", kind="device", reason="offline", now=w.clock(), device_id="z2m-sos-liu"
            ).id
        ] = "device"
    w.clock.advance(seconds=1)
    with transaction(sessions) as s:
        kinds[
            w.alerts.open_alert(s, resident_id="r-zhang", kind="wellness", reason="checkin_missed", now=w.clock()).id
        ] = "wellness"
    w.clock.advance(seconds=1)
    w.press("z2m-sos-liu")  # r-liu's emergency, the older one
    w.alerts.process_events()
    w.clock.advance(seconds=1)
    w.press("pgr-0001")
    w.alerts.process_events()
    with sessions() as s:
        emergencies = list(s.scalars(select(Alert.id).where(Alert.kind == "emergency").order_by(Alert.opened_at)))
    kinds.update({emergencies[0]: "emergency-older", emergencies[1]: "emergency-newer"})
    outbox = Outbox(sessions, w.notifier, w.clock, RateLimiter({}))
    while outbox.send_due(limit=1):  # a budget smaller than the due work: one at a time
        pass
    order = [(kinds[m.alert_id], m.purpose) for m in w.notifier.sent]
    pages = [kind for kind, purpose in order if purpose == "page"]
    assert pages == sorted(pages, key=["emergency-older", "emergency-newer", "wellness", "device"].index)
    assert set(pages) == {"emergency-older", "emergency-newer", "wellness", "device"}
    assert {purpose for _, purpose in order[len(pages) :]} == {"family"}  # the family hears last


class Ticks:
    """A monotonic clock the test moves (the limiter's own clock is time.monotonic)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_a_finite_rate_spaces_the_sends_of_a_channel(world, sessions):
    ticks = Ticks()
    limiter = RateLimiter({"sms": 0.5, "voice": 1.0}, clock=ticks)  # an SMS every 2 s, a call a second
    outbox = Outbox(sessions, world.notifier, world.clock, limiter)
    sent_at: list[tuple[float, str]] = []

    def step() -> None:
        before = len(world.notifier.sent)
        outbox.send_due()
        sent_at.extend((ticks.t - 1000.0, m.channel) for m in world.notifier.sent[before:])

    step()
    assert limiter.wait_time("sms") == pytest.approx(2.0)  # the bucket is empty: a whole interval to wait
    for _ in range(12):  # 6 s in half seconds
        ticks.t += 0.5
        step()
    sms = [t for t, channel in sent_at if channel == "sms"]
    calls = [t for t, channel in sent_at if channel == "voice"]
    assert sms == [0.0, 2.0, 4.0]  # 李建国, 赵玉兰, the family: never two in one 2 s
    assert calls == [0.0, 1.0]


@dataclass
class TableHidingNotifier:
    """Sends, then takes the timeline table away for a moment: recording the send fails in the database."""

    sessions: object
    sender_id: str = "+15550000000"
    delivers_at_once: bool = False
    sent: list[int] = field(default_factory=list)

    def send(self, note: Notification) -> str:
        from sqlalchemy import text

        self.sent.append(note.id)
        if len(self.sent) == 1:
            with self.sessions.begin() as s:
                s.execute(text("ALTER TABLE alert_timeline RENAME TO alert_timeline_away"))
        return f"SID{note.id}"

    def restore(self) -> None:
        from sqlalchemy import text

        with self.sessions.begin() as s:
            s.execute(text("ALTER TABLE alert_timeline_away RENAME TO alert_timeline"))


def test_a_row_whose_result_could_not_be_recorded_is_not_held_by_renewals(world, sessions):
    notifier = TableHidingNotifier(sessions)
    mine = Outbox(sessions, notifier, world.clock, RateLimiter({}), owner="mine", workers=2)
    try:
        assert mine.send_due(limit=1) == 1
        eventually(mine.idle)  # sent, but its record failed: the row stays `sending`, owned by "mine"
        notifier.restore()
        other = Outbox(sessions, world.notifier, world.clock, RateLimiter({}), owner="other")
        world.clock.advance(seconds=2)
        mine.send_due(limit=0)  # a tick of the failed sender: it must not renew what it no longer sends
        world.clock.advance(seconds=4)  # past the lease it took when it claimed
        assert other.send_due() >= 1
        # out again: twice, as when a process dies between sending and recording
        assert notifier.sent[0] in [m.notification_id for m in world.notifier.sent]
    finally:
        mine.close()
