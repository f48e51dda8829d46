"""Wiring of the dispatcher from settings: notifier, outbox, alerts, engine, webhook context."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine as DbEngine

from core import wakeups
from core.clock import utcnow
from core.db import session_factory
from core.heartbeat import Heartbeat, instance_name
from core.settings import Settings
from core.wakeups import Listener
from dispatcher.alerts import Alerts
from dispatcher.engine import Engine
from dispatcher.mediator_day import MediatorSummaries
from dispatcher.notifiers import ConsoleNotifier, TwilioNotifier
from dispatcher.passes import passes
from dispatcher.passes.outbox import Outbox
from dispatcher.passes.retention import Retention
from dispatcher.passes.supervision import Supervisor
from dispatcher.sending import Notifier, RateLimiter
from dispatcher.supervision import Rules
from dispatcher.twilio_adapter import TwilioSender
from dispatcher.visit_log import VisitReminders
from dispatcher.webhooks import WebhookContext


@dataclass
class Dispatcher:
    alerts: Alerts
    outbox: Outbox
    engine: Engine
    webhooks: WebhookContext
    supervisor: Supervisor | None = None
    listener: Listener | None = None  # PostgreSQL: wakes this dispatcher when another process wrote
    heartbeat: Heartbeat | None = None  # the row the watchdog reads (core/heartbeat.py)

    def start(self) -> None:
        self.engine.start()
        if self.listener:
            self.listener.start()

    def stop(self) -> None:
        if self.listener:
            self.listener.stop()
        if self.heartbeat and self.engine.alive():  # a worker that died is no clean stop: let it be seen
            self.heartbeat.stopped()
        self.engine.stop()


def build_dispatcher(settings: Settings, db: DbEngine, now=utcnow) -> Dispatcher:
    sessions = session_factory(db)
    # Settings takes the three twilio values all or none (twilio_enabled: the first is given).
    sid, token, from_number = settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from
    notifier: Notifier
    if sid and token and from_number:
        sender = TwilioSender(sid, token, from_number, api_url=settings.twilio_api_url)
        notifier = TwilioNotifier(sender, settings.public_url, from_number)
        limiter = RateLimiter({"sms": settings.sms_per_second, "voice": settings.calls_per_second})
    else:
        notifier = ConsoleNotifier()
        limiter = RateLimiter({})
    alerts = Alerts(sessions, now)
    outbox = Outbox(sessions, notifier, now, limiter, workers=settings.send_workers)
    supervisor = Supervisor(sessions, alerts, now, Rules.from_settings(settings))
    heartbeat = Heartbeat(
        sessions,
        "dispatcher",
        instance_name(settings.instance_name, settings.dispatcher_http_port),
        now,
        every=settings.heartbeat_interval,
    )
    daily = (
        VisitReminders(sessions, now),
        MediatorSummaries(sessions, now, settings.mediator_summary_at),
        Retention(sessions, now, settings.events_keep_days),
    )
    engine = Engine(alerts, outbox, now, passes(alerts, outbox, supervisor, heartbeat, *daily))
    webhooks = WebhookContext(sessions, alerts, settings.twilio_auth_token, settings.public_url, now)
    listener = None
    if db.dialect.name == "postgresql":
        listener = Listener(db, {wakeups.EVENTS: engine.escalator.wake, wakeups.OUTBOX: engine.sender.wake})
    return Dispatcher(alerts, outbox, engine, webhooks, supervisor, listener, heartbeat)
