"""The dispatcher with Aliyun as its provider, against the fake Aliyun and its pushes over HTTP:
what the Aliyun SMS and voice tests share."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from sqlalchemy import select

from core.db import session_factory, transaction
from core.schema import Alert, Event
from core.settings import load_settings
from dispatcher.service import build_dispatcher
from dispatcher.sms_templates import read_templates, read_voice_templates
from jinqiao.runtime import dispatcher_app
from registry.store import import_registry
from simulators.fake_aliyun import FakeAliyun
from simulators.fake_twilio import FakeTwilio
from simulators.fake_wecom import FakeWeCom
from simulators.services import wait_for_port
from web.app import Readiness

TEMPLATES = Path(__file__).resolve().parents[2] / "deploy" / "templates.aliyun.yaml"
KEY, SECRET, TOKEN = "LTAI5tFakeKeyId", "fake-secret", "push-token-0123456789abcdef"
TWILIO_SID = "AC" + "0" * 32
LI, ZHAO, WANG = "+8613900000001", "+8613900000002", "+8613900000004"  # building, building, mediator
NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai; the clock stands still
SHOW_NUMBER = "02160000000"  # the number the fake Aliyun account calls from
CORP, CORP_SECRET, AGENT = "ww0123456789abcdef", "wecom-app-secret", 1000002
CALLBACK_TOKEN, AES_KEY = "wecom-callback-token", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
MEMBERS = {LI: "LiJianGuo", ZHAO: "ZhaoYuLan", WANG: "WangFang"}  # the community's WeCom members


@contextmanager
def running(
    db_url, engine, example_registry, tmp_path, with_twilio: bool = False, voice: str | None = None, wecom: bool = False
):
    """The dispatcher and its webhooks with Aliyun for SMS (and with `voice`, ivr or tts, for calls)
    against the fake Aliyun; Twilio too with `with_twilio`, the fake WeCom's cards with `wecom`."""
    registry = tmp_path / "registry.yaml"
    text = example_registry.read_text(encoding="utf-8")
    if voice is None:  # the example's tiers page by SMS only then: no voice provider in the deployment
        text = text.replace("channels: [sms, voice]", "channels: [sms]")
    registry.write_text(text, encoding="utf-8")
    # the dispatcher's socket is bound first and handed to uvicorn: a port only picked here could be
    # given to one of the fakes below (each binds port 0) before uvicorn bound it
    listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    public = f"http://127.0.0.1:{port}"
    codes = {t.code: t.text for t in [*read_templates(TEMPLATES).values(), *read_voice_templates(TEMPLATES).values()]}
    fake = FakeAliyun(
        {KEY: SECRET},
        report_url=f"{public}/aliyun/sms-report?token={TOKEN}",
        up_url=f"{public}/aliyun/sms-up?token={TOKEN}",
        voice_report_url=f"{public}/aliyun/voice-report?token={TOKEN}",
        voice_call_report_url=f"{public}/aliyun/voice-call-report?token={TOKEN}",
        show_numbers=(SHOW_NUMBER,),
        templates=codes,
        clock=lambda: NOW,
    ).start()
    voice_settings = {}
    if voice:
        voice_settings = dict(
            voice_provider="aliyun",
            aliyun_voice_endpoint=fake.url,
            aliyun_voice_show_number=SHOW_NUMBER,
            aliyun_voice_mode=voice,
        )
    twilio = None
    twilio_settings = {}
    if with_twilio:
        twilio = FakeTwilio(auth_token="twilio-token", account_sid=TWILIO_SID, webhook_base=public, speed=20)
        twilio.start()
        twilio_settings = dict(
            twilio_account_sid=TWILIO_SID,
            twilio_auth_token="twilio-token",
            twilio_from="+15005550006",
            twilio_api_url=twilio.url,
        )
    wecom_fake = None
    wecom_settings: dict = {}
    if wecom:
        wecom_fake = FakeWeCom(
            CORP, CORP_SECRET, AGENT, members=MEMBERS, callback_url=f"{public}/wecom/callback",
            token=CALLBACK_TOKEN, aes_key=AES_KEY, clock=lambda: NOW,
        ).start()  # fmt: skip
        wecom_settings = dict(
            wecom_corp_id=CORP,
            wecom_agent_id=AGENT,
            wecom_secret=CORP_SECRET,
            wecom_callback_token=CALLBACK_TOKEN,
            wecom_encoding_aes_key=AES_KEY,
            wecom_api_url=wecom_fake.url,
            wecom_robot_url=wecom_fake.robot_url,
        )
    settings = load_settings(
        database_url=db_url,
        public_url=public,
        http_port=port,
        sms_provider="aliyun",
        aliyun_access_key_id=KEY,
        aliyun_access_key_secret=SECRET,
        aliyun_sign_name="金桥",
        aliyun_endpoint=fake.url,
        aliyun_templates=str(TEMPLATES),
        aliyun_push_token=TOKEN,
        sms_per_second=50,
        mediator_summary_at="off",
        **twilio_settings,
        **voice_settings,
        **wecom_settings,
    )
    # on the dispatcher's clock: the example's 10:00 check-in is then no matter of the wall clock
    import_registry(session_factory(engine), registry, now=NOW)
    dispatcher = build_dispatcher(settings, engine, now=lambda: NOW)
    app = dispatcher_app(Readiness(engine), dispatcher, engine)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    http = threading.Thread(target=server.run, kwargs={"sockets": [listening]}, daemon=True)
    dispatcher.engine.start()
    http.start()
    wait_for_port(port)
    try:
        yield {
            "fake": fake,
            "twilio": twilio,
            "wecom": wecom_fake,
            "public": public,
            "dispatcher": dispatcher,
            "sessions": session_factory(engine),
        }
    finally:
        server.should_exit = True
        http.join(5)
        listening.close()
        dispatcher.engine.stop()
        fake.stop()
        for other in (twilio, wecom_fake):
            if other:
                other.stop()


def press(system, event_id: str = "press-1") -> None:
    with transaction(system["sessions"]) as s:
        s.add(Event(device_id="pgr-0001", event_id=event_id, type="alarm", received_at=NOW, payload="{}"))
    system["dispatcher"].engine.wake()


def alert(system) -> Alert:
    with system["sessions"]() as s:
        found = s.scalars(select(Alert).order_by(Alert.id.desc())).first()
        assert found is not None
        s.expunge(found)
        return found


def state(system) -> str | None:
    with system["sessions"]() as s:
        return s.scalar(select(Alert.state).order_by(Alert.id.desc()).limit(1))
