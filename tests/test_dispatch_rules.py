"""派人前往, pure: who hears which text when an operator sends someone (dispatcher.dispatch_rules), and the
texts themselves (dispatcher.messages_dispatch) in both languages."""

from __future__ import annotations

import pytest

from dispatcher import messages_dispatch as m
from dispatcher.dispatch_rules import Goer, Refused, Send, Text, decide
from dispatcher.escalation import State

LI, ZHAO, WANG = Goer("李建国", "pm-li"), Goer("赵玉兰", "pm-zhao"), Goer("王芳", "med-wang")
ME = Goer("王芳")  # the operator goes
PAGED = ["pm-li", "pm-zhao"]


@pytest.mark.parametrize(
    ("state", "target", "sent", "taker", "expected"),
    [
        # the first send of a triggered call: the operator takes it; the one sent goes, the others stand down
        (State.TRIGGERED, LI, None, None, Send(True, (Text("pm-li", "go"), Text("pm-zhao", "someone_going")))),
        # taken at the board before ("taken_by_centre"): the same texts, no new acknowledgement
        (State.ACKNOWLEDGED, LI, None, None, Send(False, (Text("pm-li", "go"), Text("pm-zhao", "someone_going")))),
        # someone not paged is sent (the mediator): everyone paged hears who is going
        (
            State.TRIGGERED,
            WANG,
            None,
            None,
            Send(True, (Text("med-wang", "go"), Text("pm-li", "someone_going"), Text("pm-zhao", "someone_going"))),
        ),
        # the operator goes: no text to them; the paged hear it
        (
            State.TRIGGERED,
            ME,
            None,
            None,
            Send(True, (Text("pm-li", "someone_going"), Text("pm-zhao", "someone_going"))),
        ),
        # sent again to another: the new one goes, the first is told; the others knew already
        (State.ACKNOWLEDGED, WANG, LI, None, Send(False, (Text("med-wang", "go"), Text("pm-li", "stood_down")))),
        (State.ACKNOWLEDGED, LI, ME, None, Send(False, (Text("pm-li", "go"),))),
        (State.ACKNOWLEDGED, ME, LI, None, Send(False, (Text("pm-li", "stood_down"),))),
        # a volunteer replied 1 and was going: sending another tells them
        (
            State.ACKNOWLEDGED,
            LI,
            None,
            ZHAO,
            Send(False, (Text("pm-li", "go"), Text("pm-zhao", "stood_down"))),
        ),
        # the volunteer who replied 1 is sent: they get the address; nobody stands down
        (State.ACKNOWLEDGED, ZHAO, None, ZHAO, Send(False, (Text("pm-zhao", "go"), Text("pm-li", "someone_going")))),
        # the one already sent: nothing (a retried request sends nothing twice)
        (State.ACKNOWLEDGED, LI, LI, None, None),
        (State.ACKNOWLEDGED, ME, ME, None, None),
        # closed: refused
        (State.RESOLVED, LI, None, None, Refused("closed")),
        (State.CANCELLED, ME, LI, None, Refused("closed")),
    ],
)
def test_who_hears_what(state, target, sent, taker, expected):
    assert decide(state, target, sent, taker, PAGED) == expected


def test_a_person_paged_twice_hears_once():
    assert decide(State.TRIGGERED, ME, None, None, ["pm-li", "pm-zhao", "pm-li"]) == Send(
        True, (Text("pm-li", "someone_going"), Text("pm-zhao", "someone_going"))
    )


def go(language=None, phone="+8613800000001", address="幸福里3幢2单元201"):
    return m.dispatch_go(
        resident="张秀英",
        address=address,
        reason="alarm",
        code="8150",
        operator="王芳",
        resident_phone=phone,
        language=language,
    )


def test_the_ask_to_go_names_where_who_the_phone_and_the_reply_that_closes():
    assert go() == (
        "【金桥】请您前往幸福里3幢2单元201看望张秀英（按下呼叫器，编号8150），值班员王芳已接警。"
        "老人电话+8613800000001。处理完毕后回复“3 8150”。"
    )
    en = go("en")
    assert en.startswith("[Jinqiao] Please go to 幸福里3幢2单元201 to see 张秀英")
    assert "Wang" not in en and "王芳" in en and "+8613800000001" in en and '"3 8150"' in en
    assert "老人电话" not in go(phone=None) and "phone" not in go("en", phone=None)
    assert "地址未登记" in go(address=" ") and "not on file" in go("en", address="")


@pytest.mark.parametrize("language", [None, "en"])
def test_the_others_and_the_one_stood_down_are_told_who_goes(language):
    someone = m.notice_someone_going(resident="张秀英", code="8150", going="李建国", language=language)
    stood = m.dispatch_stood_down(resident="张秀英", code="8150", going="王芳", language=language)
    assert "李建国" in someone and "8150" in someone and "王芳" in stood and "8150" in stood
    for text in (someone, stood):
        assert text.startswith("[Jinqiao]" if language else "【金桥】")
        assert "None" not in text and "{" not in text
    if language is None:
        assert someone == "【金桥】张秀英的呼叫（编号8150）：李建国已前往处理，您无需前往。"
        assert stood == "【金桥】张秀英的呼叫（编号8150）已改由王芳前往，您不用再去了。谢谢您！"


def test_names_of_who_goes():
    assert m.going_name(name="王芳", operator=True) == "值班员王芳"
    assert m.going_name(name="李建国", operator=False) == "李建国"
    assert m.operator_of("值班员 王芳") == "王芳" and m.operator_of("admin") == "admin"
