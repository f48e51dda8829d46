"""The dispatcher's passes, as one list: the engine runs it on its threads, the tests' World in a loop.

Each pass is one load -> decide -> write step in its own transaction:
- events       (passes/events.py)       device events become alerts: open, join, cancel
- escalations  (passes/escalations.py)  timers that came due: the next tier, or a reopened alert
- heartbeat    (core/heartbeat.py)      the row `jinqiao watchdog` reads
- supervision  (passes/supervision.py, rules in dispatcher/supervision.py)  silent devices, missed check-ins
- visits       (dispatcher/visit_log.py, rules in dispatcher/visits.py)  visit reminders and overdue visits
- summaries    (dispatcher/mediator_day.py, text in dispatcher/summary_text.py)  the mediator's daily SMS
- retention    (passes/retention.py)    old heartbeats compacted into device_days and deleted
- work_group   (dispatcher/work_group.py)  the community work group's robot hears of each emergency
- card_updates (dispatcher/card_updates.py)  WeCom cards of a call taken or over say so
- outbox       (passes/outbox.py, rows in dispatcher/outbox_*.py)  queued notifications go out
- backlog      (passes/backlog.py)      gauges only; writes nothing

Each pass runs on its own: it opens its own transactions, and an exception in one is logged,
counted (per pass, and in the metrics) and does not keep the others from running in that round.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import structlog

from core import metrics
from dispatcher.passes.backlog import Backlog

if TYPE_CHECKING:
    from core.heartbeat import Heartbeat
    from dispatcher.alerts import Alerts
    from dispatcher.card_updates import CardUpdates
    from dispatcher.mediator_day import MediatorSummaries
    from dispatcher.passes.outbox import Outbox
    from dispatcher.passes.retention import Retention
    from dispatcher.passes.supervision import Supervisor
    from dispatcher.visit_log import VisitReminders
    from dispatcher.work_group import WorkGroupNotices

log = structlog.get_logger("jinqiao.dispatcher")

ESCALATOR, SENDER, SUPERVISOR, OBSERVER = "escalator", "sender", "supervisor", "observer"


@dataclass(frozen=True)
class Pass:
    name: str
    run: Callable[[], object]  # truthy when it found work: more may be waiting
    worker: str = ESCALATOR  # the engine thread it runs on: a slow provider must never delay a timer


def passes(
    alerts: Alerts,
    outbox: Outbox,
    supervisor: Supervisor,
    heartbeat: Heartbeat | None = None,
    visits: VisitReminders | None = None,
    summaries: MediatorSummaries | None = None,
    retention: Retention | None = None,
    work_group: WorkGroupNotices | None = None,
    card_updates: CardUpdates | None = None,
) -> list[Pass]:
    """Every pass of the dispatcher. Each is safe to run twice and on two processes at once.

    The heartbeat (the row `jinqiao watchdog` reads) beats on the escalator's thread, after its
    passes: an escalator that hangs stops the beats too, and the watchdog pages.
    """
    beat = [Pass("heartbeat", heartbeat.beat, ESCALATOR)] if heartbeat else []
    return [
        Pass("events", alerts.process_events, ESCALATOR),
        Pass("escalations", alerts.escalate_due, ESCALATOR),
        *beat,
        Pass("supervision", supervisor.run, SUPERVISOR),
        *([Pass("visits", visits.run, SUPERVISOR)] if visits else []),
        *([Pass("summaries", summaries.run, SUPERVISOR)] if summaries else []),
        *([Pass("retention", retention.run, SUPERVISOR)] if retention else []),
        *([Pass("work_group", work_group.run, SUPERVISOR)] if work_group else []),
        *([Pass("card_updates", card_updates.run, SENDER)] if card_updates else []),  # calls WeCom
        Pass("outbox", outbox.send_due, SENDER),
        Pass("backlog", Backlog(alerts.sessions, alerts.now).observe, OBSERVER),  # gauges only; writes nothing
    ]


class PassRunner:
    """Runs passes one at a time, each in its own error handling; counts errors by pass name."""

    def __init__(self) -> None:
        self.errors: Counter[str] = Counter()  # since start
        self.failing: Counter[str] = Counter()  # in a row, for the back-off

    def run(self, p: Pass) -> bool:
        metrics.PASSES_RUN.labels(p.name).inc()
        try:
            more = bool(p.run())
        except Exception as exc:  # a database outage or a bug in one pass: the others go on
            self.errors[p.name] += 1
            self.failing[p.name] += 1
            metrics.PASS_ERRORS.labels(p.name).inc()
            first_line = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            log.exception("dispatcher.pass_failed", pass_name=p.name, error=first_line)
            return False
        self.failing[p.name] = 0
        return more

    def run_round(self, round_: Iterable[Pass]) -> bool:
        """Every pass once, whatever the others do; True when any found work."""
        found = [self.run(p) for p in round_]
        return any(found)
