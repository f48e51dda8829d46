"""The one way a test waits for something another thread or process does: poll, then fail saying what."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def tail(path: Path, lines: int = 40) -> str:
    """The end of a process's log, for a failure message."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def eventually(
    predicate: Callable[[], T],
    timeout: float = 10.0,
    what: str = "the condition",
    logs: Iterable[Path] = (),
    interval: float = 0.05,
) -> T:
    """Poll `predicate` until it returns something truthy and return that; after `timeout` seconds fail
    with `what` and the tails of `logs` (the processes whose output explains a miss)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}" + "".join(f"\n---\n{tail(p)}" for p in logs))
        time.sleep(interval)
