"""Every reply gets a true answer (SPEC 5), through the signed webhooks as Twilio calls them.

The requests are signed with the twilio library's own RequestValidator, over the public URL the
dispatcher is configured with, and posted to the real FastAPI routes; the dispatcher runs on a
fake clock with a recording notifier (tests.support.dispatch.World)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from core.db import transaction
from core.schema import Alert
from dispatcher.webhooks import twilio_router
from tests.support.dispatch import PHONES, T0, World

PUBLIC = "http://test"  # World's WebhookContext: public URL "http://test", auth token "token"


class Twilio:
    """Posts what Twilio would post, signed as Twilio signs it."""

    def __init__(self, world: World) -> None:
        self.world = world
        app = FastAPI()
        app.include_router(twilio_router(world.ctx))
        self.http = TestClient(app, base_url=PUBLIC)
        self.validator = RequestValidator("token")
        self.n = 0

    def post(self, path: str, form: dict[str, str], query: dict[str, str] | None = None, signed: bool = True):
        qs = f"?{urlencode(query)}" if query else ""
        signature = self.validator.compute_signature(PUBLIC + path + qs, form) if signed else "bm9wZQ=="
        response = self.http.post(path + qs, data=form, headers={"X-Twilio-Signature": signature})
        self.world.tick()
        return response

    def sms(self, who: str, body: str):
        self.n += 1
        response = self.post("/twilio/sms", {"MessageSid": f"SMweb{self.n}", "From": PHONES[who], "Body": body})
        assert response.status_code == 200, response.text
        return response

    def key(self, notification_id: int, digits: str) -> str:
        response = self.post(
            "/twilio/voice",
            {"CallSid": f"CA{notification_id:032d}", "Digits": digits, "AnsweredBy": "human"},
            {"n": str(notification_id), "step": "gather"},
        )
        assert response.status_code == 200, response.text
        return response.text

    def answer_call(self, notification_id: int) -> str:
        response = self.post(
            "/twilio/voice",
            {"CallSid": f"CA{notification_id:032d}", "AnsweredBy": "human"},
            {"n": str(notification_id)},
        )
        assert response.status_code == 200, response.text
        return response.text


@pytest.fixture
def world(sessions, example_registry) -> World:
    return World(sessions, example_registry, T0)


@pytest.fixture
def twilio(world) -> Twilio:
    return Twilio(world)


def open_wellness(world: World, resident: str = "r-zhang") -> Alert:
    with transaction(world.sessions) as s:
        alert_id = world.alerts.open_alert(
            s, resident_id=resident, kind="wellness", reason="checkin_missed", now=world.clock()
        ).id
    return world.alert(alert_id)


def replies(world: World, who: str) -> list[str]:
    return world.sms_to(who, "reply")


def test_a_stale_sms_2_after_another_volunteer_passed_gets_a_true_answer_not_a_500(world, twilio):
    world.press()
    world.tick()
    code = world.alert().code
    twilio.sms("pm-li", "2")
    assert replies(world, "pm-li") == [f"【金桥】已转下一级：张秀英的呼叫（编号{code}）。如仍可前往，回复“1 {code}”。"]
    twilio.sms("pm-zhao", "2")  # the same step, passed a moment later by the other volunteer
    [answer] = replies(world, "pm-zhao")
    assert "已经转到下一级" in answer and code in answer and f"1 {code}" in answer
    assert world.paged().count(("med-wang", "sms")) == 1  # nothing was passed a second time
    assert ("duty-chen", "sms") not in world.paged()


def test_a_2_after_the_tier_timed_out_says_it_has_gone_on(world, twilio):
    world.press()
    world.tick()
    world.later(minutes=2)  # the mediator is reached by the timeout
    code = world.alert().code
    twilio.sms("pm-li", f"2 {code}")
    [answer] = replies(world, "pm-li")
    assert "已经转到下一级" in answer
    assert ("duty-chen", "sms") not in world.paged()


def test_a_stale_key_2_is_not_told_it_passed_anything_and_may_still_take_the_call(world, twilio):
    world.press()
    world.tick()
    li_call, zhao_call = world.pages("pm-li", "voice")[0], world.pages("pm-zhao", "voice")[0]
    assert "已转给下一级" in twilio.key(li_call.notification_id, "2")
    stale = twilio.key(zhao_call.notification_id, "2")
    assert "已转给下一级" not in stale and "已经转到下一级" in stale
    assert "<Gather" in stale  # it offers key 1, and listens for it
    assert world.paged().count(("med-wang", "sms")) == 1 and ("duty-chen", "sms") not in world.paged()
    assert "已确认" in twilio.key(zhao_call.notification_id, "1")
    assert world.alert().acknowledged_by == "赵玉兰"


def test_a_key_2_after_someone_took_the_call_names_who(world, twilio):
    world.press()
    world.tick()
    twilio.sms("pm-li", "1")
    said = twilio.key(world.pages("pm-zhao", "voice")[0].notification_id, "2")
    assert "李建国" in said and "已转给下一级" not in said and "<Gather" not in said


def test_a_2_from_whoever_took_the_call_keeps_it_theirs(world, twilio):
    world.press()
    world.tick()
    code = world.alert().code
    twilio.sms("pm-li", "1")
    twilio.sms("pm-li", f"2 {code}")
    assert "不能再转" in replies(world, "pm-li")[-1] and f"3 {code}" in replies(world, "pm-li")[-1]
    assert world.alert().state == "acknowledged"
    assert "不能再转" in twilio.key(world.pages("pm-li", "voice")[0].notification_id, "2")


def test_late_replies_after_resolve_and_cancel_are_answered_truly(world, twilio):
    world.press()
    world.tick()
    code = world.alert().code
    twilio.sms("pm-li", f"3 {code}")
    assert "已处理完毕" in replies(world, "pm-li")[-1]
    for body in (f"3 {code}", f"1 {code}", f"2 {code}"):
        twilio.sms("pm-zhao", body)
    assert all("已处理完毕" in r and code in r for r in replies(world, "pm-zhao"))
    assert len(replies(world, "pm-zhao")) == 3
    assert "处理完毕" in twilio.key(world.pages("pm-zhao", "voice")[0].notification_id, "2")

    world.press()  # a new call, then the resident cancels it
    world.tick()
    second = world.alert()
    world.press(type_="cancel")
    world.tick()
    twilio.sms("pm-li", f"1 {second.code}")
    assert "已取消呼叫" in replies(world, "pm-li")[-1] and second.code in replies(world, "pm-li")[-1]
    twilio.sms("pm-li", "1")  # bare: no open call any more
    assert replies(world, "pm-li")[-1] == "【金桥】您目前没有待处理的呼叫。"


def test_a_call_answered_after_someone_else_took_the_alert_does_not_ask_them_to_go(world, twilio):
    world.press()
    world.tick()
    twilio.sms("pm-li", "1")
    said = twilio.answer_call(world.pages("pm-zhao", "voice")[0].notification_id)
    assert "李建国" in said and "无需前往" in said and "<Gather" not in said
    mine = twilio.answer_call(world.pages("pm-li", "voice")[0].notification_id)  # the one who took it hears it
    assert "<Gather" in mine


# --- the voice `*`, a reply with a code, and what a bad signature changes ----------------------------


def test_key_star_repeats_the_message_and_listens_again(world, twilio):
    world.press()
    world.tick()
    call = world.pages("pm-li", "voice")[0].notification_id
    first = twilio.answer_call(call)
    again = twilio.key(call, "*")
    spoken = "张秀英，住址"
    assert spoken in first and spoken in again and "无效按键" not in again
    assert again.count("<Gather") >= 1 and f"n={call}&amp;step=gather" in again  # and waits for the next key
    assert world.alert().state == "triggered" and "acknowledged" not in world.timeline()
    assert "已确认" in twilio.key(call, "1")  # the key after the repeat counts
    assert world.alert().acknowledged_by == "李建国"


def test_a_reply_with_a_code_acks_the_named_alert_only_while_two_are_open(world, twilio):
    world.press()
    world.tick()
    emergency = world.alert()
    wellness = open_wellness(world)  # newer: a bare reply would mean this one
    world.tick()
    twilio.sms("pm-li", f"1 {emergency.code}")
    assert world.alert(emergency.id).state == "acknowledged" and world.alert(emergency.id).acknowledged_by == "李建国"
    assert world.alert(wellness.id).state == "triggered"
    assert emergency.code in replies(world, "pm-li")[-1] and "已确认" in replies(world, "pm-li")[-1]
    twilio.sms("pm-li", "1")  # bare: the newest open one sent to this number
    assert world.alert(wellness.id).state == "acknowledged"


def snapshot(world: World) -> tuple:
    from sqlalchemy import func, select

    from core.schema import Alert, DeliveryReport, InboundSms, Notification, TimelineEntry

    with world.sessions() as s:
        return (
            tuple(s.execute(select(Alert.id, Alert.state, Alert.tier_index, Alert.next_action_at)).all()),
            tuple(
                s.execute(
                    select(Notification.id, Notification.status, Notification.final, Notification.provider_status)
                ).all()
            ),
            s.scalar(select(func.count()).select_from(TimelineEntry)),
            s.scalar(select(func.count()).select_from(DeliveryReport)),
            s.scalar(select(func.count()).select_from(InboundSms)),
        )


@pytest.mark.parametrize("signature", ["missing", "forged", "other_url"])
def test_a_bad_signature_on_voice_and_status_gets_403_and_changes_nothing(world, twilio, signature):
    world.press()
    world.tick()
    call = world.pages("pm-li", "voice")[0].notification_id
    sms = world.pages("pm-li", "sms")[0].notification_id
    before, sent = snapshot(world), len(world.notifier.sent)
    requests = [
        (
            "/twilio/voice",
            {"CallSid": f"CA{call:032d}", "Digits": "1", "AnsweredBy": "human"},
            {"n": str(call), "step": "gather"},
        ),
        (
            "/twilio/voice",
            {"CallSid": f"CA{call:032d}", "Digits": "2", "AnsweredBy": "human"},
            {"n": str(call), "step": "gather"},
        ),
        ("/twilio/status", {"CallSid": f"CA{call:032d}", "CallStatus": "busy"}, {"n": str(call)}),
        (
            "/twilio/status",
            {"MessageSid": f"SM{sms:032d}", "MessageStatus": "undelivered", "ErrorCode": "30003"},
            {"n": str(sms)},
        ),
        ("/twilio/sms", {"MessageSid": "SMforged", "From": PHONES["pm-li"], "Body": "1"}, None),
    ]
    for path, form, query in requests:
        qs = f"?{urlencode(query)}" if query else ""
        headers = {}
        if signature == "forged":
            headers["X-Twilio-Signature"] = "bm90IGEgc2lnbmF0dXJl"
        elif signature == "other_url":  # a real signature, for another address: replayed elsewhere
            headers["X-Twilio-Signature"] = twilio.validator.compute_signature("http://elsewhere" + path + qs, form)
        response = twilio.http.post(path + qs, data=form, headers=headers)
        world.tick()
        assert response.status_code == 403, (path, form)
        assert "<Say" not in response.text and "<Response" not in response.text  # no TwiML: nothing said
    world.later(seconds=1)
    assert snapshot(world) == before
    assert len(world.notifier.sent) == sent  # no reply, no notice, no next tier
