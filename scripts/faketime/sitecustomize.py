"""Loaded by Python only under scripts/shifted_clock.sh, which puts this folder on PYTHONPATH.

libfaketime with an unfaked monotonic clock (FAKETIME_DONT_FAKE_MONOTONIC=1) makes CPython's
time.sleep fail with EINVAL: it wraps clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) wrongly. A
select() with a timeout sleeps the same span without that call. Nothing else is changed.
"""

import os

if os.environ.get("FAKETIME"):
    import select
    import time

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        select.select([], [], [], seconds)

    time.sleep = _sleep
