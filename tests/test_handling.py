"""How a call is handled by people: the pure rules (dispatcher.handling) as tables, the texts, and the
same rules end to end against World (an operator's ack, closing with or without a note)."""

from __future__ import annotations

import pytest

from dispatcher import messages
from dispatcher.alerts import Actor, NoteRequired
from dispatcher.handling import ack_notice, note_missing
from tests.support.dispatch import T0, World

OPERATOR = Actor("值班员 王芳", "web")


@pytest.mark.parametrize(
    ("channel", "dispatched_to", "expected"),
    [
        ("sms", None, "acknowledged"),  # the responder who replied 1 is going
        ("voice", None, "acknowledged"),
        ("web", None, "taken_by_centre"),  # an operator took it: nobody is told not to go
        ("web", "李建国", "acknowledged"),  # someone was sent
        ("system", None, "acknowledged"),
    ],
)
def test_ack_notice(channel, dispatched_to, expected):
    assert ack_notice(channel, dispatched_to) == expected


@pytest.mark.parametrize(
    ("channel", "outcome", "note", "missing"),
    [
        ("web", "false_alarm", "", True),
        ("web", "false_alarm", "   ", True),
        ("web", "other", "", True),
        ("web", "false_alarm", "老人误按", False),
        ("web", "helped_at_home", "", False),
        ("web", "taken_to_hospital", "", False),
        ("sms", "other", "", False),  # a reply "3 8150" writes its own note
        ("system", "other", "", False),
    ],
)
def test_note_missing(channel, outcome, note, missing):
    assert note_missing(channel, outcome, note) is missing


def test_taken_by_centre_texts_never_say_no_need_to_go():
    zh = messages.notice_sms(what="taken_by_centre", resident="张秀英", code="8150", by="值班员 王芳")
    assert (
        zh
        == "【金桥】张秀英的呼叫（编号8150）已由求援中心值班员王芳接警，正在安排人员上门。是否需要您前往，将另行通知。"
    )
    en = messages.notice_sms(what="taken_by_centre", resident="张秀英", code="8150", by="值班员 王芳", language="en")
    assert en == (
        "[Jinqiao] Duty operator 王芳 at the help centre has taken 张秀英's call (code 8150) and is arranging a visit. "
        "We will tell you whether you are needed."
    )
    assert "无需前往" not in zh and "No need" not in en
    bare = messages.notice_sms(what="taken_by_centre", resident="张秀英", code="8150", by=None)
    assert "已由求援中心接警" in bare


@pytest.fixture
def world(sessions, example_registry) -> World:
    return World(sessions, example_registry, T0)


def test_an_operators_ack_tells_the_paged_the_centre_has_it_and_stops_escalation(world):
    world.press()
    world.tick()
    alert = world.alert()
    assert world.alerts.acknowledge(alert.id, OPERATOR).changed
    world.tick()
    for who in ("pm-li", "pm-zhao"):
        (notice,) = world.sms_to(who, "notice")
        assert "求援中心值班员王芳接警" in notice and "无需前往" not in notice
    assert world.alert().acknowledged_by == "值班员 王芳"
    pages = len(world.paged())
    world.later(minutes=10)
    assert len(world.paged()) == pages  # escalation stopped


def test_a_responders_ack_keeps_no_need_to_go(world):
    world.press()
    world.tick()
    world.sms_from("pm-li", "1")
    world.tick()
    (notice,) = world.sms_to("pm-zhao", "notice")
    assert "无需前往" in notice and "李建国" in notice


def test_an_operator_closing_as_false_alarm_needs_a_note(world):
    world.press()
    world.tick()
    alert = world.alert()
    with pytest.raises(NoteRequired, match="note is required"):
        world.alerts.resolve(alert.id, OPERATOR, "false_alarm", " ")
    assert world.alert().state == "triggered"  # nothing was written
    assert world.alerts.resolve(alert.id, OPERATOR, "false_alarm", "老人误按").changed
    closed = world.alert()
    assert closed.state == "resolved" and closed.resolved_by == "值班员 王芳"
