#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL, against private Mosquitto and PostgreSQL
# instances on free ports, then again under shifted clocks (below). ruff and mypy first. Installs what is missing first.
# Extra arguments go to pytest; JINQIAO_SHIFTED_CLOCK=0 skips the shifted runs.
source "$(dirname "$0")/setup.sh"

missing=()
have_mosquitto || missing+=(mosquitto)
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)
have_cjk_font || missing+=(fonts-wqy-microhei)  # readable board screenshots
command -v openssl >/dev/null || missing+=(openssl)  # the MQTT TLS test makes its own CA
command -v faketime >/dev/null || missing+=(faketime)  # the shifted-clock runs
apt_install "${missing[@]}"
ensure_venv test

# Lint and types before the suite (settings in pyproject.toml): a run that is not clean fails here.
.venv/bin/ruff check . || exit 1
.venv/bin/ruff format --check . || exit 1
.venv/bin/mypy || exit 1

mkdir -p test-artifacts
# the slowest tests are named at the end of the run: where the suite's minutes go
.venv/bin/python -m pytest -p no:cacheprovider -q -ra --durations=30 "$@" || exit 1
[ "${JINQIAO_SHIFTED_CLOCK:-1}" = 1 ] || exit 0

# No verdict may depend on the hour, the date or the time zone: run the suite again with the wall
# clock of every process moved to either side of the fixtures' deadlines (the example's 10:00
# check-in, the roster's 08:00 and 20:00 shift changes) on a workday, and on a public holiday
# with the machine in another time zone. SQLite only, and without the tests marked slow, which the
# run above has already passed once. Each clock takes a third of the suite (JINQIAO_TEST_SHARD,
# split by test id, so the same third every time): the three together run every test once more,
# in about the time of one run. JINQIAO_SHIFTED_SHARDS=1 runs the whole suite under each clock.
status=0
shards="${JINQIAO_SHIFTED_SHARDS:-3}"
shard=0
for run in "2026-11-25T01:00:00+08:00 UTC" "2026-11-25T15:00:00+08:00 Asia/Shanghai" \
           "2026-10-01T15:00:00+08:00 America/Los_Angeles"; do
  read -r instant zone <<<"$run"
  part="$((shard % shards))/$shards"
  shard=$((shard + 1))
  TZ="$zone" JINQIAO_TEST_DATABASES=sqlite JINQIAO_TEST_SHARD="$part" scripts/shifted_clock.sh "$instant" \
    .venv/bin/python -m pytest -p no:cacheprovider -q -ra -m "not slow" "$@" || status=1
done
exit $status
