#!/usr/bin/env bash
# The service with a demo: embedded MQTT broker, SQLite, the example registry, and a fake Twilio
# whose simulated people answer: the building volunteers miss the call, the mediator replies "1".
# JINQIAO_DEMO_TWILIO=0 uses the console notifier instead (every message in the log);
# JINQIAO_DEMO_PROVIDER=aliyun a fake Aliyun instead (SMS and IVR calls, no Twilio at all);
# JINQIAO_DEMO_PROVIDER=wecom that, and a fake WeCom: the building volunteers' pages as cards, the
# community work group's robot.
# JINQIAO_HTTP_PORT and JINQIAO_EMBEDDED_BROKER_PORT move it off ports 8000 and 1883.
source "$(dirname "$0")/setup.sh"
ensure_venv  # the service and its simulators only; scripts/test.sh installs the test tools
mkdir -p var
DEMO_DATABASE="${JINQIAO_DATABASE_URL:-sqlite:///$ROOT/var/demo.db}"
# jinqiao.toml in this directory is where every `jinqiao` command run here finds the demo's database
# (`jinqiao user token demo` in a second terminal). A jinqiao.toml of your own is left alone.
MARK="# written by scripts/demo.sh"
if [ ! -e jinqiao.toml ] || head -n1 jinqiao.toml | grep -qxF "$MARK"; then
  printf '%s\nJINQIAO_DATABASE_URL = "%s"\n' "$MARK" "$DEMO_DATABASE" > jinqiao.toml
  CONFIG_NOTE="Other jinqiao commands run in $ROOT use the demo's database (jinqiao.toml)."
else
  printf '%s\nJINQIAO_DATABASE_URL = "%s"\n' "$MARK" "$DEMO_DATABASE" > var/demo.toml
  CONFIG_NOTE="Your own jinqiao.toml is left alone: in another terminal, export JINQIAO_CONFIG=$ROOT/var/demo.toml first."
fi
export JINQIAO_DATABASE_URL="$DEMO_DATABASE"
HTTP_PORT="${JINQIAO_HTTP_PORT:-8000}"
export JINQIAO_PUBLIC_URL="${JINQIAO_PUBLIC_URL:-http://127.0.0.1:$HTTP_PORT}"  # the fake Twilio signs for it
PAGER_URL="${JINQIAO_MQTT_URL:-mqtt://127.0.0.1:${JINQIAO_EMBEDDED_BROKER_PORT:-1883}}"
PROVIDER="${JINQIAO_DEMO_PROVIDER:-twilio}"
[ "${JINQIAO_DEMO_TWILIO:-1}" = "1" ] || PROVIDER=console
DEMO_REGISTRY=deploy/demo/registry.yaml
if [ "$PROVIDER" = "wecom" ]; then  # the building volunteers take their pages as WeCom cards, then SMS
  DEMO_REGISTRY=var/demo-registry-wecom.yaml
  sed -E 's/^(  - \{id: pm-(li|zhao), .*)\}$/\1, channels: [wecom_card, aliyun_sms]}/' deploy/demo/registry.yaml > "$DEMO_REGISTRY"
fi
.venv/bin/jinqiao import "$DEMO_REGISTRY"
# a demo administrator for the board (a real deployment creates its own: see the README)
DEMO_USER="${JINQIAO_DEMO_USER:-demo}"
DEMO_PASSWORD="${JINQIAO_DEMO_PASSWORD:-jinqiao-demo}"
if ! out=$(printf '%s\n' "$DEMO_PASSWORD" | .venv/bin/jinqiao user add "$DEMO_USER" --role admin --password-stdin 2>&1); then
  case "$out" in *"exists already"*) ;; *) echo "$out" >&2; exit 1 ;; esac
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ "$PROVIDER" = "wecom" ]; then
  export JINQIAO_WECOM_CORP_ID="wwdemo0123456789" JINQIAO_WECOM_AGENT_ID=1000002 JINQIAO_WECOM_SECRET="demo-app-secret"
  export JINQIAO_WECOM_CALLBACK_TOKEN="demo-callback-token" JINQIAO_WECOM_API_URL="http://127.0.0.1:8091"
  export JINQIAO_WECOM_ENCODING_AES_KEY="abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
  export JINQIAO_WECOM_ROBOT_URL="http://127.0.0.1:8091/cgi-bin/webhook/send?key=robot-key-0001"
  .venv/bin/python -m simulators.fake_wecom --port 8091 --corp-id "$JINQIAO_WECOM_CORP_ID" \
    --secret "$JINQIAO_WECOM_SECRET" --agent-id "$JINQIAO_WECOM_AGENT_ID" \
    --callback-url "$JINQIAO_PUBLIC_URL/wecom/callback" --token "$JINQIAO_WECOM_CALLBACK_TOKEN" \
    --aes-key "$JINQIAO_WECOM_ENCODING_AES_KEY" \
    --member '{"number": "+8613900000001", "userid": "LiJianGuo", "press": "ack"}' \
    --member '{"number": "+8613900000002", "userid": "ZhaoYuLan"}' \
    > var/fake_wecom.log 2>&1 &
  pids+=($!)
fi
if [ "$PROVIDER" = "aliyun" ] || [ "$PROVIDER" = "wecom" ]; then
  export JINQIAO_SMS_PROVIDER=aliyun JINQIAO_VOICE_PROVIDER=aliyun JINQIAO_ALIYUN_SIGN_NAME="金桥"
  export JINQIAO_ALIYUN_ACCESS_KEY_ID="LTAI5tDemoKeyId" JINQIAO_ALIYUN_ACCESS_KEY_SECRET="demo-secret"
  export JINQIAO_ALIYUN_ENDPOINT="http://127.0.0.1:8090" JINQIAO_ALIYUN_VOICE_ENDPOINT="http://127.0.0.1:8090"
  export JINQIAO_ALIYUN_TEMPLATES="$ROOT/deploy/templates.aliyun.yaml" JINQIAO_ALIYUN_VOICE_SHOW_NUMBER="02160000000"
  export JINQIAO_ALIYUN_PUSH_TOKEN="demo-push-token-0123456789"
  .venv/bin/python -m simulators.fake_aliyun --port 8090 --key-id "$JINQIAO_ALIYUN_ACCESS_KEY_ID" \
    --secret "$JINQIAO_ALIYUN_ACCESS_KEY_SECRET" --push-base "$JINQIAO_PUBLIC_URL" --token "$JINQIAO_ALIYUN_PUSH_TOKEN" \
    --templates deploy/templates.aliyun.yaml \
    --call-behaviour '{"number": "+8613900000001", "status_code": "200003"}' \
    --call-behaviour '{"number": "+8613900000002", "status_code": "200003"}' \
    --call-behaviour '{"number": "+8613900000004", "keys": "1"}' \
    > var/fake_aliyun.log 2>&1 &
  pids+=($!)
elif [ "$PROVIDER" = "twilio" ]; then
  export JINQIAO_TWILIO_ACCOUNT_SID="AC00000000000000000000000000000000"
  export JINQIAO_TWILIO_AUTH_TOKEN="demo-token"
  export JINQIAO_TWILIO_FROM="+15005550006"
  export JINQIAO_TWILIO_API_URL="http://127.0.0.1:8089"
  .venv/bin/python simulators/fake_twilio.py --port 8089 --webhook-base "$JINQIAO_PUBLIC_URL" \
    --auth-token demo-token \
    --behaviour '{"number": "+8613900000001", "call_answer": "no-answer"}' \
    --behaviour '{"number": "+8613900000002", "call_answer": "no-answer"}' \
    --behaviour '{"number": "+8613900000004", "sms_reply": "1", "reply_after": 8, "reply_if": "编号"}' \
    > var/fake_twilio.log 2>&1 &
  pids+=($!)
fi

( sleep 6 && .venv/bin/python simulators/pager.py --mqtt 3 --url "$PAGER_URL" --device pgr-0001 press ) &
pids+=($!)

if [ "$PROVIDER" = "wecom" ]; then
  NOTIFIER="SMS and calls go to a fake Aliyun on 127.0.0.1:8090, cards to a fake WeCom on 127.0.0.1:8091, no Twilio:
the building volunteers get the page as a WeCom card (and an SMS); five seconds later 李建国 presses
我去处理, the card says the call is his, and the work group's robot tells the group (var/fake_wecom.log)."
elif [ "$PROVIDER" = "aliyun" ]; then
  NOTIFIER="SMS and calls go to a fake Aliyun on 127.0.0.1:8090 (its log: var/fake_aliyun.log), no Twilio at all;
the building volunteers (李建国, 赵玉兰) do not answer the call, two minutes later the mediator 王芳 is
called, presses 1, gets a text saying the call is hers, and the pager is told \"acknowledged\"."
elif [ "$PROVIDER" = "twilio" ]; then
  NOTIFIER="SMS and calls go to a fake Twilio on 127.0.0.1:8089 (what it was sent: var/fake_twilio.log); its
simulated people answer: the building volunteers (李建国, 赵玉兰) miss the call, two minutes later the
mediator 王芳 is paged and replies \"1\", and the pager is told \"acknowledged\"."
else
  NOTIFIER="No Twilio (JINQIAO_DEMO_TWILIO=0): the console notifier writes every SMS and call to the log."
fi
cat <<MSG

Jinqiao demo: the board on http://127.0.0.1:${HTTP_PORT}/  (sign in as ${DEMO_USER} / ${DEMO_PASSWORD}),
the API under /api/v1 (OpenAPI at /docs once signed in), MQTT on ${PAGER_URL#mqtt://}.
In a few seconds a simulated pager presses its button.
${NOTIFIER}
${CONFIG_NOTE}
Press again from another terminal:  .venv/bin/python simulators/pager.py --mqtt 3 --url ${PAGER_URL} --device pgr-0001 press
An API token for the demo account:  .venv/bin/jinqiao user token ${DEMO_USER}

MSG
.venv/bin/jinqiao up
