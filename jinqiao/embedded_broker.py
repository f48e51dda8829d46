"""The embedded MQTT broker of the zero-setup mode (amqtt), run on its own thread and event loop.

It is for trying the product, not for production: see WARNING, printed at start.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import structlog

from jinqiao.ports import PortTaken, ensure_free

log = structlog.get_logger("jinqiao.broker")

WARNING = (
    "Embedded MQTT broker (amqtt) for trying Jinqiao only. Compared with Mosquitto it keeps no "
    "sessions or queued messages across a restart, speaks MQTT 3.1.1 only, has no per-device ACLs, "
    "and amqtt 0.12 was seen to drop QoS1 messages queued for offline clients. Devices resend until "
    "they get `received`, so no press is lost, but run Mosquitto in production (JINQIAO_MQTT_URL)."
)


class BrokerPortTaken(PortTaken):
    pass


class EmbeddedBroker:
    def __init__(self, host: str = "127.0.0.1", port: int = 1883) -> None:
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._broker: Any = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> None:
        self._check_port_free()
        log.warning("broker.embedded", host=self.host, port=self.port, warning=WARNING)
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the embedded MQTT broker did not start in time")
        if self._error:
            raise RuntimeError(f"the embedded MQTT broker failed to start: {self._error}") from self._error

    def _check_port_free(self) -> None:
        try:
            ensure_free(
                self.host,
                self.port,
                "another MQTT broker, or another `jinqiao up`? "
                f"Set JINQIAO_MQTT_URL=mqtt://{self.host}:{self.port} to use that broker, "
                "JINQIAO_EMBEDDED_BROKER_PORT to start the embedded one on another port, "
                "or stop whatever holds the port.",
            )
        except PortTaken as exc:
            raise BrokerPortTaken(str(exc)) from None

    def _run(self) -> None:
        from amqtt.broker import Broker

        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)

        async def boot() -> None:
            config = {
                "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
                "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
            }
            self._broker = Broker(config)
            await self._broker.start()

        try:
            loop.run_until_complete(boot())
        except BaseException as exc:  # reported to start() on the caller's thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        if not self._loop or not self._broker:
            return
        fut = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
        try:
            fut.result(10)
        except Exception:
            log.warning("broker.shutdown_failed")
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(5)
