"""Aliyun voice end to end: the real alibabacloud-dyvmsapi library against the fake Aliyun, its
VoiceCallReport and VoiceReport pushes to our webhooks over HTTP, on SQLite and PostgreSQL; SMS by
Aliyun too, and no Twilio account unless a test says so.

press → an IVR call (the page's TTS template, keys 1 and 2) → key 1 acknowledges, and a text
confirms; key 2 passes to the mediator at once; a push repeated → nothing more; a TTS-only call
speaks and the SMS reply acknowledges; a busy line is a failed call; a key 1 after someone else took
the call → an SMS saying who did; every call and text of the tier failing → the next tier at once;
a callee over Aliyun's call limit → the call goes by Twilio, or the timeline says nobody carries
it; a wrong token → 403."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update
from structlog.testing import capture_logs

from core.db import transaction
from core.schema import DeliveryReport, EscalationTier, Notification, Responder, TimelineEntry
from core.settings import SettingsError, load_settings
from dispatcher.aliyun_voice import AliyunVoiceSender
from dispatcher.aliyun_webhooks import call_form
from dispatcher.call_keys import first_key
from dispatcher.channel_check import unserved
from dispatcher.notifiers import TwilioNotifier
from dispatcher.sending import SendError
from dispatcher.service import check_provider_templates, served_channels
from dispatcher.sms_templates import TemplateError, read_voice_templates
from dispatcher.twilio_adapter import TwilioSender
from tests.support.aliyun import (
    KEY,
    LI,
    SECRET,
    SHOW_NUMBER,
    TEMPLATES,
    TOKEN,
    WANG,
    ZHAO,
    alert,
    press,
    running,
    state,
)
from tests.support.waiting import eventually

VOICE = read_voice_templates(TEMPLATES)


@pytest.fixture
def ivr(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, voice="ivr") as system:
        yield system


@pytest.fixture
def tts(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, voice="tts") as system:
        yield system


@pytest.fixture
def ivr_and_twilio(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, with_twilio=True, voice="ivr") as system:
        yield system


def texts_to(system, number: str, containing: str) -> list[str]:
    return [m.text for m in system["fake"].sent_to(number) if containing in m.text]


def entries(system, what: str) -> list[TimelineEntry]:
    with system["sessions"]() as s:
        return list(s.scalars(select(TimelineEntry).where(TimelineEntry.what == what).order_by(TimelineEntry.id)))


def call_row(system, number: str) -> Notification:
    """The page call to `number`; an empty row until the step has queued it."""
    with system["sessions"]() as s:
        found = s.scalars(
            select(Notification).where(
                Notification.to_number == number, Notification.channel == "voice", Notification.purpose == "page"
            )
        ).one_or_none()
        if found is None:
            return Notification()
        s.expunge(found)
        return found


def test_an_ivr_call_speaks_the_page_and_key_1_acknowledges_and_a_text_confirms(ivr):
    fake = ivr["fake"]
    fake.voice.set_behaviour(LI, keys="1")
    press(ivr)
    [call] = fake.wait_for(lambda: fake.voice.calls_to(LI))
    assert call.action == "IvrCall" and call.show_number == SHOW_NUMBER
    assert call.code == VOICE["page_voice"].code and call.params["resident"] == "张秀英"
    assert call.menu == {"1": VOICE["ivr_key_accept"].code, "2": VOICE["ivr_key_pass"].code}
    assert call.said.startswith("金桥紧急呼叫。张秀英，住址") and call.said.endswith("稍后短信会告诉您是否由您前往。")
    eventually(lambda: state(ivr) == "acknowledged", what="the alert acknowledged by key 1")
    assert alert(ivr).acknowledged_by == "李建国"
    [ack] = entries(ivr, "acknowledged")
    assert (ack.actor, ack.channel) == ("李建国", "voice")
    fake.wait_for(lambda: texts_to(ivr, LI, "已确认：您接下了张秀英的呼叫"))  # the outcome, by SMS
    fake.wait_for(lambda: texts_to(ivr, ZHAO, "已由李建国接下，无需前往"))
    eventually(lambda: call_row(ivr, LI).status == "delivered", what="the call's record read as answered")
    assert call_row(ivr, LI).provider_sid == call.call_id


def test_key_2_passes_the_call_to_the_mediator_at_once(ivr):
    fake = ivr["fake"]
    fake.voice.set_behaviour(LI, keys="2")
    press(ivr)
    fake.wait_for(lambda: fake.voice.calls_to(WANG), timeout=15)  # long before the building tier's 2 minutes
    fake.wait_for(lambda: texts_to(ivr, WANG, "您是调解员"))
    assert alert(ivr).state == "triggered"
    fake.wait_for(lambda: texts_to(ivr, LI, "已转下一级"))
    [passed] = entries(ivr, "passed")
    assert (passed.actor, passed.channel) == ("李建国", "voice")


def test_a_key_pushed_again_and_again_is_acted_on_once(ivr):
    fake = ivr["fake"]
    fake.voice.set_behaviour(LI, keys="1", repeat=3)  # the progress and the record, three times each
    press(ivr)
    eventually(lambda: state(ivr) == "acknowledged", what="acknowledged")
    fake.wait_for(
        lambda: len([p for p in fake.pushes if p.kind == "VoiceReport" and p.items[0]["callee"] == LI[3:]]) == 3
    )
    fake.wait_for(lambda: len([p for p in fake.pushes if p.kind == "VoiceCallReport"]) == 3)
    assert len(entries(ivr, "acknowledged")) == 1
    fake.wait_for(lambda: texts_to(ivr, LI, "已确认"))
    assert len(texts_to(ivr, LI, "已确认")) == 1  # one confirmation, not six
    with ivr["sessions"]() as s:
        keys = s.scalars(select(DeliveryReport).where(DeliveryReport.status == "key 1")).all()
    assert [k.detail for k in keys] == [{"dtmf": "1"}]
    assert all(p.status == 200 and p.answer == {"code": 0, "msg": "接收成功"} for p in fake.pushes)


def test_a_tts_call_speaks_the_page_only_and_the_sms_reply_acknowledges(tts):
    fake = tts["fake"]
    fake.voice.set_behaviour(LI, keys="1")  # pressed, but a TTS call listens for no key
    fake.set_behaviour(LI, reply="1")
    press(tts)
    [call] = fake.wait_for(lambda: fake.voice.calls_to(LI))
    assert call.action == "SingleCallByTts" and call.menu == {} and call.dtmf is None
    assert call.said.startswith("金桥紧急呼叫。张秀英") and "按键" not in call.said
    eventually(lambda: state(tts) == "acknowledged", what="acknowledged by the SMS reply")
    [ack] = entries(tts, "acknowledged")
    assert (ack.actor, ack.channel) == ("李建国", "sms")
    eventually(lambda: call_row(tts, LI).provider_status == "completed", what="the call's record")


def test_a_busy_line_is_a_failed_call_on_the_timeline(ivr):
    fake = ivr["fake"]
    fake.voice.set_behaviour(LI, status_code="200002")
    press(ivr)
    eventually(lambda: call_row(ivr, LI).status == "failed", what="the busy call failed")
    row = call_row(ivr, LI)
    assert row.provider_status == "busy" and row.failed
    assert alert(ivr).state == "triggered"  # 赵玉兰 and the texts are still out: nothing moves yet
    statuses = [e.detail["status"] for e in entries(ivr, "delivery_status") if e.detail.get("sid") == row.provider_sid]
    assert statuses == ["busy"]


def test_over_the_call_limit_the_call_goes_by_twilio_and_the_timeline_says_so(ivr_and_twilio):
    system = ivr_and_twilio
    fake, twilio = system["fake"], system["twilio"]
    earlier = AliyunVoiceSender(KEY, SECRET, SHOW_NUMBER, endpoint=fake.url)
    values = {"resident": "王伟", "address": "幸福里5幢", "what": "按下呼叫器", "tier": "您是楼道党员。"}
    earlier.tts_call(LI, VOICE["page_voice"].code, values, out_id="0")  # 李建国's one call of this minute
    press(system)
    twilio.wait_for(lambda: [c for c in twilio.calls if c.to == LI], timeout=15)
    assert [r.code for r in fake.refusals if r.phone == LI[3:]] == ["isv.BUSINESS_LIMIT_CONTROL"]
    fake.wait_for(lambda: fake.voice.calls_to(ZHAO))  # 赵玉兰 had no call this minute: by Aliyun
    # the row's result (and its refusal) is written once Twilio has answered the call's request
    refused = eventually(lambda: [e for e in entries(system, "channel_refused") if e.actor == "李建国"], what="refusal")
    assert [(e.detail["by"], e.detail["then"]) for e in refused] == [("aliyun", "twilio")]
    assert "isv.BUSINESS_LIMIT_CONTROL" in refused[0].detail["reason"]
    eventually(lambda: (call_row(system, LI).provider_sid or "").startswith("CA"), what="Twilio's call on the row")


def test_over_the_call_limit_with_no_other_provider_the_timeline_says_nobody_carries_it(ivr):
    fake = ivr["fake"]
    fake.voice.limits = ((fake.voice.limits[0][0], 0, "分钟"),)  # every callee over the limit
    press(ivr)
    eventually(lambda: call_row(ivr, LI).failed and call_row(ivr, ZHAO).failed, what="both calls failed on the limit")
    assert "isv.BUSINESS_LIMIT_CONTROL" in (call_row(ivr, LI).last_error or "")
    refused = {e.actor: e.detail["then"] for e in entries(ivr, "channel_refused")}
    assert refused.get("李建国", "missing") is None and refused.get("赵玉兰", "missing") is None
    fake.wait_for(lambda: texts_to(ivr, LI, "张秀英"))  # the page's SMS went all the same


@pytest.mark.parametrize("path", ["/aliyun/voice-report", "/aliyun/voice-call-report"])
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_a_voice_push_without_the_token_is_refused_and_changes_nothing(ivr, path, token):
    press(ivr)
    call = ivr["fake"].wait_for(lambda: ivr["fake"].voice.calls_to(LI))[0]
    items = [{"call_id": call.call_id, "out_id": call.out_id, "status_code": "300000", "dtmf": "1"}]
    with httpx.Client(timeout=30, base_url=ivr["public"]) as http:
        r = http.post(path, params={"token": token} if token else None, json=items)
    assert r.status_code == 403
    with ivr["sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryReport).where(DeliveryReport.status == "key 1")) == 0
    assert alert(ivr).state == "triggered"


def test_a_voice_push_that_is_no_array_is_a_clear_400(ivr):
    with httpx.Client(timeout=30, base_url=ivr["public"]) as http:
        r = http.post("/aliyun/voice-report", params={"token": TOKEN}, content=b'{"call_id": "1"}')
    assert r.status_code == 400 and "JSON array" in r.json()["detail"]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("200000", "completed"),
        ("200001", "completed"),
        ("200002", "busy"),
        ("200003", "no-answer"),
        ("200010", "failed"),
    ],
)
def test_a_call_record_reads_as_a_twilio_call_status(code, status):
    n, form = call_form({"call_id": "7^1", "out_id": "12", "status_code": code, "duration": "0"})
    assert n == "12" and form["CallSid"] == "7^1" and form["CallStatus"] == status
    assert form.get("ErrorCode") == (code if status == "failed" else None)


@pytest.mark.parametrize(("dtmf", "key"), [("1", "1"), ("2", "2"), ("51", "1"), ("*9", None), ("", None), ("21", "2")])
def test_the_first_key_that_means_something_counts(dtmf, key):
    assert first_key(dtmf) == key


def test_aliyun_voice_needs_its_number_and_the_voice_templates_before_it_starts(tmp_path):
    given = dict(
        voice_provider="aliyun",
        aliyun_access_key_id=KEY,
        aliyun_access_key_secret=SECRET,
        aliyun_templates=str(TEMPLATES),
        aliyun_push_token=TOKEN,
    )
    with pytest.raises(SettingsError, match="JINQIAO_VOICE_PROVIDER=aliyun needs JINQIAO_ALIYUN_VOICE_SHOW_NUMBER"):
        load_settings(**given)
    complete = {"aliyun_voice_show_number": SHOW_NUMBER}
    sms_only = tmp_path / "templates.yaml"  # the SMS templates alone: no voice section
    text = TEMPLATES.read_text(encoding="utf-8")
    sms_only.write_text(text[: text.index("\nvoice:")], encoding="utf-8")
    with pytest.raises(TemplateError, match="JINQIAO_ALIYUN_TEMPLATES: .*needs a `voice:` mapping"):
        check_provider_templates(load_settings(**(given | complete | {"aliyun_templates": str(sms_only)})))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("${resident}，住址${address}", "${name}，住址${address}"), encoding="utf-8")
    with pytest.raises(TemplateError, match=r"message page_voice: its template uses \$\{name\}, which it cannot fill"):
        check_provider_templates(load_settings(**(given | complete | {"aliyun_templates": str(wrong)})))
    check_provider_templates(load_settings(**given, aliyun_voice_show_number=SHOW_NUMBER))  # the shipped file fits


def test_a_key_1_after_someone_else_took_the_call_is_answered_by_sms_with_who_did(ivr):
    fake = ivr["fake"]
    fake.set_behaviour(ZHAO, reply="1")  # 赵玉兰 replies 1 to her SMS first
    press(ivr)
    eventually(lambda: state(ivr) == "acknowledged", what="acknowledged by 赵玉兰's reply")
    call = fake.wait_for(lambda: fake.voice.calls_to(LI))[0]
    late = [{"call_id": call.call_id, "out_id": call.out_id, "status_code": "300000", "dtmf": "1"}]
    with httpx.Client(timeout=30, base_url=ivr["public"]) as http:
        assert http.post("/aliyun/voice-call-report", params={"token": TOKEN}, json=late).status_code == 200
    fake.wait_for(lambda: texts_to(ivr, LI, "已由赵玉兰于14:00确认，无需前往"))
    assert alert(ivr).acknowledged_by == "赵玉兰" and len(entries(ivr, "acknowledged")) == 1


def test_when_every_call_and_text_of_the_building_fails_the_mediator_is_called_at_once(ivr):
    fake = ivr["fake"]
    for number in (LI, ZHAO):
        fake.set_behaviour(number, success=False, err_code="MOBILE_NOT_ON_SERVICE")
        fake.voice.set_behaviour(number, status_code="200011")  # out of service
    press(ivr)
    fake.wait_for(lambda: fake.voice.calls_to(WANG), timeout=15)  # long before the tier's 2 minutes
    assert alert(ivr).state == "triggered" and alert(ivr).tier_index == 1
    assert call_row(ivr, LI).provider_status == "failed" and call_row(ivr, ZHAO).failed


def test_lists_naming_a_provider_this_deployment_lacks_are_named_at_start_up(ivr):
    with transaction(ivr["sessions"]) as s:  # WeCom is not set up here; Aliyun voice is
        s.execute(update(Responder).where(Responder.id == "pm-li").values(channels=["wecom_card", "aliyun_voice"]))
        s.execute(update(EscalationTier).where(EscalationTier.position == 2).values(channels=["sms", "twilio_voice"]))
    with ivr["sessions"]() as s:
        missing = unserved(s, served_channels(ivr["dispatcher"].outbox.notifier))
    assert missing == ["tier hotline: twilio_voice", "responder pm-li: wecom_card"]
    with capture_logs() as logs:  # what Dispatcher.start says before it starts all the same
        assert ivr["dispatcher"].warn_unserved_channels() == missing
    [said] = [e for e in logs if e["event"] == "channels.not_set_up"]
    assert said["lists"] == missing


def test_a_twilio_only_deployment_refuses_a_card_instead_of_calling_the_person():
    twilio = TwilioNotifier(
        TwilioSender("AC" + "0" * 32, "token", "+15005550006"), "http://127.0.0.1:1", "+15005550006"
    )
    with pytest.raises(SendError, match="card is not set up in this deployment") as refused:
        twilio.send(Notification(id=1, channel="card", to_number=LI, body="x"))
    assert not refused.value.temporary
    assert served_channels(twilio) == {"twilio_sms", "twilio_voice"}
