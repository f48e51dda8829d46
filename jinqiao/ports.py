"""Is a TCP port free to listen on? Checked before a process starts anything that acts (a
dispatcher pages people), so a taken port is a clear one-line error, not a failure halfway in."""

from __future__ import annotations

import socket


class PortTaken(RuntimeError):
    """The port is in use; the message says which, and what to do."""


def ensure_free(host: str, port: int, hint: str) -> None:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and amqtt bind: TIME_WAIT is no obstacle
        try:
            s.bind((host, port))
        except OSError as exc:
            raise PortTaken(f"port {port} on {host} is already taken ({exc.strerror}); {hint}") from None
