"""The broker socket made cheaper for paho, for speed only: buffered reads and batched wake-ups.

gateway/mqtt_link.py wraps paho's sockets in these; they know sockets, not paho (see
docs/benchmarks.md for what each saved).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class BufferedSocket:
    """The broker connection with a read buffer: one recv() per 64 KiB instead of three per packet.

    paho reads each packet as recv(1) for its type, recv(1) per length byte, then recv(rest), a
    system call each; under load that was a fifth of the gateway's CPU. `pending()` tells paho's
    loop that buffered bytes are waiting (it asks the same of TLS sockets), so it reads on without
    waiting in select(). Writes go straight through.
    """

    CHUNK = 64 * 1024

    def __init__(self, sock) -> None:
        self._sock = sock
        self._buf = b""
        self._pos = 0

    def recv(self, size: int) -> bytes:
        buf, pos = self._buf, self._pos
        if pos >= len(buf):
            buf = self._sock.recv(self.CHUNK)  # BlockingIOError / SSLWantReadError go to paho as before
            if not buf:
                return buf
            self._buf, pos = buf, 0
        end = pos + size
        self._pos = end
        return buf[pos:end]

    def pending(self) -> int:
        inner = self._sock.pending() if hasattr(self._sock, "pending") else 0
        return max(0, len(self._buf) - self._pos) + inner

    def send(self, data) -> int:
        return self._sock.send(data)

    def fileno(self) -> int:
        return self._sock.fileno()

    def setblocking(self, flag: bool) -> None:
        self._sock.setblocking(flag)

    def close(self) -> None:
        self._buf, self._pos = b"", 0
        self._sock.close()

    def __getattr__(self, name: str):  # anything else paho or a callback may ask of a socket
        return getattr(self._sock, name)


class BatchedWakeup:
    """Stands in for the socket paho writes a byte to, once per queued packet, to wake its network thread.

    While `held` (a batch of feedback and acknowledgements being queued) the network thread is woken
    once, at the end, instead of once per packet: a system call and a thread switch per packet saved.
    """

    def __init__(self, sock) -> None:
        self._sock = sock
        self._held = 0
        self._missed = False
        self._lock = threading.Lock()

    def send(self, data) -> int:
        if self._held:
            with self._lock:
                if self._held:
                    self._missed = True
                    return len(data)
        return self._sock.send(data)

    @contextmanager
    def held(self) -> Iterator[None]:
        with self._lock:
            self._held += 1
        try:
            yield
        finally:
            with self._lock:
                self._held -= 1
                wake = self._missed and not self._held
                if wake:
                    self._missed = False
            if wake:
                try:
                    self._sock.send(b"0")
                except OSError:  # full (the thread is awake anyway) or closed (it is stopping)
                    pass

    def __getattr__(self, name: str):
        return getattr(self._sock, name)
