"""Wiring of the dispatcher from settings: notifier, outbox, alerts, engine, webhook context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import structlog
from fastapi import APIRouter
from sqlalchemy import Engine as DbEngine

from core import wakeups
from core.clock import utcnow
from core.db import reading, session_factory
from core.heartbeat import Heartbeat, instance_name
from core.schema import Notification
from core.settings import Settings
from core.wakeups import Listener
from dispatcher.alerts import Alerts
from dispatcher.aliyun_sms import AliyunSmsSender
from dispatcher.aliyun_voice import AliyunVoiceSender
from dispatcher.aliyun_webhooks import aliyun_router
from dispatcher.card_updates import CardUpdates, keeper
from dispatcher.channel_check import unserved
from dispatcher.engine import Engine
from dispatcher.mediator_day import MediatorSummaries
from dispatcher.notifiers import ConsoleNotifier, TwilioNotifier
from dispatcher.passes import passes
from dispatcher.passes.outbox import Outbox
from dispatcher.passes.retention import Retention
from dispatcher.passes.supervision import Supervisor
from dispatcher.providers import (
    AliyunSmsNotifier,
    AliyunVoiceNotifier,
    RoutedNotifier,
    WeComCardNotifier,
    WeComRobotNotifier,
)
from dispatcher.sending import Notifier, RateLimiter
from dispatcher.sms_templates import Template, TemplateError, read_templates, read_voice_templates
from dispatcher.supervision import Rules
from dispatcher.twilio_adapter import TwilioSender
from dispatcher.visit_log import VisitReminders
from dispatcher.webhooks import WebhookContext, twilio_router
from dispatcher.wecom_api import WeComApi, WeComRobot
from dispatcher.wecom_crypto import aes_key
from dispatcher.wecom_webhooks import WeComHooks, wecom_router
from dispatcher.work_group import PER_MINUTE as ROBOT_PER_MINUTE
from dispatcher.work_group import WorkGroupNotices

log = structlog.get_logger("jinqiao.dispatcher")


@dataclass
class Dispatcher:
    alerts: Alerts
    outbox: Outbox
    engine: Engine
    webhooks: WebhookContext
    supervisor: Supervisor | None = None
    listener: Listener | None = None  # PostgreSQL: wakes this dispatcher when another process wrote
    heartbeat: Heartbeat | None = None  # the row the watchdog reads (core/heartbeat.py)
    wecom: WeComHooks | None = None  # the WeCom app's callback, when WeCom is set up

    def routers(self) -> list[APIRouter]:
        """The providers' webhooks, served on the dispatcher's HTTP port (or `jinqiao up`'s)."""
        routers = [twilio_router(self.webhooks), aliyun_router(self.webhooks)]
        if self.wecom is not None:
            routers.append(wecom_router(self.webhooks, self.wecom))
        return routers

    def start(self) -> None:
        try:
            self.warn_unserved_channels()
        except Exception as exc:  # the database not there yet: the passes wait for it; so can this check
            log.warning(
                "channels.check_failed", error=str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            )
        self.engine.start()
        if self.listener:
            self.listener.start()

    def warn_unserved_channels(self) -> list[str]:
        """Once, at start: the lists naming a provider this deployment lacks (their rows fail)."""
        with reading(self.alerts.sessions) as s:
            missing = unserved(s, served_channels(self.outbox.notifier))
        if missing:
            log.warning("channels.not_set_up", lists=missing, see="docs/channels.md: their rows fail when sent")
        return missing

    def stop(self) -> None:
        if self.listener:
            self.listener.stop()
        alive = self.engine.alive()  # a worker that died is no clean stop: let it be seen
        self.engine.stop()  # first: a beat of its last round would clear the mark below
        if self.heartbeat and alive:
            self.heartbeat.stopped()


def build_dispatcher(settings: Settings, db: DbEngine, now=utcnow) -> Dispatcher:
    sessions = session_factory(db)
    wecom = wecom_hooks_of(settings)
    notifier, limiter = notifier_of(settings, wecom.api if wecom else None, keeper(sessions, now))
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
    group = WorkGroupNotices(sessions, now) if settings.wecom_robot_url else None
    cards = CardUpdates(sessions, now, wecom.api) if wecom else None
    every = passes(alerts, outbox, supervisor, heartbeat, *daily, work_group=group, card_updates=cards)
    engine = Engine(alerts, outbox, now, every)
    webhooks = WebhookContext(
        sessions, alerts, settings.twilio_auth_token, settings.public_url, now, settings.aliyun_push_token
    )
    listener = None
    if db.dialect.name == "postgresql":
        listener = Listener(db, {wakeups.EVENTS: engine.escalator.wake, wakeups.OUTBOX: engine.sender.wake})
    return Dispatcher(alerts, outbox, engine, webhooks, supervisor, listener, heartbeat, wecom)


def sms_templates(settings: Settings) -> dict[str, Template] | None:
    """The Aliyun templates, checked against every SMS the product sends; None without Aliyun.
    Raises TemplateError naming the message and the variable: the process must not start."""
    return _templates(settings, settings.sms_provider, read_templates)


def voice_templates(settings: Settings) -> dict[str, Template] | None:
    """The Aliyun voice templates, checked against every call the product places; None without."""
    return _templates(settings, settings.voice_provider, read_voice_templates)


def check_provider_templates(settings: Settings) -> None:
    """Before anything starts: every SMS and every call must fit an approved template (TemplateError)."""
    sms_templates(settings)
    voice_templates(settings)


def _templates(settings: Settings, provider: str, read) -> dict[str, Template] | None:
    if provider != "aliyun" or not settings.aliyun_templates:
        return None
    try:
        return read(settings.aliyun_templates)
    except TemplateError as exc:
        raise TemplateError(f"JINQIAO_ALIYUN_TEMPLATES: {exc}") from None


def served_channels(notifier: Notifier) -> set[str]:
    """The channel names with a provider behind them ("aliyun_voice", …): the named notifiers of a
    routed one; Twilio's two alone; the console of the demo prints what any list names."""
    if isinstance(notifier, RoutedNotifier):
        return set(notifier.named)
    provider = getattr(notifier, "provider", "")
    media = ("sms", "voice")
    return {f"{p}_{m}" for p in ({provider} | ({"twilio"} if provider == "console" else set())) for m in media}


def wecom_hooks_of(settings: Settings) -> WeComHooks | None:
    """The WeCom app's API client and callback secrets; None without WeCom (Settings: all or none)."""
    if settings.wecom_corp_id is None:
        return None
    assert settings.wecom_secret and settings.wecom_agent_id is not None
    assert settings.wecom_callback_token and settings.wecom_encoding_aes_key
    api = WeComApi(settings.wecom_corp_id, settings.wecom_secret, settings.wecom_agent_id, settings.wecom_api_url)
    key = aes_key(settings.wecom_encoding_aes_key)
    return WeComHooks(api, settings.wecom_callback_token, key, settings.wecom_corp_id)


def notifier_of(
    settings: Settings, wecom: WeComApi | None = None, keep_card: Callable[[Notification, str, str], None] | None = None
) -> tuple[Notifier, RateLimiter]:
    """The deployment's notifier: Twilio (SMS and calls), Aliyun for SMS, or the console."""
    # Settings takes the three twilio values all or none (twilio_enabled: the first is given).
    sid, token, from_number = settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from
    twilio = None
    if sid and token and from_number:
        sender = TwilioSender(sid, token, from_number, api_url=settings.twilio_api_url)
        twilio = TwilioNotifier(sender, settings.public_url, from_number)
    limiter = RateLimiter(
        {"sms": settings.sms_per_second, "voice": settings.calls_per_second, "robot": ROBOT_PER_MINUTE / 60}
    )
    texts, spoken = sms_templates(settings), voice_templates(settings)
    if texts is None and spoken is None and wecom is None and not settings.wecom_robot_url:
        return (twilio, limiter) if twilio else (ConsoleNotifier(), RateLimiter({}))
    key_id, secret = settings.aliyun_access_key_id or "", settings.aliyun_access_key_secret or ""
    console = ConsoleNotifier()
    named: dict[str, Notifier] = {"console_sms": console, "console_voice": console}
    if twilio:
        named |= {"twilio_sms": twilio, "twilio_voice": twilio}
    # by Aliyun when it is the provider; a number Aliyun will not take now (over its limit, abroad)
    # goes by Twilio when Twilio is set up
    defaults: dict[str, list[Notifier]] = {m: [twilio or console] for m in ("sms", "voice")}
    if wecom is not None:  # a card is always named (wecom_card): no medium defaults to it
        named["wecom_card"] = WeComCardNotifier(wecom, **({"keep": keep_card} if keep_card else {}))
        defaults["card"] = [named["wecom_card"]]
    if settings.wecom_robot_url:
        named["wecom_robot"] = WeComRobotNotifier(WeComRobot(settings.wecom_robot_url))
        defaults["robot"] = [named["wecom_robot"]]
    if texts is not None:
        assert key_id and secret and settings.aliyun_sign_name  # Settings refuses aliyun without them
        texter = AliyunSmsSender(key_id, secret, settings.aliyun_sign_name, settings.aliyun_endpoint)
        named["aliyun_sms"] = AliyunSmsNotifier(texter, texts)
        defaults["sms"] = [named["aliyun_sms"], *([twilio] if twilio else [])]
    if spoken is not None:
        assert key_id and secret and settings.aliyun_voice_show_number
        caller = AliyunVoiceSender(key_id, secret, settings.aliyun_voice_show_number, settings.aliyun_voice_endpoint)
        named["aliyun_voice"] = AliyunVoiceNotifier(caller, spoken, ivr=settings.aliyun_voice_mode == "ivr")
        defaults["voice"] = [named["aliyun_voice"], *([twilio] if twilio else [])]
    return RoutedNotifier(defaults, named), limiter
