"""The fake Aliyun against the REAL alibabacloud SMS library (dispatcher/aliyun_sms.py): it checks the
library's ACS3-HMAC-SHA256 signature, the signature name, the template and its values, and the daily
limit per number and template, answering as Aliyun does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.schema import Notification
from dispatcher.aliyun_sms import LIMIT_CODE, AliyunError, AliyunSmsSender, domestic_number
from dispatcher.providers import AliyunSmsNotifier
from dispatcher.sending import SendError
from dispatcher.sms_templates import Template
from simulators.fake_aliyun import FakeAliyun

KEY, SECRET = "LTAI5tFakeKeyId", "fake-secret"
TEMPLATES = {"SMS_900000002": "已确认：您接下了${resident}的呼叫（编号${code}）。完成后回复“${close}”。"}
VALUES = {"resident": "张秀英", "code": "4821", "close": "3 4821"}


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def fake(clock):
    with FakeAliyun({KEY: SECRET}, templates=TEMPLATES, clock=clock, daily_limit=3) as fake:
        yield fake


def sender(fake: FakeAliyun, secret: str = SECRET, sign: str = "金桥") -> AliyunSmsSender:
    return AliyunSmsSender(KEY, secret, sign, endpoint=fake.url, timeout=5)


def test_the_real_library_sends_a_template_and_the_fake_fills_it(fake):
    biz_id = sender(fake).send("+8613900000001", "SMS_900000002", VALUES, out_id="17")
    [sent] = fake.messages
    assert sent.biz_id == biz_id and sent.phone == "13900000001" and sent.out_id == "17"
    assert sent.text == "【金桥】已确认：您接下了张秀英的呼叫（编号4821）。完成后回复“3 4821”。"


def test_a_wrong_secret_is_refused_as_aliyun_refuses_a_bad_signature(fake):
    with pytest.raises(AliyunError) as caught:
        sender(fake, secret="not-the-secret").send("+8613900000001", "SMS_900000002", VALUES, out_id="1")
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.status == 400
    assert not caught.value.temporary and fake.messages == []


def test_a_forged_or_missing_authorization_is_refused():
    with FakeAliyun({KEY: SECRET}) as fake, httpx.Client(timeout=30, base_url=fake.url) as http:
        missing = http.post("/?PhoneNumbers=13900000001", headers={"x-acs-action": "SendSms"})
        forged = http.post(
            "/?PhoneNumbers=13900000001",
            headers={
                "x-acs-action": "SendSms",
                "x-acs-version": "2017-05-25",
                "x-acs-date": "2026-12-03T06:00:00Z",
                "x-acs-signature-nonce": "n1",
                "x-acs-content-sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "authorization": f"ACS3-HMAC-SHA256 Credential={KEY},SignedHeaders=host;x-acs-action;x-acs-content-sha256;"
                "x-acs-date;x-acs-signature-nonce,Signature=" + "0" * 64,
            },
        )
        assert missing.status_code == 400 and missing.json()["Code"] == "IncompleteSignature"
        assert forged.status_code == 400 and forged.json()["Code"] == "SignatureDoesNotMatch"
        assert fake.messages == []


@pytest.mark.parametrize(
    ("to", "sign", "template", "values", "code"),
    [
        ("+8613900000001", "别的签名", "SMS_900000002", VALUES, "isv.SMS_SIGNATURE_ILLEGAL"),
        ("+8613900000001", "金桥", "SMS_1", VALUES, "isv.SMS_TEMPLATE_ILLEGAL"),
        ("+8613900000001", "金桥", "SMS_900000002", {"resident": "张秀英"}, "isv.TEMPLATE_MISSING_PARAMETERS"),
        ("+61400000001", "金桥", "SMS_900000002", VALUES, "isv.MOBILE_NUMBER_ILLEGAL"),
    ],
)
def test_what_aliyun_would_refuse_is_refused_with_its_code(fake, to, sign, template, values, code):
    with pytest.raises(AliyunError) as caught:
        sender(fake, sign=sign).send(to, template, values, out_id="1")
    assert caught.value.code == code and not caught.value.temporary


def test_the_daily_limit_counts_one_number_and_template_over_24_hours(fake, clock):
    s = sender(fake)
    for _ in range(3):
        s.send("+8613900000001", "SMS_900000002", VALUES, out_id="1")
    with pytest.raises(AliyunError) as caught:
        s.send("+8613900000001", "SMS_900000002", VALUES, out_id="1")
    assert caught.value.code == LIMIT_CODE and not caught.value.temporary
    s.send("+8613900000002", "SMS_900000002", VALUES, out_id="2")  # another number is not limited
    clock.at += timedelta(hours=24)
    s.send("+8613900000001", "SMS_900000002", VALUES, out_id="3")  # a day on, the first ones no longer count
    assert len(fake.sent_to("+8613900000001")) == 4


def test_an_endpoint_nobody_answers_is_a_temporary_failure():
    with FakeAliyun({KEY: SECRET}) as fake:
        url = fake.url
    with pytest.raises(AliyunError) as caught:
        AliyunSmsSender(KEY, SECRET, "金桥", endpoint=url, timeout=2).send("+8613900000001", "SMS_1", {}, out_id="1")
    assert caught.value.temporary


@pytest.mark.parametrize(("e164", "domestic"), [("+8613900000001", "13900000001"), ("+85291234567", "85291234567")])
def test_aliyun_gets_mainland_numbers_without_the_country_code(e164, domestic):
    assert domestic_number(e164) == domestic


def test_a_value_longer_than_aliyun_takes_is_refused_and_our_notifier_cuts_it(fake):
    long = {"resident": "张秀英", "code": "4821", "close": "3" * 36}
    with pytest.raises(AliyunError) as caught:
        sender(fake).send("+8613900000001", "SMS_900000002", long, out_id="1")
    assert caught.value.code == "isv.PARAM_LENGTH_LIMIT"
    template = Template(
        "reply_acknowledged", "SMS_900000002", TEMPLATES["SMS_900000002"], ("resident", "code", "close")
    )
    notifier = AliyunSmsNotifier(sender(fake), {"reply_acknowledged": template})
    note = Notification(
        id=5, channel="sms", to_number="+8613900000001", template="reply_acknowledged", template_params=long
    )
    notifier.send(note)
    assert fake.messages[-1].params["close"] == "3" * 35 and fake.messages[-1].out_id == "5"


def test_our_notifier_refuses_a_text_without_a_template_and_a_call():
    notifier = AliyunSmsNotifier(AliyunSmsSender(KEY, SECRET, "金桥"), {})
    with pytest.raises(SendError, match="no Aliyun template for this text"):
        notifier.send(Notification(id=1, channel="sms", to_number="+8613900000001", template=None))
    with pytest.raises(SendError, match="aliyun carries SMS only"):
        notifier.send(Notification(id=2, channel="voice", to_number="+8613900000001"))
    with pytest.raises(SendError, match="no mainland mobile number") as abroad:
        notifier.send(Notification(id=3, channel="sms", to_number="+61400000001", template="reply_help"))
    assert abroad.value.elsewhere and not abroad.value.temporary


def test_out_of_process_it_knows_the_shipped_templates_only(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    from simulators.services import free_port, wait_for_port

    root = Path(__file__).resolve().parents[1]
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "simulators.fake_aliyun", "--port", str(port), "--key-id", KEY]
        + ["--secret", SECRET, "--templates", str(root / "deploy" / "templates.aliyun.yaml")],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        s = AliyunSmsSender(KEY, SECRET, "金桥", endpoint=f"http://127.0.0.1:{port}", timeout=5)
        assert s.send("+8613900000001", "SMS_900000008", {}, out_id="1")  # reply_no_open_alert
        with pytest.raises(AliyunError, match="isv.SMS_TEMPLATE_ILLEGAL"):
            s.send("+8613900000001", "SMS_1", {}, out_id="2")
    finally:
        process.terminate()
        process.wait(10)
