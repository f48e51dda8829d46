#!/usr/bin/env bash
# The service with a demo: embedded MQTT broker, SQLite, the example registry, and a fake Twilio
# whose simulated people answer: the building volunteers miss the call, the mediator replies "1".
# JINQIAO_DEMO_TWILIO=0 uses the console notifier instead (every message in the log).
source "$(dirname "$0")/setup.sh"
ensure_venv test
mkdir -p var
export JINQIAO_DATABASE_URL="${JINQIAO_DATABASE_URL:-sqlite:///$ROOT/var/demo.db}"
.venv/bin/jinqiao import deploy/demo/registry.yaml
# a demo administrator for the board (a real deployment creates its own: see the README)
DEMO_USER="${JINQIAO_DEMO_USER:-demo}"
DEMO_PASSWORD="${JINQIAO_DEMO_PASSWORD:-jinqiao-demo}"
if ! out=$(printf '%s\n' "$DEMO_PASSWORD" | .venv/bin/jinqiao user add "$DEMO_USER" --role admin --password-stdin 2>&1); then
  case "$out" in *"exists already"*) ;; *) echo "$out" >&2; exit 1 ;; esac
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ "${JINQIAO_DEMO_TWILIO:-1}" = "1" ]; then
  export JINQIAO_TWILIO_ACCOUNT_SID="AC00000000000000000000000000000000"
  export JINQIAO_TWILIO_AUTH_TOKEN="demo-token"
  export JINQIAO_TWILIO_FROM="+15005550006"
  export JINQIAO_TWILIO_API_URL="http://127.0.0.1:8089"
  .venv/bin/python simulators/fake_twilio.py --port 8089 --webhook-base http://127.0.0.1:8000 \
    --auth-token demo-token \
    --behaviour '{"number": "+8613900000001", "call_answer": "no-answer"}' \
    --behaviour '{"number": "+8613900000002", "call_answer": "no-answer"}' \
    --behaviour '{"number": "+8613900000004", "sms_reply": "1", "reply_after": 8, "reply_if": "编号"}' \
    > var/fake_twilio.log 2>&1 &
  pids+=($!)
fi

( sleep 6 && .venv/bin/python simulators/pager.py --mqtt 3 --device pgr-0001 press ) &
pids+=($!)

cat <<MSG

Jinqiao demo: the board on http://127.0.0.1:8000/  (sign in as ${DEMO_USER} / ${DEMO_PASSWORD}),
the API under /api/v1 (OpenAPI at /docs once signed in), MQTT on 127.0.0.1:1883.
In a few seconds a simulated pager presses its button. Watch the log: the building volunteers
(李建国, 赵玉兰) are paged and miss the call; two minutes later the mediator 王芳 is paged and
replies "1"; the pager is told "acknowledged". What the fake Twilio sent: var/fake_twilio.log.
Press again from another terminal:  .venv/bin/python simulators/pager.py --mqtt 3 --device pgr-0001 press

MSG
.venv/bin/jinqiao up
