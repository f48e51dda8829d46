"""Aliyun SMS end to end: the real alibabacloud library against the fake Aliyun, its SmsReport and
SmsUp pushes to our webhooks over HTTP, on SQLite and PostgreSQL.

press → page by Aliyun SMS (template and values) → the volunteer replies 1 by SmsUp → acknowledged;
a 2 → the next tier; a failed delivery report → the next tier; a push repeated → nothing more; a
wrong token → 403 and nothing; the daily limit → a failed send, and the step moves on."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update

from core.db import transaction
from core.schema import DeliveryReport, InboundSms, Notification, Responder, TimelineEntry
from dispatcher import messages as m
from dispatcher.aliyun_sms import AliyunSmsSender
from dispatcher.aliyun_webhooks import e164, report_form
from dispatcher.sms_templates import read_templates
from simulators.fake_aliyun import FakeAliyun
from tests.support.aliyun import KEY, LI, SECRET, TEMPLATES, TOKEN, WANG, ZHAO, alert, press, running, state
from tests.support.waiting import eventually


@pytest.fixture
def system(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path) as running_system:
        yield running_system


@pytest.fixture
def with_twilio(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, with_twilio=True) as running_system:
        yield running_system


def texts_to(fake: FakeAliyun, number: str, containing: str = "") -> list[str]:
    return [m.text for m in fake.sent_to(number) if containing in m.text]


def count(system, table) -> int:
    with system["sessions"]() as s:
        return s.scalar(select(func.count()).select_from(table))


def test_a_press_pages_by_aliyun_and_a_reply_1_by_smsup_acknowledges(system):
    fake = system["fake"]
    fake.set_behaviour(LI, reply="1")
    press(system)
    [page] = fake.wait_for(lambda: fake.sent_to(LI))
    assert page.template_code == read_templates(TEMPLATES)["page_sms"].code
    assert page.params["resident"] == "张秀英" and page.params["code"] == alert(system).code
    assert page.text.startswith("【金桥】张秀英（住址：") and "回复1确认前往" in page.text
    eventually(lambda: state(system) == "acknowledged", what="the alert acknowledged by the SmsUp reply")
    assert alert(system).acknowledged_by == "李建国"
    fake.wait_for(lambda: texts_to(fake, LI, "已确认：您接下了张秀英的呼叫"))
    fake.wait_for(lambda: texts_to(fake, ZHAO, "已由李建国接下，无需前往"))
    fake.wait_for(lambda: [p for p in fake.pushes if p.kind == "SmsUp"])
    assert all(p.status == 200 and p.answer == {"code": 0, "msg": "接收成功"} for p in fake.pushes)


def test_a_reply_2_passes_the_call_to_the_mediator(system):
    fake = system["fake"]
    fake.set_behaviour(LI, reply="2")
    press(system)
    fake.wait_for(lambda: texts_to(fake, WANG, "您是调解员"))
    assert alert(system).state == "triggered"
    fake.wait_for(lambda: texts_to(fake, LI, "已转下一级"))


def test_a_failed_delivery_report_moves_the_call_to_the_next_tier(system):
    fake = system["fake"]
    for number in (LI, ZHAO):
        fake.set_behaviour(number, success=False, err_code="MOBILE_NOT_ON_SERVICE")
    press(system)
    fake.wait_for(lambda: texts_to(fake, WANG, "您是调解员"), timeout=15)
    with system["sessions"]() as s:
        pages = s.scalars(select(Notification).where(Notification.to_number.in_([LI, ZHAO]))).all()
        assert [(n.status, n.failed, n.provider_status) for n in pages] == [("failed", True, "failed")] * 2
        failed = s.scalars(select(DeliveryReport).where(DeliveryReport.status == "failed")).all()
        assert {r.detail.get("ErrorCode") for r in failed} == {"MOBILE_NOT_ON_SERVICE"}


def test_a_repeated_push_changes_nothing(system):
    fake = system["fake"]
    fake.set_behaviour(LI, reply="1", repeat=3)  # every report and reply about this number comes three times
    press(system)
    eventually(lambda: state(system) == "acknowledged", what="acknowledged")
    fake.wait_for(lambda: len([p for p in fake.pushes if p.kind == "SmsUp"]) == 3)
    fake.wait_for(
        lambda: (
            len([p for p in fake.pushes if p.kind == "SmsReport" and p.items[0]["phone_number"] == "13900000001"]) >= 6
        )
    )  # noqa: E501
    assert count(system, InboundSms) == 1
    with system["sessions"]() as s:
        acks = s.scalar(select(func.count()).select_from(TimelineEntry).where(TimelineEntry.what == "acknowledged"))
        reports = s.scalars(select(DeliveryReport.provider_sid)).all()
    assert acks == 1 and len(reports) == len(set(reports))
    assert len(texts_to(fake, LI, "已确认")) == 1  # one confirmation, not three
    assert all(p.status == 200 for p in fake.pushes)


@pytest.mark.parametrize("path", ["/aliyun/sms-up", "/aliyun/sms-report"])
@pytest.mark.parametrize("token", [None, "wrong-token-0123456789abcdef"])
def test_a_push_without_the_token_is_refused_and_changes_nothing(system, path, token):
    press(system)
    page = system["fake"].wait_for(lambda: system["fake"].sent_to(LI))[0]
    items = (
        [{"phone_number": "13900000001", "content": "1", "sequence_id": 99, "send_time": "2026-12-03 14:00:00"}]
        if path.endswith("up")
        else [{"biz_id": page.biz_id, "out_id": page.out_id, "success": False, "err_code": "X"}]
    )
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        r = http.post(path, params={"token": token} if token else None, json=items)
    assert r.status_code == 403
    assert count(system, InboundSms) == 0
    with system["sessions"]() as s:
        assert s.scalar(select(func.count()).select_from(DeliveryReport).where(DeliveryReport.status == "failed")) == 0
    assert alert(system).state == "triggered"


@pytest.mark.parametrize("body", [b"not json", b'{"phone_number": "1"}', b"[1, 2]"])
def test_a_push_that_is_no_array_of_reports_is_a_clear_400(system, body):
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        r = http.post("/aliyun/sms-up", params={"token": TOKEN}, content=body)
    assert r.status_code == 400 and "JSON array" in r.json()["detail"]


def test_the_daily_limit_is_a_failed_send_and_the_step_moves_on(system):
    fake = system["fake"]
    fake.daily_limit = 1  # as if both volunteers had had their fifty pages today: one, here
    page = read_templates(TEMPLATES)["page_sms"]
    earlier = m.page_sms(resident="王伟", address="幸福里5幢", reason="alarm", tier="building", code="1111")
    for number in (LI, ZHAO):
        AliyunSmsSender(KEY, SECRET, "金桥", endpoint=fake.url).send(number, page.code, earlier.params, out_id="0")
    press(system)
    eventually(lambda: count_failed(system, (LI, ZHAO)) == 2, what="both pages failed on the limit")
    with system["sessions"]() as s:
        errors = s.scalars(select(Notification.last_error).where(Notification.to_number == LI)).all()
    assert errors and "isv.BUSINESS_LIMIT_CONTROL" in errors[0]
    fake.wait_for(lambda: texts_to(fake, WANG, "您是调解员"), timeout=15)  # the step moved on at once
    # on the call's timeline: the volunteers' limit, and the son abroad whom nothing here reaches
    assert refusals(system) == [
        ("张伟（儿子，悉尼）", "aliyun", None),
        ("李建国", "aliyun", None),
        ("赵玉兰", "aliyun", None),
    ]


def refusals(system, purposes=("page", "family")) -> list[tuple]:
    """The timeline's refusals of the rows with these purposes (the notices after an 接警 come later,
    and are refused and rerouted the same way), by the recipient's name."""
    with system["sessions"]() as s:
        rows = set(s.scalars(select(Notification.id).where(Notification.purpose.in_(purposes))))
        entries = s.scalars(
            select(TimelineEntry).where(TimelineEntry.what == "channel_refused").order_by(TimelineEntry.actor)
        ).all()
    return [(e.actor, e.detail["by"], e.detail["then"]) for e in entries if e.detail["notification_id"] in rows]


def test_over_the_daily_limit_the_sms_goes_by_twilio_and_the_reply_there_acknowledges(with_twilio):
    fake, twilio = with_twilio["fake"], with_twilio["twilio"]
    fake.daily_limit = 0  # Aliyun refuses every page today
    twilio.set_behaviour(LI, sms_reply="1", reply_after=0.2, reply_if="编号")
    press(with_twilio)
    page = twilio.wait_for(lambda: [m for m in twilio.messages if m.to == LI], timeout=10)[0]
    assert page.body.startswith("【金桥紧急呼叫】张秀英")  # Twilio sends the product's own text
    assert {r.code for r in fake.refusals} == {"isv.BUSINESS_LIMIT_CONTROL"} and fake.messages == []
    family = twilio.wait_for(lambda: [m for m in twilio.messages if m.to == "+61400000001"], timeout=10)[0]
    assert "您的家人张秀英" in family.body  # abroad: Aliyun cannot reach the number, Twilio can
    eventually(lambda: state(with_twilio) == "acknowledged", what="acknowledged by the reply to the Twilio SMS")
    with with_twilio["sessions"]() as s:
        li = s.scalars(select(Notification).where(Notification.to_number == LI, Notification.purpose == "page")).one()
    assert not li.failed and li.provider_sid.startswith("SM")
    # the volunteers' pages were refused by Aliyun and went by Twilio, which the timeline says; the
    # family abroad goes by Twilio by design, which is no news
    assert refusals(with_twilio) == [("李建国", "aliyun", "twilio"), ("赵玉兰", "aliyun", "twilio")]


def test_a_volunteer_with_channels_of_their_own_is_paged_on_them_and_the_other_by_aliyun(with_twilio):
    fake, twilio = with_twilio["fake"], with_twilio["twilio"]
    with transaction(with_twilio["sessions"]) as s:  # 赵玉兰 would rather have a Twilio text and a call
        s.execute(update(Responder).where(Responder.id == "pm-zhao").values(channels=["twilio_sms", "twilio_voice"]))
    press(with_twilio)
    eventually(lambda: texts_to(fake, LI, "张秀英"), what="李建国 paged by Aliyun, the tier's sms")
    text = twilio.wait_for(lambda: [m for m in twilio.messages if m.to == ZHAO], timeout=10)[0]
    assert text.body.startswith("【金桥紧急呼叫】张秀英")
    twilio.wait_for(lambda: [c for c in twilio.calls if c.to == ZHAO], timeout=10)
    assert fake.sent_to(ZHAO) == [] and [m for m in twilio.messages if m.to == LI] == []
    assert [c for c in twilio.calls if c.to == LI] == []  # the tier's list has no call here
    with with_twilio["sessions"]() as s:
        rows = s.execute(
            select(Notification.to_number, Notification.channel, Notification.provider)
            .where(Notification.purpose == "page")
            .order_by(Notification.id)
        ).all()
    assert [tuple(r) for r in rows] == [(LI, "sms", None), (ZHAO, "sms", "twilio"), (ZHAO, "voice", "twilio")]


def count_failed(system, numbers) -> int:
    with system["sessions"]() as s:
        return s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.to_number.in_(numbers), Notification.failed.is_(True))
        )


@pytest.mark.parametrize(
    ("pushed", "ours"),
    [("13900000001", "+8613900000001"), ("8613900000001", "+8613900000001"), ("0085291234567", "+85291234567")],
)
def test_a_pushed_number_becomes_ours(pushed, ours):
    assert e164(pushed) == ours


def test_a_report_reads_as_a_twilio_status_and_keeps_our_notification_id():
    failed = {"biz_id": "7^0", "out_id": "12", "success": False, "err_code": "MOBILE_NOT_ON_SERVICE"}
    assert report_form(failed) == (
        "12",
        {"MessageSid": "7^0", "MessageStatus": "failed", "ErrorCode": "MOBILE_NOT_ON_SERVICE"},
    )  # noqa: E501
    assert report_form({"biz_id": "8^0", "success": True, "err_code": "DELIVERED"}) == (
        None,
        {"MessageSid": "8^0", "MessageStatus": "delivered"},
    )
