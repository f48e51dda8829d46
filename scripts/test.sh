#!/usr/bin/env bash
# The whole test suite, on SQLite and PostgreSQL, against private Mosquitto and PostgreSQL
# instances on free ports. Installs what is missing first. Extra arguments go to pytest.
source "$(dirname "$0")/setup.sh"

missing=()
have_mosquitto || missing+=(mosquitto)
have_postgres || missing+=(postgresql)
have_chromium || missing+=(chromium)
have_cjk_font || missing+=(fonts-wqy-microhei)  # readable board screenshots
command -v openssl >/dev/null || missing+=(openssl)  # the MQTT TLS test makes its own CA
apt_install "${missing[@]}"
ensure_venv test

mkdir -p test-artifacts
exec .venv/bin/python -m pytest -p no:cacheprovider -q -ra "$@"
