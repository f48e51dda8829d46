"""The whole chain with real parts: Mosquitto, the gateway, the dispatcher, HTTP webhooks, and the
real twilio library against our fake Twilio, where a volunteer answers by SMS."""

from __future__ import annotations

import threading
import time

import httpx
import pytest
import uvicorn

from core.db import session_factory
from core.settings import load_settings
from devices.protocol import Topics
from dispatcher.service import build_dispatcher
from gateway.service import Gateway
from jinqiao.runtime import dispatcher_app
from registry.store import import_registry
from simulators.fake_twilio import FakeTwilio
from simulators.services import free_port, wait_for_port
from tests.support.mqtt_peer import Peer
from tests.support.web import bearer, make_users
from web.app import Readiness

T = Topics("jinqiao")
SID, TOKEN = "AC" + "0" * 32, "test-token"


@pytest.fixture
def system(db_url, engine, mosquitto, example_registry):
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    twilio = FakeTwilio(auth_token=TOKEN, account_sid=SID, webhook_base=public, speed=20)
    twilio.start()
    settings = load_settings(
        database_url=db_url,
        mqtt_url=mosquitto.url,
        public_url=public,
        http_port=port,
        twilio_account_sid=SID,
        twilio_auth_token=TOKEN,
        twilio_from="+15005550006",
        twilio_api_url=twilio.url,
        sms_per_second=50,
        calls_per_second=50,
    )
    import_registry(session_factory(engine), example_registry)
    dispatcher = build_dispatcher(settings, engine)
    gateway = Gateway(engine, mosquitto.url, "jinqiao", "e2e")
    gateway.ingest.on_stored = dispatcher.engine.wake
    app = dispatcher_app(Readiness(engine, {"broker": gateway.link.connected}), dispatcher, engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    http = threading.Thread(target=server.run, daemon=True)
    dispatcher.engine.start()
    gateway.start()
    http.start()
    wait_for_port(port)
    assert gateway.link.wait_connected(10)
    tokens = make_users(session_factory(engine), ["viewer"])
    yield {
        "twilio": twilio,
        "public": public,
        "dispatcher": dispatcher,
        "mosquitto": mosquitto,
        "token": tokens["viewer"],
    }
    server.should_exit = True
    http.join(5)
    gateway.stop()
    dispatcher.engine.stop()
    twilio.stop()


def states(peer: Peer) -> list[str]:
    return [f["state"] for f in peer.feedback()]


def test_press_reaches_the_volunteers_who_reply_1_and_the_device_is_told(system):
    twilio = system["twilio"]
    twilio.set_behaviour("+8613900000001", sms_reply="1", reply_after=0.3, reply_if="编号")
    peer = Peer(system["mosquitto"].port, "pgr-0001", subscribe=[T.feedback("pgr-0001")])
    try:
        t0 = time.monotonic()
        peer.publish(T.event("pgr-0001"), {"id": "press-1", "type": "alarm"})
        peer.wait_for(lambda p: "received" in states(p))
        twilio.wait_for(lambda: [m for m in twilio.messages if m.to == "+8613900000001"], timeout=10)
        first_sms = time.monotonic() - t0
        peer.wait_for(lambda p: "acknowledged" in states(p), timeout=20)
        ack = [f for f in peer.feedback() if f["state"] == "acknowledged"][0]
        assert ack["ref"] == "press-1" and ack["alert"]
        # the volunteer is told, the other volunteer is stood down
        twilio.wait_for(
            lambda: [m for m in twilio.messages if m.to == "+8613900000001" and "已确认" in (m.body or "")], timeout=10
        )
        twilio.wait_for(
            lambda: [m for m in twilio.messages if m.to == "+8613900000002" and "无需前往" in (m.body or "")],
            timeout=10,
        )
        assert first_sms < 5
        with httpx.Client(timeout=30, base_url=system["public"], headers=bearer(system["token"])) as http:
            alert = http.get(f"/api/v1/alerts/{http.get('/api/v1/alerts').json()[0]['id']}").json()
        assert alert["state"] == "acknowledged" and alert["acknowledged_by"] == "李建国"
        assert [e["what"] for e in alert["timeline"]][:2] == ["opened", "tier_notified"]
    finally:
        peer.close()


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/status", "/twilio/voice"])
def test_webhooks_without_a_valid_signature_get_403_and_change_nothing(system, path):
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        missing = http.post(path, data={"From": "+8613900000001", "Body": "1", "MessageSid": "SMx"})
        forged = http.post(
            path,
            data={"From": "+8613900000001", "Body": "1", "MessageSid": "SMy"},
            headers={"X-Twilio-Signature": "bm90IGEgc2lnbmF0dXJl"},
        )
    assert missing.status_code == 403 and forged.status_code == 403
    from sqlalchemy import func, select

    from core.schema import InboundSms

    with system["dispatcher"].alerts.sessions() as s:
        assert s.scalar(select(func.count()).select_from(InboundSms)) == 0


def test_readiness_reports_database_and_broker(system):
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        r = http.get("/readyz")
        assert r.status_code == 200 and r.json()["checks"] == {"database": "ok", "broker": "ok"}
        assert http.get("/healthz").json() == {"status": "ok"}
        assert "jinqiao_gateway_events_accepted_total" in http.get("/metrics").text
