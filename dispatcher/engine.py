"""The dispatcher's loop: worker threads woken by events, APScheduler as the alarm clock.

The passes come as one list (dispatcher/passes/__init__.py); each names the worker thread it runs on:
- the escalator turns new events into alerts and fires due timers (dispatcher/passes/events.py,
  escalations.py),
- the sender empties the outbox (dispatcher/passes/outbox.py), so a slow provider never delays a timer,
- the supervisor watches devices and check-ins (dispatcher/passes/supervision.py).
Each pass runs on its own: one that raises is counted and backs off; the others go on.
Timers live in the database (alerts.next_action_at). APScheduler only wakes the workers: every
second, and once more at the earliest due time, with coalescing and no misfire grace limit, so
after a pause or a restart every due step fires at once. New events wake the escalator at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

import structlog
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from dispatcher.alerts import Alerts
from dispatcher.passes import ESCALATOR, SENDER, Pass, PassRunner
from dispatcher.passes.outbox import Outbox

log = structlog.get_logger("jinqiao.dispatcher")

TICK_S = 1.0


class Worker:
    """A thread that runs its passes whenever woken (and at least every tick) until stopped.

    A pass that raised waits a little longer each time before it runs again (at most 5 s): a
    database outage must not spin the loop, and must not hold back the passes that still work.
    """

    def __init__(self, name: str, passes: list[Pass], runner: PassRunner) -> None:
        self.name = name
        self.passes = passes
        self._runner = runner
        self._retry_at: dict[str, float] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def errors(self) -> int:
        return sum(self._runner.errors[p.name] for p in self.passes)

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

    def _round(self) -> bool:
        more = False
        for p in self.passes:
            if time.monotonic() < self._retry_at.get(p.name, 0.0):
                continue
            more |= self._runner.run(p)
            failing = self._runner.failing[p.name]
            if failing:
                self._retry_at[p.name] = time.monotonic() + min(5.0, 0.2 * failing)
        return more

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(TICK_S)
            self._wake.clear()
            while self._round() and not self._stop.is_set():
                pass  # more may be waiting: go again before sleeping


class Engine:
    def __init__(self, alerts: Alerts, outbox: Outbox, now: Callable[[], datetime], passes: list[Pass]) -> None:
        self.alerts = alerts
        self.outbox = outbox
        self.now = now
        self.passes = list(passes)
        self.runner = PassRunner()
        names = list(dict.fromkeys([ESCALATOR, SENDER, *(p.worker for p in self.passes)]))
        self.workers = {name: Worker(name, [p for p in self.passes if p.worker == name], self.runner) for name in names}
        self.escalator = self.workers[ESCALATOR]
        self.sender = self.workers[SENDER]
        alerts.on_outbox = self.sender.wake
        alerts.on_timer = self._plan
        outbox.on_failed = self._page_failed
        outbox.on_idle = self.sender.wake
        self.scheduler = BackgroundScheduler(
            timezone="UTC", job_defaults={"coalesce": True, "misfire_grace_time": None, "max_instances": 1}
        )

    def _page_failed(self, notification_id: int) -> None:
        self.alerts.delivery_failed(notification_id)

    def _plan(self) -> None:
        """Wake the escalator exactly when the earliest timer is due (the tick is only a safety net)."""
        try:
            due = self.alerts.next_due()
        except Exception as exc:  # the one-second tick still wakes the escalator; say why the exact one did not
            log.warning("dispatcher.plan_failed", error=(str(exc).splitlines() or [type(exc).__name__])[0][:200])
            return
        if due is None or not self.scheduler.running:
            return
        self.scheduler.add_job(self.escalator.wake, DateTrigger(run_date=due), id="next-due", replace_existing=True)

    def wake(self) -> None:
        """Something new was stored (an event, a reply): look at once."""
        self.escalator.wake()

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()
        self.scheduler.add_job(self.escalator.wake, IntervalTrigger(seconds=TICK_S), id="tick-escalator")
        self.scheduler.add_job(self.sender.wake, IntervalTrigger(seconds=TICK_S), id="tick-sender")
        self.scheduler.start()
        self._plan()
        log.info("dispatcher.started")

    def alive(self) -> bool:
        return all(w.alive() for w in self.workers.values())

    def stop(self) -> None:
        self.scheduler.shutdown(wait=False)
        for worker in self.workers.values():
            worker.stop()
        self.outbox.close()
        log.info("dispatcher.stopped")
