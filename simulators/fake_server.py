"""What the providers' fakes (fake_aliyun.py, fake_wecom.py) share: an HTTP server on 127.0.0.1,
one worker that plays the world from a queue (the pushes Aliyun sends, the buttons members press),
their start and stop, and waiting for what the fake has seen."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self, TypeVar

T = TypeVar("T")


class FakeServer:
    name = "fake"  # in the message of a wait that timed out

    def _serve(self, port: int, handler: type[BaseHTTPRequestHandler], lock: threading.Lock | threading.RLock) -> None:
        self._lock = lock
        self._outbox: queue.Queue[Any] = queue.Queue()  # None stops the worker
        self._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._threads: list[threading.Thread] = []

    def _world(self) -> None:
        """The worker: take jobs from self._outbox until None."""
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> Self:
        for target in (self._server.serve_forever, self._world):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._outbox.put(None)
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0) -> T:
        """What `predicate` returns, read under the fake's lock, once it is truthy; TimeoutError after `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                found = predicate()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name}: the condition did not come true")
            time.sleep(0.02)
