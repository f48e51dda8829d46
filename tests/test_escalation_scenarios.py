"""Escalation scenarios that read like scripts, on a controllable clock, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from core.db import transaction
from core.schema import Alert, DeviceFeedback
from tests.support.dispatch import T0, World


@pytest.fixture
def world(sessions, example_registry) -> World:
    w = World(sessions, example_registry, T0)
    return w


def test_nobody_answers_the_call_climbs_every_tier_and_the_hotline_repeats(world):
    world.press()
    world.tick()
    assert world.paged() == [("pm-li", "sms"), ("pm-zhao", "sms"), ("pm-li", "voice"), ("pm-zhao", "voice")]
    world.later(seconds=119)
    assert len(world.paged()) == 4  # not yet
    world.later(seconds=1)
    assert world.paged()[4:] == [("med-wang", "sms"), ("med-wang", "voice")]
    world.later(minutes=2)
    assert world.paged()[6:] == [("duty-chen", "sms"), ("duty-chen", "voice")]
    world.later(minutes=2)
    world.later(minutes=2)
    assert world.paged()[8:] == [("duty-chen", "sms"), ("duty-chen", "voice")] * 2
    assert world.alert().state == "triggered"
    assert world.timeline().count("tier_notified") == 5


def test_press_then_reply_1_acknowledges_tells_everyone_and_goes_silent(world):
    world.press()
    world.tick()
    world.later(minutes=2)  # the mediator is reached
    world.sms_from("med-wang", "1")
    alert = world.alert()
    assert alert.state == "acknowledged" and alert.acknowledged_by == "王芳"
    assert any("确认" in body for body in world.sms_to("med-wang", "reply"))
    assert world.sms_to("pm-li", "notice") and world.sms_to("pm-zhao", "notice")
    assert world.device_feedback() == [("acknowledged", alert.code)]
    pages = len(world.paged())
    world.later(minutes=30)
    assert len(world.paged()) == pages  # silence
    assert "acknowledged" in world.timeline()


def test_a_repeat_press_joins_the_open_alert(world):
    world.press()
    world.tick()
    world.press()
    world.tick()
    assert world.alerts_count() == 1
    assert world.alert().repeat_presses == 1
    assert "repeat_press" in world.timeline()


def test_ack_by_keypress_and_the_key_is_confirmed_aloud(world):
    world.press()
    world.tick()
    call = world.pages("pm-zhao", "voice")[0]
    twiml = world.keypress(call.notification_id, "1")
    assert "<Say" in twiml and "确认" in twiml
    assert world.alert().state == "acknowledged" and world.alert().acknowledged_by == "赵玉兰"


def test_pass_by_key_2_reaches_the_next_tier_at_once(world):
    world.press()
    world.tick()
    call = world.pages("pm-li", "voice")[0]
    world.keypress(call.notification_id, "2")
    assert ("med-wang", "sms") in world.paged()
    world.keypress(call.notification_id, "2")  # the same pass delivered twice acts once
    assert ("duty-chen", "sms") not in world.paged()


def test_late_ack_is_told_who_took_it(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "收到")
    world.sms_from("pm-zhao", "1")
    answer = world.sms_to("pm-zhao", "reply")[-1]
    assert "李建国" in answer and "10:00" in answer
    assert world.alert().acknowledged_by == "李建国"


def test_the_same_sms_webhook_twice_acts_once(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1", sid="SMdup")
    world.sms_from("pm-li", "1", sid="SMdup")
    assert len(world.sms_to("pm-li", "reply")) == 1


def test_cancel_before_ack_cancels_and_tells_everyone(world):
    world.press()
    world.tick()
    world.press(type_="cancel")
    world.tick()
    alert = world.alert()
    assert alert.state == "cancelled"
    assert world.sms_to("pm-li", "notice") and world.sms_to("pm-zhao", "notice")
    assert world.device_feedback() == [("cancelled", alert.code)]
    family = world.sms_to("+61400000001", "family")  # the son in Sydney heard of the call; now of its end
    assert len(family) == 2 and "取消呼叫" in family[1]
    world.later(minutes=10)
    assert len(world.paged()) == 4


def test_cancel_after_ack_is_only_recorded(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    world.press(type_="cancel")
    world.tick()
    assert world.alert().state == "acknowledged"
    assert "cancel_recorded" in world.timeline()
    assert not any("取消" in body for body in world.sms_to("+61400000001", "family"))  # help is still coming


def open_wellness(world, resident: str = "r-zhang") -> Alert:
    with transaction(world.sessions) as s:
        alert_id = world.alerts.open_alert(
            s, resident_id=resident, kind="wellness", reason="checkin_missed", now=world.clock()
        ).id
    return world.alert(alert_id)


def feedback_rows(world) -> list[tuple[str, str, str | None, str | None]]:
    with world.sessions() as s:
        return [
            (f.ref, f.state, f.alert_code, f.reason)
            for f in s.scalars(select(DeviceFeedback).order_by(DeviceFeedback.id))
        ]


def test_a_cancel_takes_back_the_residents_emergency_not_a_newer_wellness_alert(world):
    world.press()
    world.tick()
    emergency = world.alert()
    wellness = open_wellness(world)  # newer, and open at the same time
    world.tick()
    cancel = world.press(type_="cancel")
    world.tick()
    assert world.alert(emergency.id).state == "cancelled"
    assert world.alert(wellness.id).state == "triggered"  # the check-in is still missing: the building goes on
    assert feedback_rows(world)[-1] == (cancel, "cancelled", emergency.code, None)
    world.later(minutes=2)
    assert ("med-wang", "sms") in world.paged()  # the wellness alert escalates; the emergency does not
    assert world.alert(emergency.id).tier_index == 0


def test_a_cancel_with_no_open_emergency_is_rejected_and_leaves_the_wellness_alert_alone(world):
    wellness = open_wellness(world)
    world.tick()
    cancel = world.press(type_="cancel")
    world.tick()
    assert world.alert(wellness.id).state == "triggered"
    assert "cancelled" not in world.timeline(wellness.id)
    assert feedback_rows(world) == [(cancel, "rejected", None, "no_open_alert")]


def test_a_cancel_after_ack_tells_the_device_its_call_is_still_taken(world):
    press = world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    cancel = world.press(type_="cancel")
    world.tick()
    code = world.alert().code
    assert feedback_rows(world) == [(press, "acknowledged", code, None), (cancel, "acknowledged", code, None)]


def test_an_ack_not_resolved_in_time_triggers_again_from_the_first_tier(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    world.later(hours=24)
    alert = world.alert()
    assert alert.state == "triggered" and alert.cycle == 1
    assert world.paged()[-4:] == [("pm-li", "sms"), ("pm-zhao", "sms"), ("pm-li", "voice"), ("pm-zhao", "voice")]
    assert "ack_expired" in world.timeline()


def test_reply_3_resolves(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    world.sms_from("pm-li", "3")
    assert world.alert().state == "resolved"
    assert world.device_feedback()[-1][0] == "resolved"


def test_every_delivery_of_a_tier_failed_moves_on_at_once(world):
    world.notifier.fail = {"+8613900000001": ("invalid number", False), "+8613900000002": ("invalid number", False)}
    world.press()
    world.tick()
    assert ("med-wang", "sms") in world.paged()
    assert "tier_failed" in world.timeline()


def test_every_number_failing_for_good_pages_the_hotline_once_per_timeout_not_in_a_loop(world, sessions):
    from sqlalchemy import select

    from core.schema import Responder

    with sessions() as s:
        phones = s.scalars(select(Responder.phone)).all()
    world.notifier.fail = {phone: ("invalid number", False) for phone in phones}
    world.press()
    world.tick()  # before the fix this never returned: the hotline was paged again at once, forever
    assert world.timeline().count("tier_failed") == 3  # building, mediator, hotline: each once
    hotline_steps = world.alert().tier_round
    world.later(minutes=1)
    assert world.alert().tier_round == hotline_steps  # nothing until the hotline's timeout
    world.later(minutes=1, seconds=1)
    assert world.alert().tier_round == hotline_steps + 1 and world.timeline().count("tier_failed") == 4


def test_a_tier_partly_failed_waits_for_its_timeout(world):
    world.press()
    world.tick()
    for sent in world.pages("pm-li"):
        world.status(sent.notification_id, "failed" if sent.channel == "sms" else "no-answer")
    assert ("med-wang", "sms") not in world.paged()  # pm-zhao may still answer
    for sent in world.pages("pm-zhao"):
        world.status(sent.notification_id, "undelivered" if sent.channel == "sms" else "busy")
    assert ("med-wang", "sms") in world.paged()


def test_an_answering_machine_never_acknowledges_and_counts_as_not_reached(world):
    world.press()
    world.tick()
    call = world.pages("pm-li", "voice")[0]
    world.status(call.notification_id, "completed", answered_by="machine_start")
    assert world.alert().state == "triggered"
    assert world.note(call.notification_id).failed


def test_temporary_failures_are_retried_with_backoff(world):
    world.notifier.fail = {"+8613900000001": ("HTTP 503", True)}
    world.press()
    world.tick()
    assert not world.pages("pm-li")
    world.notifier.fail = {}
    world.later(seconds=2)
    assert world.pages("pm-li", "sms")


def test_an_empty_tier_is_skipped_at_once(world, sessions):
    from sqlalchemy import delete

    from core.schema import BuildingPartyMember

    with sessions.begin() as s:
        s.execute(delete(BuildingPartyMember))
    world.press()
    world.tick()
    assert world.paged()[:2] == [("med-wang", "sms"), ("med-wang", "voice")]
    assert "tier_skipped" in world.timeline()


def test_holiday_roster_puts_the_holiday_duty_on_the_hotline(sessions, example_registry):
    # 2026-10-03 03:00 Shanghai: National Day holiday; the weekend roster would say duty-he.
    world = World(sessions, example_registry, datetime(2026, 10, 2, 19, 0, tzinfo=timezone.utc))
    world.press()
    world.tick()
    world.later(minutes=2)
    world.later(minutes=2)
    assert ("duty-chen", "sms") in world.paged() and ("duty-he", "sms") not in world.paged()


def test_nonsense_gets_help_then_silence(world):
    world.press()
    world.tick()
    for _ in range(5):
        world.sms_from("pm-li", "hello?")
    assert len(world.sms_to("pm-li", "reply")) == 3


def test_family_gets_an_informational_sms_and_is_never_asked_to_ack(world):
    world.press()
    world.tick()
    family = [m for m in world.notifier.sent if m.to == "+61400000001"]
    assert len(family) == 1 and family[0].purpose == "family"


def test_alert_codes_grow_longer_rather_than_run_out(world, sessions):
    from core.schema import Alert

    with sessions.begin() as s:  # every four-digit code is held by an open alert
        s.add_all(
            [
                Alert(
                    code=str(c),
                    resident_id="r-liu",
                    kind="emergency",
                    reason="alarm",
                    state="triggered",
                    opened_at=T0,
                    updated_at=T0,
                )
                for c in range(1000, 10000)
            ]
        )
    world.press()
    world.tick()
    assert len(world.alert().code) == 5


def test_a_device_alert_pages_only_the_mediator_and_again_every_half_hour_not_every_two_minutes(world):
    from datetime import timedelta

    from sqlalchemy import update

    from core.schema import Device

    with world.sessions.begin() as s:  # the pager said `offline` four minutes ago and stays so
        s.execute(
            update(Device)
            .where(Device.id == "pgr-0001")
            .values(status="offline", status_at=world.clock() - timedelta(minutes=4))
        )
    world.tick()
    assert world.paged() == [("med-wang", "sms"), ("med-wang", "voice")]
    world.later(minutes=2)
    world.later(minutes=27)
    assert len(world.paged()) == 2  # the night is not spent paging her about a battery
    world.later(minutes=1)
    assert world.paged()[2:] == [("med-wang", "sms"), ("med-wang", "voice")]
    assert not world.sms_to("+61400000001", "family")  # the family hears of emergencies only


def test_family_abroad_reads_the_call_in_their_language_and_their_time(sessions, example_registry, tmp_path):
    import yaml

    doc = yaml.safe_load(example_registry.read_text(encoding="utf-8"))
    son = doc["residents"][0]["contacts"][0]  # 张伟, the son in Sydney
    son.update(country="澳大利亚", timezone="Australia/Sydney", language="en")
    doc["residents"][0]["contacts"].append(
        {"name": "张丽（女儿，上海）", "phone": "+8613800000077", "notify": True, "timezone": "Asia/Shanghai"}
    )
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    world = World(sessions, path, T0)  # 10:00 in Shanghai is 13:00 in Sydney (summer time)
    world.press()
    world.tick()
    assert world.sms_to("+61400000001", "family") == [
        "[Jinqiao] Your family member 张秀英 pressed the call button at 13:00 your time. "
        "Community volunteers are on it. No need to reply."
    ]
    # the daughter's zone is the community's: the time needs no "local time"
    assert world.sms_to("+8613800000077", "family") == [
        "【金桥】您的家人张秀英于10:00按下了呼叫器，社区志愿者正在联系处理。此短信无需回复。"
    ]
