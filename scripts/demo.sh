#!/usr/bin/env bash
# The service with a demo: embedded broker, SQLite, the example registry, the console notifier.
source "$(dirname "$0")/setup.sh"
ensure_venv test
mkdir -p var
export JINQIAO_DATABASE_URL="${JINQIAO_DATABASE_URL:-sqlite:///$ROOT/var/demo.db}"
.venv/bin/jinqiao import deploy/demo/registry.yaml
cat <<MSG

Jinqiao demo: board and API on http://127.0.0.1:8000 , MQTT on 127.0.0.1:1883.
Press a call button from another terminal:
  .venv/bin/python simulators/pager.py --mqtt 3 --device pgr-0001 press

MSG
exec .venv/bin/jinqiao up
