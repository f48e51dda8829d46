"""Start-up and shutdown of the processes: `up` runs them all in one, the others run one each."""

from __future__ import annotations

import signal
import sys
import threading
from dataclasses import dataclass

import structlog
import uvicorn
from fastapi import FastAPI

from core.clock import utcnow
from core.db import make_engine, session_factory, upgrade
from core.heartbeat import broker_seen_by_gateways
from core.settings import Settings
from dispatcher.alerts import Alerts
from dispatcher.service import Dispatcher, build_dispatcher, check_provider_templates
from dispatcher.supervision import Rules
from gateway.service import Gateway
from jinqiao.embedded_broker import EmbeddedBroker
from jinqiao.ports import ensure_free
from web.app import Readiness, create_app
from web.board import web_app
from web.deps import Web

log = structlog.get_logger("jinqiao")


@dataclass
class Stopper:
    """One stop flag for the whole process, set by SIGINT/SIGTERM or by a part that failed."""

    event: threading.Event
    reason: str | None = None

    def stop(self, reason: str) -> None:
        if not self.event.is_set():
            self.reason = reason
            self.event.set()


SWITCH_INTERVAL_S = 0.001


def tune_interpreter() -> None:
    """Hand the GIL round more often (CPython's default is every 5 ms).

    A service thread that waits on the database gives up the GIL at every statement and needs it
    back to go on; behind busy outbox workers each round trip could wait a whole interval, and an
    alert opening with 16 statements on PostgreSQL would lose ~80 ms to that alone.
    """
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def install_signal_handlers(stopper: Stopper) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopper.stop(signal.Signals(signum).name))


def mqtt_url_of(settings: Settings, broker: EmbeddedBroker | None) -> str:
    return broker.url if broker else settings.mqtt_url  # type: ignore[return-value]


def run_gateway(settings: Settings) -> int:
    tune_interpreter()
    engine = make_engine(settings.database_url)
    ensure_http_port_free(settings, settings.gateway_http_port, "JINQIAO_GATEWAY_HTTP_PORT")
    if settings.embedded_broker:
        raise SystemExit("JINQIAO_MQTT_URL: `jinqiao gateway` needs a broker; only `jinqiao up` embeds one")
    stopper = Stopper(threading.Event())
    install_signal_handlers(stopper)
    gateway = Gateway(
        engine,
        settings.mqtt_url,  # type: ignore[arg-type]  # not embedded (checked above): the URL is set
        settings.mqtt_root,
        settings.gateway_id,
        mqtt5=True,
        adapters=settings.adapter_list,
        ca_file=settings.mqtt_ca_file,
        share_group=settings.gateway_share_group,
        session_expiry=settings.gateway_session_expiry,
    )
    app = create_app(Readiness(engine, {"broker": gateway.broker_check}, gateway.broker_status))  # health, metrics
    gateway.start()
    try:
        _serve_http(settings, app, stopper, watch=gateway.check, port=settings.gateway_http_port)
    finally:
        gateway.stop()
    if (stopper.reason or "").startswith("failure"):
        log.error("gateway.died", error=stopper.reason)
        return 3
    return 0


def ensure_http_port_free(settings: Settings, port: int | None = None, variable: str = "JINQIAO_HTTP_PORT") -> None:
    """Before anything starts: a dispatcher that pages people and then finds its port taken has
    already acted; better to refuse at once. Raises PortTaken."""
    ensure_free(
        settings.http_host,
        port or settings.http_port,
        f"another jinqiao process on it? Stop it, or set {variable} to a free port "
        "(and JINQIAO_PUBLIC_URL to match, for the Twilio callbacks).",
    )


def _serve_http(settings: Settings, app, stopper: Stopper, watch, port: int | None = None) -> None:
    """Run uvicorn in this thread; `watch` runs every second and may ask the process to stop."""
    # open board streams must not hold a shutdown up: they reconnect to the next process
    # log_config=None: uvicorn's lines go through our formatter (core/logs.py), one format per run
    config = uvicorn.Config(
        app,
        host=settings.http_host,
        port=port or settings.http_port,
        log_level="warning",
        log_config=None,
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[attr-defined]  # our Stopper owns the signals

    def watchdog() -> None:
        while not stopper.event.wait(1.0):
            try:
                watch()
            except Exception as exc:
                log.error("process.part_failed", error=str(exc))
                stopper.stop(f"failure: {exc}")
        server.should_exit = True

    threading.Thread(target=watchdog, name="watchdog", daemon=True).start()
    server.run()
    stopper.stop("http server ended")


def dispatcher_app(readiness: Readiness, dispatcher: Dispatcher, engine, secure_cookies: bool = False) -> FastAPI:
    """The board, the API and the Twilio webhooks, over one dispatcher's Alerts shell (`jinqiao up`)."""
    web = Web.of(
        session_factory(engine),
        dispatcher.alerts,
        now=dispatcher.alerts.now,
        secure_cookies=secure_cookies,
        supervision=dispatcher.supervisor.rules,  # type: ignore[union-attr]  # build_dispatcher makes one
    )
    return web_app(readiness, web, dispatcher.routers())


def secure_cookies(settings: Settings) -> bool:
    """Session cookies are Secure when the service is reached over https."""
    return settings.public_url.startswith("https://")


def run_web(settings: Settings) -> int:
    """The board, the API and health; operations go through the same Alerts shell as the dispatcher's."""
    ensure_http_port_free(settings)
    engine = make_engine(settings.database_url)
    stopper = Stopper(threading.Event())
    install_signal_handlers(stopper)
    sessions = session_factory(engine)
    # the Alerts shell alone: an ack or a resolve queues its messages in the outbox and wakes the
    # dispatcher's sender by NOTIFY (PostgreSQL) or its next tick; this process sends nothing
    alerts = Alerts(sessions, utcnow)
    web = Web.of(
        sessions,
        alerts,
        now=utcnow,
        secure_cookies=secure_cookies(settings),
        supervision=Rules.from_settings(settings),
    )
    # no broker link here: the board's banner shows the broker as the gateways last reported it
    readiness = Readiness(engine, broker_status=broker_seen_by_gateways(sessions, utcnow))
    app = web_app(readiness, web)
    _serve_http(settings, app, stopper, watch=lambda: None)
    return 0


def run_dispatcher(settings: Settings) -> int:
    """The escalation passes, the outbox sender and the Twilio webhooks on the HTTP port."""
    check_provider_templates(settings)  # before anything starts: every SMS and call must fit a template
    tune_interpreter()
    ensure_http_port_free(settings, settings.dispatcher_http_port, "JINQIAO_DISPATCHER_HTTP_PORT")
    engine = make_engine(settings.database_url)
    stopper = Stopper(threading.Event())
    install_signal_handlers(stopper)
    dispatcher = build_dispatcher(settings, engine)
    dispatcher.start()

    def watch() -> None:
        if not dispatcher.engine.alive():
            raise RuntimeError("a dispatcher worker thread stopped")

    try:
        app = create_app(Readiness(engine), dispatcher.routers())  # broker: "not used"
        _serve_http(settings, app, stopper, watch, port=settings.dispatcher_http_port)
    finally:
        dispatcher.stop()
    return 0 if (stopper.reason or "").startswith(("SIG", "http")) else 3


def run_up(settings: Settings) -> int:
    """Everything in one process: the single-site mode and the demo."""
    check_provider_templates(settings)  # before anything starts: every SMS and call must fit a template
    tune_interpreter()
    ensure_http_port_free(settings)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    stopper = Stopper(threading.Event())
    install_signal_handlers(stopper)
    broker = None
    if settings.embedded_broker:
        broker = EmbeddedBroker("127.0.0.1", settings.embedded_broker_port)
        broker.start()
    gateway = Gateway(
        engine,
        mqtt_url_of(settings, broker),
        settings.mqtt_root,
        settings.gateway_id,
        mqtt5=broker is None,
        adapters=settings.adapter_list,
        ca_file=settings.mqtt_ca_file,
    )
    dispatcher = build_dispatcher(settings, engine)
    gateway.ingest.on_stored = dispatcher.engine.wake
    dispatcher.start()
    gateway.start()
    readiness = Readiness(engine, {"broker": gateway.broker_check}, gateway.broker_status)

    def watch() -> None:
        gateway.check()
        if not dispatcher.engine.alive():
            raise RuntimeError("a dispatcher worker thread stopped")
        if broker and not broker.alive():
            raise RuntimeError("the embedded broker stopped")

    log.info(
        "jinqiao.up",
        http=f"http://{settings.http_host}:{settings.http_port}/",
        database=settings.database_url.split("@")[-1],
        broker=mqtt_url_of(settings, broker),
    )
    try:
        _serve_http(settings, dispatcher_app(readiness, dispatcher, engine, secure_cookies(settings)), stopper, watch)
    finally:
        dispatcher.stop()
        gateway.stop()
        if broker:
            broker.stop()
    log.info("jinqiao.stopped", reason=stopper.reason)
    return 0 if (stopper.reason or "").startswith(("SIG", "http")) else 3


def run_watchdog(settings: Settings) -> int:
    """The watchdog for the watcher (dispatcher/watchdog.py): its rounds, and health on its own port."""
    from dispatcher.watchdog import build_watchdog, watchdog_engine

    engine = watchdog_engine(settings.database_url)
    stopper = Stopper(threading.Event())
    install_signal_handlers(stopper)
    loop = build_watchdog(settings, session_factory(engine), utcnow)
    loop.start()
    try:
        _serve_http(
            settings.model_copy(update={"http_port": settings.watchdog_http_port}),
            create_app(Readiness(engine)),
            stopper,
            loop.check,
        )
    finally:
        loop.stop()
    return 0 if (stopper.reason or "").startswith(("SIG", "http")) else 3
