"""Run pieces of work on threads released at the same instant, and fail on any error they raised."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(*workers: Callable[[], object], timeout: float = 60) -> None:
    start = threading.Barrier(len(workers))
    errors: list[BaseException] = []

    def run(work) -> None:
        try:
            start.wait(10)
            work()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not errors, errors
