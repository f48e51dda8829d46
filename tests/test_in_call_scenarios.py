"""An operator in a call, as scripts against World: 转下一级, 再次通知 and notes, and the readable
timeline they leave (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from dispatcher.in_call import BlankNote, CallRefused, add_note, escalate, repage
from dispatcher.notices import Actor
from dispatcher.timeline_read import readable_timeline
from tests.support.dispatch import T0, World

OPERATOR = Actor("值班员 王芳", "web")


@pytest.fixture
def world(sessions, example_registry) -> World:
    return World(sessions, example_registry, T0)


def lines(world: World, lang: str = "zh") -> list[str]:
    with world.sessions() as s:
        return [f"{x.time} {x.text}" for x in readable_timeline(s, world.alert(), lang)]


def test_escalate_pages_the_mediator_at_once_and_names_the_operator(world):
    world.press()
    world.tick()
    alert = world.alert()
    outcome = escalate(world.alerts, alert.id, OPERATOR, from_tier=0, from_round=0)
    world.tick()
    assert outcome.changed and world.alert().tier_index == 1
    assert world.paged()[4:] == [("med-wang", "sms"), ("med-wang", "voice")]
    shown = [w for w in world.timeline() if w in ("escalated", "tier_notified")]
    assert shown == ["tier_notified", "escalated", "tier_notified"]
    # a second click about the same step (the board still showed the building) changes nothing
    again = escalate(world.alerts, alert.id, OPERATOR, from_tier=0, from_round=0)
    world.tick()
    assert not again.changed and world.alert().tier_index == 1 and len(world.paged()) == 6
    # the mediator's timer starts afresh: the hotline is due two minutes after the escalation
    world.later(seconds=119)
    assert len(world.paged()) == 6
    world.later(seconds=1)
    assert world.paged()[6:] == [("duty-chen", "sms"), ("duty-chen", "voice")]
    assert "10:00 值班员 王芳 手动转下一级" in lines(world)


def test_escalate_after_the_call_was_taken_is_refused(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    with pytest.raises(CallRefused) as refused:
        escalate(world.alerts, world.alert().id, OPERATOR)
    assert refused.value.state == "acknowledged" and "尚未接警" in str(refused.value)
    assert ("med-wang", "sms") not in world.paged()


def test_repage_sends_the_tier_again_once_per_double_click(world):
    world.press()
    world.tick()
    alert = world.alert()
    world.later(seconds=40)
    first = repage(world.alerts, alert.id, OPERATOR)
    world.tick()
    assert first.outcome.changed and first.pages == 4
    assert world.paged()[4:] == [("pm-li", "sms"), ("pm-zhao", "sms"), ("pm-li", "voice"), ("pm-zhao", "voice")]
    world.later(seconds=5)
    double = repage(world.alerts, alert.id, OPERATOR)
    world.tick()
    assert not double.outcome.changed and double.pages == 0 and len(world.paged()) == 8
    world.later(seconds=30)
    third = repage(world.alerts, alert.id, OPERATOR)
    world.tick()
    assert third.outcome.changed and len(world.paged()) == 12
    # a repage changes no timer: the mediator is still due two minutes after the press
    assert world.alert().tier_index == 0
    world.later(seconds=45)
    assert ("med-wang", "sms") in world.paged()
    assert world.timeline().count("repaged") == 2
    assert "10:00 值班员 王芳 再次通知楼道党员：李建国、赵玉兰" in lines(world)


def test_a_repaged_volunteer_can_still_take_the_call_and_the_others_hear(world):
    world.press()
    world.tick()
    repage(world.alerts, world.alert().id, OPERATOR)
    world.tick()
    world.sms_from("pm-zhao", "1")
    assert world.alert().state == "acknowledged" and world.alert().acknowledged_by == "赵玉兰"
    with pytest.raises(CallRefused):
        repage(world.alerts, world.alert().id, OPERATOR)


def test_repage_of_a_closed_call_is_refused(world):
    world.press()
    world.tick()
    world.alerts.resolve(world.alert().id, OPERATOR, "false_alarm", "误按")
    with pytest.raises(CallRefused) as refused:
        repage(world.alerts, world.alert().id, OPERATOR)
    assert refused.value.state == "resolved"


def test_notes_at_any_time_also_after_the_close(world):
    world.press()
    world.tick()
    alert_id = world.alert().id
    add_note(world.alerts, alert_id, OPERATOR, "  已电话联系儿子张伟  ")
    world.alerts.resolve(alert_id, OPERATOR, "helped_at_home")
    world.later(minutes=5)
    add_note(world.alerts, alert_id, OPERATOR, "回访：老人已无大碍")
    with pytest.raises(BlankNote):
        add_note(world.alerts, alert_id, OPERATOR, "   ")
    text = lines(world)
    assert "10:00 值班员 王芳 备注：已电话联系儿子张伟" in text
    assert "10:05 值班员 王芳 备注：回访：老人已无大碍" in text
    assert world.timeline().count("note") == 2


def test_the_readable_timeline_of_a_whole_call(world):
    world.press()
    world.tick()
    for sent in world.notifier.sent:
        if sent.channel == "sms":
            world.status(sent.notification_id, "delivered")
    world.later(minutes=1)
    world.sms_from("pm-li", f"1 {world.alert().code}")
    zh, en = lines(world, "zh"), lines(world, "en")
    text = "\n".join(zh)
    assert "{" not in text and "SM0" not in text and "CA0" not in text
    assert "10:00 张秀英按下呼叫按钮（设备 pgr-0001）" in zh
    assert "10:00 通知楼道党员：李建国、赵玉兰" in zh
    assert any(
        x.startswith("10:00 短信发给 李建国（楼道党员）：【金桥紧急呼叫】张秀英") and x.endswith("· 已送达") for x in zh
    )
    assert any(x.startswith("10:00 电话打给 李建国（楼道党员）：“金桥紧急呼叫。张秀英") for x in zh)
    assert f"10:01 李建国 回复“1 {world.alert().code}”" in "\n".join(zh)
    assert "10:01 李建国 接警（短信）" in zh
    assert any(x.startswith("10:01 短信发给 赵玉兰：") for x in zh)  # the notice to the other volunteer
    assert "10:01 李建国 took the call (by SMS)" in en
    assert not any("delivery" in x or "sms_sent" in x for x in zh)
