"""Visits of the monitoring net: the `走访` reply read (dispatcher/visits.py, pure), when a visit falls
due and who hears of it, on literal instants in Shanghai; and in a World, the reminder that reaches
the party members, the mediator told of a missed visit, a visit recorded by SMS with its need passed
on, and every step once only. No verdict depends on the wall clock: the world runs on a fake one."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from core.schema import Visit
from dispatcher.passes import Pass
from dispatcher.visit_log import VisitReminders
from dispatcher.visits import VisitReply, VisitView, due, match_resident, notices, parse_visit
from dispatcher.webhooks import handle_sms
from tests.support.dispatch import World

SH = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    "body, expected",
    [
        ("走访", VisitReply(None, "", None)),
        ("走访 张秀英", VisitReply("张秀英", "", None)),
        ("走访张秀英", VisitReply("张秀英", "", None)),
        ("走访：张秀英，身体好", VisitReply("张秀英", "身体好", None)),
        ("走访 张秀英 身体好，需要买药", VisitReply("张秀英", "身体好 需要买药", "需要买药")),
        ("走访　张秀英　需要修水管", VisitReply("张秀英", "需要修水管", "需要修水管")),  # full-width spaces
        ("走访 需要买药", VisitReply(None, "需要买药", "需要买药")),
        ("1 8150", None),
        ("收到", None),
        ("今天走访了", None),
        ("", None),
    ],
)
def test_a_visit_reply_is_read(body, expected):
    assert parse_visit(body) == expected


def test_the_resident_is_the_one_named_or_the_only_one():
    theirs = {"r-zhang": "张秀英", "r-wang": "王秀兰"}
    assert match_resident(VisitReply("王秀兰", "", None), theirs) == "r-wang"
    assert match_resident(VisitReply("李四", "", None), theirs) is None
    assert match_resident(VisitReply(None, "", None), theirs) == ["张秀英", "王秀兰"]
    assert match_resident(VisitReply(None, "", None), {"r-zhang": "张秀英"}) == "r-zhang"


def view(last: str | None, every: int | None = None, since: str = "2026-11-01 12:00", away: bool = False) -> VisitView:
    at = local(last).astimezone(timezone.utc) if last else None
    return VisitView("r-zhang", every, at, local(since).astimezone(timezone.utc), "Asia/Shanghai", away)


def test_a_visit_falls_due_in_the_communitys_days():
    assert due(view("2026-11-10 23:30"), local("2026-12-01 09:00")).day == date(2026, 12, 10)  # 15:30 UTC
    assert due(view(None), local("2026-12-01 09:00")).day == date(2026, 12, 1)  # registered 11-01: monthly
    daily = due(view("2026-12-01 16:00", every=1), local("2026-12-04 09:00"))
    assert (daily.day, daily.overdue_days) == (date(2026, 12, 2), 2)


@pytest.mark.parametrize(
    "now, keys",
    [
        ("2026-12-01 23:59", []),  # the day before
        ("2026-12-02 07:59", []),  # the due day, before the morning
        ("2026-12-02 08:00", ["visit-due:r-zhang:2026-12-02"]),
        ("2026-12-02 20:59", ["visit-due:r-zhang:2026-12-02"]),
        ("2026-12-02 21:00", []),  # night: nobody is woken for a visit
        ("2026-12-03 06:00", []),
        ("2026-12-03 08:00", ["visit-due:r-zhang:2026-12-02", "visit-overdue:r-zhang:2026-12-02:0"]),
        ("2026-12-09 12:00", ["visit-due:r-zhang:2026-12-02", "visit-overdue:r-zhang:2026-12-02:0"]),
        ("2026-12-10 08:00", ["visit-due:r-zhang:2026-12-02", "visit-overdue:r-zhang:2026-12-02:1"]),  # a week on
    ],
)
def test_who_hears_of_a_visit_and_when(now, keys):
    assert [n.key for n in notices(view("2026-11-02 10:00"), local(now))] == keys


def test_nobody_is_reminded_of_a_resident_who_is_away():
    assert notices(view("2026-11-02 10:00", away=True), local("2026-12-03 09:00")) == []


# --- in a World ---------------------------------------------------------------------------------

REGISTERED = datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai


@pytest.fixture
def world(sessions, example_registry, tmp_path) -> World:
    doc = yaml.safe_load(example_registry.read_text(encoding="utf-8"))
    doc["residents"].append(
        {"id": "r-wang", "name": "王秀兰", "building": "wulin-3", "visit_every_days": 7, "address": "幸福里3幢1单元102"}
    )
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    w = World(sessions, path, REGISTERED)
    reminders = VisitReminders(sessions, w.clock)
    w.passes.append(Pass("visits", reminders.run))
    return w


def visits(sessions) -> list[tuple[str, str, str, str | None]]:
    with sessions() as s:
        return [(v.resident_id, v.by_name, v.note, v.need) for v in s.scalars(select(Visit).order_by(Visit.id))]


def test_the_party_members_are_reminded_then_the_mediator_told(world):
    world.clock.t = local("2026-11-08 07:00").astimezone(timezone.utc)
    world.tick()
    assert world.sms_to("pm-li", "visit_due") == []  # 王秀兰 is due on the 8th, from 08:00
    world.later(hours=1)
    world.later(minutes=5)  # a second look sends nothing twice
    reminder = world.sms_to("pm-li", "visit_due")
    assert reminder == [
        "【金桥】今天请走访王秀兰（幸福里3幢1单元102）。走访后回复“走访 王秀兰”，有需要请接着写，如“走访 王秀兰 需要买药”。"
    ]
    assert len(world.sms_to("pm-zhao", "visit_due")) == 1 and world.sms_to("pm-sun", "visit_due") == []
    assert world.sms_to("med-wang", "visit_overdue") == []
    world.later(days=1)  # the 9th, 09:05: the day passed without a visit
    (told,) = world.sms_to("med-wang", "visit_overdue")
    assert told == "【金桥】王秀兰（幸福里3幢1单元102）应于11月8日走访，已逾期1天，李建国、赵玉兰尚未回报。请跟进。"
    world.later(days=1)
    assert len(world.sms_to("med-wang", "visit_overdue")) == 1  # once a week, not daily


def test_a_visit_by_sms_is_recorded_once_and_its_need_goes_to_the_mediator(world, sessions):
    world.clock.t = local("2026-11-20 10:00").astimezone(timezone.utc)
    world.sms_from("pm-li", "走访 张秀英 精神不错，需要买降压药", sid="SMvisit1")
    world.sms_from("pm-li", "走访 张秀英 精神不错，需要买降压药", sid="SMvisit1")  # the webhook again
    assert visits(sessions) == [("r-zhang", "李建国", "精神不错 需要买降压药", "需要买降压药")]
    (answer,) = world.sms_to("pm-li", "reply")
    assert answer == "【金桥】已记录您对张秀英的走访，谢谢。下次请在12月20日前走访。您记下的需要已转调解员跟进。"
    (need,) = world.sms_to("med-wang", "visit_need")
    assert need == "【金桥】李建国走访张秀英时记下需要：需要买降压药。请跟进。"
    world.later(days=29)  # 12-19: not due yet, so no reminder for 张秀英
    assert not [b for b in world.sms_to("pm-li", "visit_due") if "张秀英" in b]


def test_a_bare_visit_reply_asks_which_resident_and_a_stranger_is_told(world, sessions):
    world.clock.t = local("2026-11-20 10:00").astimezone(timezone.utc)
    world.sms_from("pm-li", "走访")  # pm-li looks after 张秀英 and 王秀兰
    assert world.sms_to("pm-li", "reply") == [
        "【金桥】请说明走访了哪位居民。您负责走访：张秀英、王秀兰。请回复如“走访 张秀英”。"
    ]
    world.sms_from("pm-sun", "走访")  # pm-sun looks after one: 刘德明
    world.sms_from("pm-sun", "走访 张秀英")  # not theirs
    assert visits(sessions) == [("r-liu", "孙海涛", "", None)]
    assert "您负责走访：刘德明" in world.sms_to("pm-sun", "reply")[-1]
    handle_sms(world.ctx, {"MessageSid": "SMstranger", "From": "+8613700000000", "Body": "走访 张秀英"})
    world.tick()
    assert world.sms_to("+8613700000000", "reply") == ["【金桥】此号码未登记为楼道党员，走访未能记录。请联系社区。"]


def test_a_visit_reply_never_touches_an_open_call(world):
    world.clock.t = local("2026-11-20 10:00").astimezone(timezone.utc)
    world.press()
    world.tick()
    world.sms_from("pm-li", "走访 张秀英")
    assert world.alert().state == "triggered"


def test_every_day_for_the_frail(world, sessions):
    world.clock.t = local("2026-11-20 10:00").astimezone(timezone.utc)
    with sessions.begin() as s:
        from core.schema import Resident

        s.get(Resident, "r-liu").visit_every_days = 1
    world.sms_from("pm-sun", "走访")
    world.later(hours=22)  # 08:00 the next day
    assert [b for b in world.sms_to("pm-sun", "visit_due") if "刘德明" in b]
