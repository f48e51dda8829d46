"""WeCom end to end: our adapter against the fake WeCom, its button events to our callback over
HTTP (encrypted and signed as WeCom does), on SQLite and PostgreSQL; SMS and calls by Aliyun, and
no Twilio account unless a test says so.

The building volunteers list `[wecom_card, aliyun_sms]`: a press sends each a card and an SMS; 我去处理
acknowledges and the card then says so; 无法前往 passes to the mediator at once; a press after
someone else took the call gets a card that says who did; an event posted again acts once; an
event not signed with the app's token, or not of its corp, is 403 and changes nothing; a volunteer
not in WeCom gets the SMS all the same; the mixed deployment (cards for the volunteers, Aliyun
calls for the hotline, Twilio for the son in Sydney)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select, update

from core.db import transaction
from core.schema import DeliveryReport, Notification, Responder, TimelineEntry
from dispatcher.alerts import Actor
from dispatcher.wecom_api import WeComApi, WeComError
from dispatcher.wecom_cards import notification_of, task_id
from dispatcher.wecom_crypto import CallbackRefused, aes_key, open_message, seal, signature
from simulators.fake_wecom import PER_MINUTE, FakeWeCom, wecom_encrypt, wecom_signature
from tests.support.aliyun import (
    AES_KEY,
    AGENT,
    CALLBACK_TOKEN,
    CORP,
    CORP_SECRET,
    LI,
    MEMBERS,
    WANG,
    ZHAO,
    alert,
    press,
    running,
    state,
)
from tests.support.waiting import eventually

CARDS_FIRST = ["wecom_card", "aliyun_sms"]


def volunteers_on_wecom(system, ids=("pm-li", "pm-zhao")) -> None:
    with transaction(system["sessions"]) as s:
        s.execute(update(Responder).where(Responder.id.in_(ids)).values(channels=CARDS_FIRST))


@pytest.fixture
def system(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, voice="ivr", wecom=True) as running_system:
        volunteers_on_wecom(running_system)
        yield running_system


@pytest.fixture
def mixed(db_url, engine, example_registry, tmp_path):
    with running(db_url, engine, example_registry, tmp_path, with_twilio=True, voice="ivr", wecom=True) as sys_:
        volunteers_on_wecom(sys_)
        yield sys_


def entries(system, what: str) -> list[TimelineEntry]:
    with system["sessions"]() as s:
        return list(s.scalars(select(TimelineEntry).where(TimelineEntry.what == what).order_by(TimelineEntry.id)))


def texts_to(system, number: str, containing: str) -> list[str]:
    return [m.text for m in system["fake"].sent_to(number) if containing in m.text]


def test_a_press_sends_each_volunteer_a_card_and_woqu_chuli_acknowledges_and_the_card_says_so(system):
    wecom = system["wecom"]
    wecom.set_behaviour(LI, press="ack")
    press(system)
    [card] = wecom.wait_for(lambda: wecom.cards_to(LI))
    assert card.card["main_title"]["title"] == "张秀英 按下呼叫器"
    assert [b["text"] for b in card.card["button_list"]] == ["我去处理", "无法前往"]
    wecom.wait_for(lambda: {c.userid for c in wecom.cards} == {"LiJianGuo", "ZhaoYuLan"})  # one card each
    eventually(lambda: state(system) == "acknowledged", what="acknowledged by the card's button")
    assert alert(system).acknowledged_by == "李建国"
    [ack] = entries(system, "acknowledged")
    assert (ack.actor, ack.channel) == ("李建国", "card")
    wecom.wait_for(lambda: card.updates == ["已由您接下，请前往"])
    [other] = wecom.cards_to(ZHAO)  # nobody pressed it: its buttons say who went, with the send's code
    wecom.wait_for(lambda: other.updates == ["已由李建国于14:00接下，无需前往"])
    system["fake"].wait_for(lambda: texts_to(system, LI, "张秀英"))  # the SMS of the list went too

    def card_row() -> Notification:
        with system["sessions"]() as s:
            return s.scalars(
                select(Notification).where(Notification.to_number == LI, Notification.channel == "card")
            ).one()

    row = eventually(lambda: (r := card_row()).provider_sid and r, what="the card's id on its row")
    assert row.provider_sid == task_id(row.id) == card.task_id and row.provider == "wecom"


def test_wufa_qianwang_passes_to_the_mediator_at_once(system):
    wecom = system["wecom"]
    wecom.set_behaviour(LI, press="pass")
    press(system)
    system["fake"].wait_for(lambda: texts_to(system, WANG, "您是调解员"), timeout=15)
    assert alert(system).state == "triggered"
    [card] = wecom.cards_to(LI)
    wecom.wait_for(lambda: card.updates == ["已转下一级"])
    [passed] = entries(system, "passed")
    assert (passed.actor, passed.channel) == ("李建国", "card")


def test_a_call_taken_by_sms_turns_the_cards_into_who_took_it_and_a_late_press_says_so_too(system):
    wecom, fake = system["wecom"], system["fake"]
    fake.set_behaviour(ZHAO, reply="1")  # 赵玉兰 replies 1 to her SMS
    press(system)
    eventually(lambda: state(system) == "acknowledged", what="acknowledged by 赵玉兰's reply")
    assert alert(system).acknowledged_by == "赵玉兰"
    [card] = wecom.wait_for(lambda: wecom.cards_to(LI))
    [hers] = wecom.cards_to(ZHAO)
    wecom.wait_for(lambda: card.updates == ["已由赵玉兰于14:00接下，无需前往"])  # nobody pressed a button
    wecom.wait_for(lambda: hers.updates == ["已由您接下，请前往"])
    wecom.press(card, "ack")  # a press on the old card before it changed on the phone
    wecom.wait_for(lambda: card.updates == ["已由赵玉兰于14:00接下，无需前往"] * 2)
    assert alert(system).acknowledged_by == "赵玉兰"
    with system["sessions"]() as s:  # each card updated once by the pass, however often it ran
        marks = s.scalars(select(DeliveryReport.provider_sid).where(DeliveryReport.status == "card updated")).all()
    assert sorted(marks) == sorted({c.task_id for c in (card, hers)})


def test_an_event_posted_again_acts_once(system):
    wecom = system["wecom"]
    wecom.set_behaviour(LI, press="ack", repeat=3)
    press(system)
    eventually(lambda: state(system) == "acknowledged", what="acknowledged")
    wecom.wait_for(lambda: len(wecom.presses) == 3)
    assert all(p.status == 200 for p in wecom.presses)
    assert len(entries(system, "acknowledged")) == 1
    with system["sessions"]() as s:
        assert (
            s.scalar(select(func.count()).select_from(DeliveryReport).where(DeliveryReport.status == "button ack")) == 1
        )
    [card] = wecom.cards_to(LI)
    assert card.updates == ["已由您接下，请前往"]


@pytest.mark.parametrize("forged", ["token", "corp", "garbage"])
def test_an_event_not_signed_for_this_app_is_refused_and_changes_nothing(system, forged):
    wecom = system["wecom"]
    press(system)
    [card] = wecom.wait_for(lambda: wecom.cards_to(LI))
    event = (
        f"<xml><FromUserName>LiJianGuo</FromUserName><MsgType>event</MsgType><Event>template_card_event</Event>"
        f"<EventKey>ack</EventKey><TaskId>{card.task_id}</TaskId><ResponseCode>x</ResponseCode></xml>"
    )
    encrypted = wecom_encrypt(AES_KEY, event, "ww-another-corp" if forged == "corp" else CORP)
    if forged == "garbage":
        encrypted = "bm90IGVuY3J5cHRlZA=="
    sig = wecom_signature("not-the-token" if forged == "token" else CALLBACK_TOKEN, "1", "n", encrypted)
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        r = http.post(
            "/wecom/callback",
            params={"msg_signature": sig, "timestamp": "1", "nonce": "n"},
            content=f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode(),
        )
    assert r.status_code == 403
    assert alert(system).state == "triggered" and entries(system, "acknowledged") == []


def test_the_callback_url_check_is_answered_with_the_decrypted_echo(system):
    echo = wecom_encrypt(AES_KEY, "1234567890", CORP)
    sig = wecom_signature(CALLBACK_TOKEN, "7", "n", echo)
    with httpx.Client(timeout=30, base_url=system["public"]) as http:
        r = http.get("/wecom/callback", params={"msg_signature": sig, "timestamp": "7", "nonce": "n", "echostr": echo})
        wrong = http.get(
            "/wecom/callback", params={"msg_signature": "0" * 40, "timestamp": "7", "nonce": "n", "echostr": echo}
        )
    assert (r.status_code, r.text) == (200, "1234567890")
    assert wrong.status_code == 403


def test_a_volunteer_not_in_wecom_gets_the_sms_all_the_same_and_the_timeline_says_why(system):
    wecom = system["wecom"]
    del wecom.members[ZHAO[3:]]  # 赵玉兰 has left the corp's WeCom
    press(system)
    system["fake"].wait_for(lambda: texts_to(system, ZHAO, "张秀英"))
    eventually(lambda: [e for e in entries(system, "channel_refused") if e.actor == "赵玉兰"], what="the refusal")
    [refused] = [e for e in entries(system, "channel_refused") if e.actor == "赵玉兰"]
    assert refused.detail["by"] == "wecom" and refused.detail["then"] is None
    assert wecom.cards_to(LI) and not wecom.cards_to(ZHAO)


def test_the_mixed_deployment_cards_for_volunteers_aliyun_calls_for_the_hotline_twilio_for_the_son_abroad(mixed):
    wecom, fake, twilio = mixed["wecom"], mixed["fake"], mixed["twilio"]
    with transaction(mixed["sessions"]) as s:  # the hotline's duty people take their calls by Aliyun
        s.execute(update(Responder).where(Responder.id.in_(["duty-chen", "duty-he"])).values(channels=["aliyun_voice"]))
        s.execute(update(Responder).where(Responder.id == "med-wang").values(channels=["wecom_card"]))
    wecom.set_behaviour(LI, press="pass")
    wecom.set_behaviour(WANG, press="pass")
    press(mixed)
    son = twilio.wait_for(lambda: [m for m in twilio.messages if m.to == "+61400000001"], timeout=10)[0]
    assert "您的家人张秀英" in son.body  # abroad: by Twilio
    wecom.wait_for(lambda: wecom.cards_to(WANG), timeout=15)  # 李建国 passed: the mediator's card
    hotline = fake.wait_for(
        lambda: [c for c in fake.voice.calls if c.callee in ("13900000005", "13900000006")], timeout=15
    )
    assert hotline[0].action == "IvrCall"  # 王芳 passed too: the hotline is called by Aliyun
    assert not [c for c in twilio.calls] and not [m for m in twilio.messages if m.to.startswith("+86")]


# --- the parts alone ---------------------------------------------------------------------------


def test_our_decryption_reads_what_the_fake_encrypts_and_refuses_the_rest():
    key = aes_key(AES_KEY)
    sealed = wecom_encrypt(AES_KEY, "<xml>你好</xml>", CORP)
    sig = wecom_signature(CALLBACK_TOKEN, "1", "n", sealed)
    assert open_message(key, CALLBACK_TOKEN, CORP, "1", "n", sig, sealed) == "<xml>你好</xml>"
    ours = seal(key, "<xml>再见</xml>", CORP)  # and the other way round
    assert (
        open_message(key, CALLBACK_TOKEN, CORP, "2", "m", signature(CALLBACK_TOKEN, "2", "m", ours), ours)
        == "<xml>再见</xml>"
    )
    with pytest.raises(CallbackRefused, match="bad msg_signature"):
        open_message(key, CALLBACK_TOKEN, CORP, "1", "n", "0" * 40, sealed)
    with pytest.raises(CallbackRefused, match="another corp"):
        open_message(key, CALLBACK_TOKEN, "ww-other", "1", "n", sig, sealed)
    broken = sealed[:-8] + "AAAAAAA="
    with pytest.raises(CallbackRefused, match="cannot decrypt"):
        open_message(key, CALLBACK_TOKEN, CORP, "1", "n", wecom_signature(CALLBACK_TOKEN, "1", "n", broken), broken)


@pytest.fixture
def fake_wecom():
    with FakeWeCom(CORP, CORP_SECRET, AGENT, members=MEMBERS) as fake:
        yield fake


CARD = {"card_type": "button_interaction", "task_id": "jq-1", "button_list": [{"text": "我去处理", "key": "ack"}]}


def test_our_client_fetches_a_token_again_once_it_has_expired(fake_wecom):
    api = WeComApi(CORP, CORP_SECRET, AGENT, fake_wecom.url)
    assert api.userid_of("13900000001") == "LiJianGuo"
    fake_wecom.expire_tokens()
    api.send_card("LiJianGuo", CARD)
    assert ("/cgi-bin/message/send", 42001) in fake_wecom.errors and len(fake_wecom.tokens) == 2
    with pytest.raises(WeComError) as unknown:
        api.userid_of("13999999999")
    assert unknown.value.code == 46004 and not unknown.value.temporary
    with pytest.raises(WeComError, match="40001"):
        WeComApi(CORP, "wrong-secret", AGENT, fake_wecom.url).userid_of("13900000001")


def test_the_fake_drops_a_members_31st_card_in_a_minute_without_a_word(fake_wecom):
    api = WeComApi(CORP, CORP_SECRET, AGENT, fake_wecom.url)
    for i in range(PER_MINUTE + 1):
        api.send_card("LiJianGuo", CARD | {"task_id": f"jq-{i}"})  # every one answered errcode 0
    assert len(fake_wecom.cards) == PER_MINUTE and len(fake_wecom.dropped) == 1
    with pytest.raises(WeComError, match="40058"):
        api.send_card("LiJianGuo", CARD | {"task_id": "jq-0"})  # a task id once only


@pytest.mark.parametrize(
    ("task", "n"),
    [("jq-17", 17), ("jq-x", None), ("other-17", None), ("jq-99999999999", None), ("jq-²", None), ("jq-0", None)],
)
def test_a_cards_task_id_names_our_row_or_nothing(task, n):
    assert notification_of(task) == n


def test_the_work_group_hears_of_the_call_when_it_opens_is_taken_and_is_over(system):
    wecom = system["wecom"]
    wecom.set_behaviour(LI, press="ack")
    press(system)
    eventually(lambda: state(system) == "acknowledged", what="acknowledged")
    code = alert(system).code
    wecom.wait_for(lambda: len(wecom.robot) == 2, timeout=20)
    assert [m.content for m in wecom.robot] == [
        f"【金桥】紧急呼叫（编号{code}）：张秀英（幸福里3幢2单元201）按下呼叫器，14:00。正在联系楼道党员。",
        f"【金桥】张秀英的呼叫（编号{code}）已由李建国于14:00接下。",
    ]
    system["dispatcher"].alerts.resolve(alert(system).id, Actor("王芳", "web"), "helped_at_home", "")
    wecom.wait_for(lambda: len(wecom.robot) == 3, timeout=20)
    assert wecom.robot[2].content == f"【金桥】张秀英的呼叫（编号{code}）已于14:00处理完毕（已在家中得到帮助）。"
    with system["sessions"]() as s:  # each notice once, however often the pass ran
        rows = s.scalars(select(Notification.dedupe_key).where(Notification.purpose == "group")).all()
    assert sorted(k.rsplit(":", 1)[1] for k in rows) == ["group-acknowledged", "group-opened", "group-resolved"]


def test_the_robot_refuses_a_21st_text_in_a_minute_and_a_wrong_key(fake_wecom):
    from dispatcher.wecom_api import WeComRobot

    robot = WeComRobot(fake_wecom.robot_url)
    for i in range(20):
        robot.send_text(f"notice {i}")
    with pytest.raises(WeComError) as busy:
        robot.send_text("one too many")
    assert busy.value.code == 45009 and busy.value.temporary  # the outbox tries it again later
    with pytest.raises(WeComError, match="93000"):
        WeComRobot(fake_wecom.url + "/cgi-bin/webhook/send?key=wrong").send_text("x")
