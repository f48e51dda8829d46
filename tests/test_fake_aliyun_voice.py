"""The fake Aliyun's calls against the REAL alibabacloud voice library (dispatcher/aliyun_voice.py):
the signature, the caller number, the TTS templates and their values, and Aliyun's call limits per
callee and template (1 a minute, 5 an hour, 20 a day, failed calls included), answering as Aliyun
does; and our voice notifier's refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.schema import Notification
from dispatcher.aliyun_api import LIMIT_CODE, AliyunError
from dispatcher.aliyun_voice import AliyunVoiceSender
from dispatcher.providers import AliyunVoiceNotifier
from dispatcher.sending import SendError
from dispatcher.sms_templates import Template
from simulators.fake_aliyun import FakeAliyun
from tests.test_fake_aliyun import KEY, SECRET, Clock

SHOW = "02160000000"
PAGE = "金桥紧急呼叫。${resident}，住址${address}。按1确认前往，按2转给下一级。"
TEMPLATES = {"TTS_1": PAGE, "TTS_2": "已收到您的按键1。", "TTS_3": "已收到您的按键2。"}
VALUES = {"resident": "张秀英", "address": "幸福里3幢"}
LI = "+8613900000001"


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    with FakeAliyun({KEY: SECRET}, templates=TEMPLATES, clock=clock, show_numbers=(SHOW,)) as fake:
        yield fake


def caller(fake: FakeAliyun, secret: str = SECRET, show: str = SHOW) -> AliyunVoiceSender:
    return AliyunVoiceSender(KEY, secret, show, endpoint=fake.url, timeout=5)


def test_an_ivr_call_speaks_the_template_and_plays_the_template_of_the_key_pressed(fake):
    fake.voice.set_behaviour(LI, keys="1")
    call_id = caller(fake).ivr_call(LI, "TTS_1", VALUES, {"1": "TTS_2", "2": "TTS_3"}, out_id="17")
    [call] = fake.voice.calls
    assert (call.call_id, call.callee, call.out_id, call.dtmf) == (call_id, "13900000001", "17", "1")
    assert call.said == "金桥紧急呼叫。张秀英，住址幸福里3幢。按1确认前往，按2转给下一级。已收到您的按键1。"
    assert call.menu == {"1": "TTS_2", "2": "TTS_3"}


def test_a_tts_call_hears_no_key(fake):
    fake.voice.set_behaviour(LI, keys="1")
    caller(fake).tts_call(LI, "TTS_1", VALUES, out_id="3")
    [call] = fake.voice.calls
    assert call.action == "SingleCallByTts" and call.dtmf is None and call.menu == {}


def test_a_wrong_secret_is_refused_as_a_bad_signature(fake):
    with pytest.raises(AliyunError) as caught:
        caller(fake, secret="not-the-secret").tts_call(LI, "TTS_1", VALUES, out_id="1")
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.status == 400
    assert fake.voice.calls == []


@pytest.mark.parametrize(
    ("show", "to", "code", "values", "error"),
    [
        ("02199999999", LI, "TTS_1", VALUES, "isv.DISPLAY_NUMBER_ILLEGAL"),
        (SHOW, "+86123", "TTS_1", VALUES, "isv.MOBILE_NUMBER_ILLEGAL"),
        (SHOW, LI, "TTS_9", VALUES, "isv.TTS_TEMPLATE_ILLEGAL"),
        (SHOW, LI, "TTS_1", {"resident": "张秀英"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
    ],
)
def test_what_aliyun_would_not_call_is_refused_with_its_code(fake, show, to, code, values, error):
    with pytest.raises(AliyunError) as caught:
        caller(fake, show=show).tts_call(to, code, values, out_id="1")
    assert caught.value.code == error and caught.value.status == 200 and not caught.value.temporary
    assert fake.voice.calls == []


def test_an_ivr_menu_naming_an_unknown_template_is_refused(fake):
    with pytest.raises(AliyunError, match="isv.TTS_TEMPLATE_ILLEGAL"):
        caller(fake).ivr_call(LI, "TTS_1", VALUES, {"1": "TTS_404"}, out_id="1")


def test_one_call_a_minute_five_an_hour_twenty_a_day_per_callee_and_template(fake, clock):
    fake.voice.set_behaviour(LI, status_code="200003")  # unanswered calls count too
    placed = caller(fake)

    def over_the_limit() -> str | None:
        try:
            placed.tts_call(LI, "TTS_1", VALUES, out_id="1")
        except AliyunError as exc:
            assert exc.code == LIMIT_CODE and not exc.temporary
            return str(exc)
        return None

    assert over_the_limit() is None
    assert "分钟级" in (over_the_limit() or "")  # a second call in the same minute
    assert placed.tts_call("+8613900000002", "TTS_1", VALUES, out_id="2")  # another callee
    for _ in range(4):
        clock.at += timedelta(minutes=1)
        assert over_the_limit() is None
    clock.at += timedelta(minutes=1)
    assert "小时级" in (over_the_limit() or "")  # the sixth in an hour
    for _ in range(15):
        clock.at += timedelta(hours=1)
        assert over_the_limit() is None
    clock.at += timedelta(hours=1)
    assert "天级" in (over_the_limit() or "")  # the 21st in a day: 5 + 15 before it
    assert len(fake.voice.calls_to(LI)) == 20


def voice_notifier(fake: FakeAliyun, ivr: bool = True) -> AliyunVoiceNotifier:
    templates = {
        "page_voice": Template("page_voice", "TTS_1", PAGE, ("resident", "address")),
        "ivr_key_accept": Template("ivr_key_accept", "TTS_2", TEMPLATES["TTS_2"], ()),
        "ivr_key_pass": Template("ivr_key_pass", "TTS_3", TEMPLATES["TTS_3"], ()),
    }
    return AliyunVoiceNotifier(caller(fake), templates, ivr=ivr)


def test_our_notifier_fills_the_page_template_from_the_row(fake, clock):
    note = Notification(
        id=9, channel="voice", to_number=LI, template="page_voice", template_params=VALUES | {"tier": "x"}
    )
    voice_notifier(fake).send(note)
    clock.at += timedelta(minutes=1)  # one call a minute to a callee
    voice_notifier(fake, ivr=False).send(note)
    ivr, tts = fake.voice.calls
    assert (ivr.action, ivr.params, ivr.out_id) == ("IvrCall", VALUES, "9")
    assert (tts.action, tts.params) == ("SingleCallByTts", VALUES)


def test_our_notifier_refuses_a_text_a_number_abroad_and_a_call_without_a_template(fake):
    notifier = voice_notifier(fake)
    with pytest.raises(SendError, match="aliyun voice carries calls only"):
        notifier.send(Notification(id=1, channel="sms", to_number=LI, template="page_voice"))
    with pytest.raises(SendError, match="no mainland number") as abroad:
        notifier.send(Notification(id=2, channel="voice", to_number="+61400000001", template="page_voice"))
    assert abroad.value.elsewhere and not abroad.value.temporary
    with pytest.raises(SendError, match="no Aliyun voice template for this call") as untemplated:
        notifier.send(Notification(id=3, channel="voice", to_number=LI, template=None))
    assert untemplated.value.elsewhere
    fake.voice.limits = ((timedelta(minutes=1), 0, "分钟"),)
    with pytest.raises(SendError, match=LIMIT_CODE) as limited:
        notifier.send(Notification(id=4, channel="voice", to_number=LI, template="page_voice", template_params=VALUES))
    assert limited.value.limit and limited.value.elsewhere
    assert fake.voice.calls == []
