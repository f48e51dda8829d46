#!/usr/bin/env bash
# Run a command with the wall clock of its whole process tree (Python, PostgreSQL, Mosquitto, the
# simulators) moved to INSTANT, which then runs on at normal speed:
#   scripts/shifted_clock.sh 2026-10-01T15:00:00+08:00 .venv/bin/python -m pytest ...
# Debian's libfaketime does the shifting. Only the wall clock moves: a faked monotonic clock would
# put every timed wait (threading, queues, PostgreSQL's latches) a whole offset into the future.
# Left unfaked, it makes Python's time.sleep fail with EINVAL inside libfaketime, so
# scripts/faketime/sitecustomize.py gives Python a sleep that waits in select() instead.
# Browsers are started without the preload (tests/test_board_browser.py): Chromium renders nothing
# under it, and an operator's PC with another clock is a case the board must handle anyway.
set -euo pipefail
[ "$#" -ge 2 ] || { echo "usage: $0 INSTANT COMMAND..." >&2; exit 2; }
instant="$1"; shift
lib="$(compgen -G "/usr/lib/*/faketime/libfaketimeMT.so.1" | head -n1 || true)"
[ -n "$lib" ] || { echo "libfaketime is not installed (apt-get install faketime)" >&2; exit 2; }
target="$(date -d "$instant" +%s)"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export FAKETIME="$((target - $(date +%s)))s" FAKETIME_DONT_FAKE_MONOTONIC=1
export PYTHONPATH="$here/faketime${PYTHONPATH:+:$PYTHONPATH}"
export LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}"
echo "clock moved to $(date -u -d "@$target" +%FT%TZ) ($instant): $*" >&2
exec "$@"
