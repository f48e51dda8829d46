"""The dispatcher's loop: two worker threads woken by events, APScheduler as the alarm clock.

- The escalator turns new events into alerts and fires due timers (dispatcher/alerts.py).
- The sender empties the outbox (dispatcher/outbox.py), so a slow provider never delays a timer.
Timers live in the database (alerts.next_action_at). APScheduler only wakes the workers: every
second, and once more at the earliest due time, with coalescing and no misfire grace limit, so
after a pause or a restart every due step fires at once. New events wake the escalator at once.
"""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Callable

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from dispatcher.alerts import Alerts
from dispatcher.outbox import Outbox

log = structlog.get_logger("jinqiao.dispatcher")

TICK_S = 1.0


class Worker:
    """A thread that runs `work` whenever woken (and at least every tick) until stopped."""

    def __init__(self, name: str, work: Callable[[], bool]) -> None:
        self.name = name
        self._work = work
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.errors = 0

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(10)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(TICK_S)
            self._wake.clear()
            try:
                while self._work() and not self._stop.is_set():
                    pass  # more may be waiting: go again before sleeping
            except Exception as exc:  # a database outage must not kill the loop; the next tick retries
                self.errors += 1
                log.exception("dispatcher.pass_failed", worker=self.name, error=str(exc).splitlines()[0][:200])
                self._stop.wait(min(5.0, 0.2 * self.errors))
            else:
                self.errors = 0


class Engine:
    def __init__(self, alerts: Alerts, outbox: Outbox, now: Callable[[], datetime]) -> None:
        self.alerts = alerts
        self.outbox = outbox
        self.now = now
        self.escalator = Worker("escalator", self._escalate)
        self.sender = Worker("sender", self._send)
        alerts.on_outbox = self.sender.wake
        alerts.on_timer = self._plan
        outbox.on_failed = self._page_failed
        outbox.on_idle = self.sender.wake
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1})
        self.extra: list[Worker] = []  # further passes (supervision), each its own worker on the tick

    def _escalate(self) -> bool:
        events = self.alerts.process_events()
        due = self.alerts.escalate_due()
        return bool(events or due)

    def _send(self) -> bool:
        return self.outbox.send_due() > 0

    def _page_failed(self, notification_id: int) -> None:
        self.alerts.delivery_failed(notification_id)

    def _plan(self) -> None:
        """Wake the escalator exactly when the earliest timer is due (the tick is only a safety net)."""
        try:
            due = self.alerts.next_due()
        except Exception:
            return
        if due is None or not self.scheduler.running:
            return
        self.scheduler.add_job(self.escalator.wake, DateTrigger(run_date=due), id="next-due", replace_existing=True)

    def wake(self) -> None:
        """Something new was stored (an event, a reply): look at once."""
        self.escalator.wake()

    def start(self) -> None:
        self.escalator.start()
        self.sender.start()
        self.scheduler.add_job(self.escalator.wake, IntervalTrigger(seconds=TICK_S), id="tick-escalator")
        self.scheduler.add_job(self.sender.wake, IntervalTrigger(seconds=TICK_S), id="tick-sender")
        for worker in self.extra:
            worker.start()
        self.scheduler.start()
        self._plan()
        log.info("dispatcher.started")

    def alive(self) -> bool:
        return self.escalator.alive() and self.sender.alive() and all(w.alive() for w in self.extra)

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        self.escalator.stop()
        self.sender.stop()
        for worker in self.extra:
            worker.stop()
        self.outbox.close()
        log.info("dispatcher.stopped")


def add_pass(engine: Engine, name: str, work: Callable[[], object]) -> Worker:
    """Run `work` on its own worker thread, every tick (and at once when it says it found more).

    Called before engine.start(). The pass must be safe to run twice and on two processes at once.
    """
    worker = Worker(name, lambda: bool(work()))
    engine.extra.append(worker)
    return worker
