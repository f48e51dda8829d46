"""The mediator's day: the daily summary's text (dispatcher/summary_text.py, pure), its facts read
from what happened in a World (calls, outcomes, follow-up items, overdue visits), sent once at the
set local time. The world runs on a fake clock."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from core.schema import Community, FollowUp, Resident
from dispatcher.mediator_day import MediatorSummaries, day_facts
from dispatcher.passes import Pass
from dispatcher.summary_text import DayFacts, summary_sms
from tests.support.dispatch import World

SH = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH).astimezone(timezone.utc)


def test_the_summary_reads_as_the_mediator_would_want_it():
    facts = DayFacts(
        community="天水武林社区",
        day=date(2026, 12, 2),
        calls={"emergency": 2, "wellness": 1},
        outcomes={"false_alarm": 1, "helped_at_home": 1},
        still_open=1,
        checkins_missed=1,
        follow_ups_open=3,
        follow_ups_late=1,
        visits_overdue=("张秀英", "刘德明", "王秀兰", "李桂芳", "陈阿婆", "赵老伯"),
        devices_to_fix=2,
    )
    assert summary_sms(facts) == (
        "【金桥】天水武林社区 12月2日：呼叫3次（紧急呼叫 2，平安关怀 1）；结果：误报 1，上门帮助 1；未结案1次；"
        "未按时报平安1人次；跟进事项未办3件，其中逾期1件；逾期未走访：张秀英、刘德明、王秀兰、李桂芳、陈阿婆等6人；待修设备2台。"
    )
    assert summary_sms(DayFacts("天水武林社区", date(2026, 12, 2)), "en") == (
        "[Jinqiao] 天水武林社区, 02 Dec: 0 calls; 0 check-ins missed; follow-ups open 0, late 0; "
        "visits overdue: none; 0 devices to fix."
    )


@pytest.fixture
def world(sessions, example_registry) -> World:
    w = World(sessions, example_registry, local("2026-12-02 09:00"), set_up_at=local("2026-10-01 09:00"))
    w.passes.append(Pass("summaries", MediatorSummaries(sessions, w.clock, "08:30").run))
    return w


def test_yesterdays_facts_go_to_the_mediator_once_at_the_set_time(world, sessions):
    world.press()
    world.tick()
    world.later(seconds=30)
    world.sms_from("pm-li", "3")  # 李建国 handled it: resolved
    world.sms_from("pm-li", "走访 张秀英 需要修水管")  # a visit with a need: a follow-up item
    with sessions.begin() as s:
        s.execute(update(Resident).where(Resident.id == "r-liu").values(visits_since=local("2026-10-01 09:00")))
        s.add(
            FollowUp(
                resident_id="r-liu",
                text="帮助申请助餐",
                owner="王秀珍",
                promised_on=date(2026, 12, 1),
                state="open",
                opened_at=local("2026-11-25 10:00"),
                opened_by="值班员 王芳",
                outcome="",
            )
        )
    (first,) = world.sms_to("med-wang", "summary")  # the world began at 09:00 on the 2nd: the 1st's
    assert first.startswith("【金桥】武林社区 12月1日：呼叫0次；") and "逾期未走访：刘德明、张秀英" in first
    world.clock.t = local("2026-12-03 08:29")
    world.tick()
    assert len(world.sms_to("med-wang", "summary")) == 1
    world.later(minutes=1)
    world.later(minutes=5)
    summary = world.sms_to("med-wang", "summary")[1:]
    assert summary == [
        "【金桥】武林社区 12月2日：呼叫1次（紧急呼叫 1）；结果：其他 1；未按时报平安0人次；"
        "跟进事项未办2件，其中逾期1件；逾期未走访：刘德明；待修设备0台。"
    ]
    with sessions() as s:
        items = s.scalars(select(FollowUp).order_by(FollowUp.id)).all()
        assert [(i.text, i.owner, i.opened_by) for i in items] == [
            ("需要修水管", "王芳", "李建国"),  # the need seen on the visit, owned by the mediator
            ("帮助申请助餐", "王秀珍", "值班员 王芳"),
        ]
        community = s.get(Community, "tianshui-wulin")
        assert day_facts(s, community, date(2026, 12, 1), world.clock()).calls == {}  # the day before: none
