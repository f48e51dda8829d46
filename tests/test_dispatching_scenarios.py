"""派人前往 end to end against World: an operator sends someone; who is texted what; sending again,
sending to a closed call, and a retried request; the one sent closes the call with "3 8150"."""

from __future__ import annotations

import pytest

from dispatcher.alerts import Actor
from dispatcher.dispatching import AlertClosed, NotOffered, dispatch, offered
from dispatcher.recipients import load_place
from tests.support.dispatch import T0, World

OPERATOR = Actor("值班员 王芳", "web")


@pytest.fixture
def world(sessions, example_registry) -> World:
    w = World(sessions, example_registry, T0)
    w.press()
    w.tick()
    return w


def send(world: World, responder_id: str | None = None):
    outcome = dispatch(
        world.alerts,
        world.alert().id,
        OPERATOR,
        responder_id=responder_id,
        operator_name=None if responder_id else "王芳",
    )
    world.tick()
    return outcome


def test_who_can_be_sent_are_the_buildings_volunteers_the_mediator_and_the_hotline_on_duty(world):
    with world.sessions() as s:
        people = offered(s, world.alerts.recipients, load_place(s, "r-zhang"), world.clock())
    assert [(p.responder_id, p.name, p.tier) for p in people] == [
        ("pm-li", "李建国", "building"),
        ("pm-zhao", "赵玉兰", "building"),
        ("med-wang", "王芳", "mediator"),
        ("duty-chen", "陈静", "hotline"),  # Monday 10:00: the day shift
    ]


def test_sending_a_volunteer_takes_the_call_asks_them_to_go_and_tells_the_others(world):
    code = world.alert().code
    outcome = send(world, "pm-li")
    assert outcome.changed and outcome.by == "李建国"
    alert = world.alert()
    assert (alert.state, alert.acknowledged_by, alert.dispatched_to) == ("acknowledged", "值班员 王芳", "李建国")
    assert alert.dispatched_at == T0
    said = [w for w in world.timeline() if w in ("acknowledged", "dispatched")]
    assert said == ["acknowledged", "dispatched"]
    (ask,) = [b for b in world.sms_to("pm-li", "page") if "请您前往" in b]
    assert ask == (
        f"【金桥】请您前往幸福里3幢2单元201看望张秀英（按下呼叫器，编号{code}），值班员王芳已接警。"
        f"老人电话+8613800000001。处理完毕后回复“3 {code}”。"
    )
    assert world.sms_to("pm-zhao", "notice") == [f"【金桥】张秀英的呼叫（编号{code}）：李建国已前往处理，您无需前往。"]
    assert world.sms_to("pm-li", "notice") == []  # not told both to go and not to
    assert world.device_feedback() == [("acknowledged", code)]
    pages = len(world.paged())
    world.later(minutes=10)
    assert len(world.paged()) == pages  # the escalation stopped


def test_the_one_sent_says_收到_and_is_not_told_someone_else_has_it_then_closes_with_3(world):
    code = world.alert().code
    send(world, "pm-li")
    world.sms_from("pm-li", "收到")
    assert (
        world.sms_to("pm-li", "reply")[-1]
        == f"【金桥】收到：请您前往处理张秀英的呼叫（编号{code}）。处理完毕后回复“3 {code}”。"
    )
    world.sms_from("pm-li", "2")
    assert "不能再转下一级" in world.sms_to("pm-li", "reply")[-1]
    assert world.alert().state == "acknowledged"
    world.sms_from("pm-li", f"3 {code}")
    alert = world.alert()
    assert (alert.state, alert.resolved_by) == ("resolved", "李建国")
    assert "已处理完毕" in world.sms_to("pm-li", "reply")[-1]


def test_someone_never_paged_can_be_sent_and_closes_by_reply(world):
    code = world.alert().code
    send(world, "duty-chen")  # the hotline was not reached yet
    assert any("请您前往" in b for b in world.sms_to("duty-chen"))
    assert world.sms_to("pm-li", "notice") and world.sms_to("pm-zhao", "notice")
    world.sms_from("duty-chen", f"3 {code}")
    assert world.alert().resolved_by == "陈静"


def test_sending_again_tells_the_first_they_are_not_needed_and_nobody_else_again(world):
    code = world.alert().code
    send(world, "pm-li")
    before = {who: len(world.sms_to(who)) for who in ("pm-li", "pm-zhao", "med-wang")}
    outcome = send(world, "med-wang")
    assert outcome.changed and world.alert().dispatched_to == "王芳"
    assert world.sms_to("pm-li")[before["pm-li"] :] == [
        f"【金桥】张秀英的呼叫（编号{code}）已改由王芳前往，您不用再去了。谢谢您！"
    ]
    (ask,) = world.sms_to("med-wang")[before["med-wang"] :]
    assert "请您前往幸福里3幢2单元201" in ask
    assert len(world.sms_to("pm-zhao")) == before["pm-zhao"]
    assert world.timeline().count("dispatched") == 2 and world.timeline().count("acknowledged") == 1
    # and back to the first: asked again; the mediator stands down
    send(world, "pm-li")
    assert "请您前往" in world.sms_to("pm-li")[-1] and "不用再去" in world.sms_to("med-wang")[-1]


def test_a_retried_request_sends_nothing_twice(world):
    send(world, "pm-li")
    sent = len(world.notifier.sent)
    again = send(world, "pm-li")
    assert not again.changed and again.by == "李建国"
    assert len(world.notifier.sent) == sent
    assert world.timeline().count("dispatched") == 1


def test_the_operator_goes_themself(world):
    code = world.alert().code
    outcome = send(world)
    assert outcome.changed and world.alert().dispatched_to == "王芳"
    for who in ("pm-li", "pm-zhao"):
        assert world.sms_to(who, "notice") == [
            f"【金桥】张秀英的呼叫（编号{code}）：值班员王芳已前往处理，您无需前往。"
        ]
    assert not send(world).changed  # again: nothing
    send(world, "pm-zhao")  # they cannot after all: a volunteer goes; the others knew already
    assert "请您前往" in world.sms_to("pm-zhao")[-1] and len(world.sms_to("pm-li", "notice")) == 1


def test_after_a_board_ack_the_paged_first_hear_the_centre_has_it_then_who_goes(world):
    world.alerts.acknowledge(world.alert().id, OPERATOR)
    world.tick()
    send(world, "pm-li")
    notices = world.sms_to("pm-zhao", "notice")
    assert len(notices) == 2 and "接警" in notices[0] and "李建国已前往处理" in notices[1]
    assert world.timeline().count("acknowledged") == 1


def test_a_volunteer_who_replied_1_is_told_when_someone_else_is_sent(world):
    world.sms_from("pm-zhao", "1")
    send(world, "pm-li")
    assert "已改由李建国前往" in world.sms_to("pm-zhao")[-1]
    assert world.alert().acknowledged_by == "赵玉兰"  # who took the call stays on the record


def test_a_closed_call_and_a_stranger_are_refused_and_change_nothing(world):
    with pytest.raises(NotOffered):
        send(world, "pm-sun")  # another building's volunteer
    with pytest.raises(NotOffered):
        send(world, "nobody")
    assert world.alert().state == "triggered" and world.alert().dispatched_to is None
    world.alerts.resolve(world.alert().id, OPERATOR, "false_alarm", "误按")
    world.tick()
    sent = len(world.notifier.sent)
    with pytest.raises(AlertClosed):
        send(world, "pm-li")
    world.tick()
    assert len(world.notifier.sent) == sent and world.alert().dispatched_to is None


def test_an_expired_ack_reopens_the_call_and_forgets_who_was_sent(world):
    send(world, "pm-li")
    world.later(hours=24, seconds=1)  # nobody closed it: the call starts again from the building
    alert = world.alert()
    assert (alert.state, alert.cycle, alert.dispatched_to, alert.dispatched_at) == ("triggered", 1, None, None)
    assert world.timeline().count("dispatched") == 1  # who was sent stays on the record
    outcome = send(world, "pm-li")  # sent again in the new cycle: a first send, so the others hear it again
    assert outcome.changed and world.alert().dispatched_to == "李建国"
    assert "李建国已前往处理" in world.sms_to("pm-zhao", "notice")[-1]
