"""The texts people read and hear: who, where, what and the code are always there, in their language."""

from __future__ import annotations

import re

import pytest

from dispatcher import messages as m
from dispatcher import messages_family as fam

WHO, WHERE, CODE = "张秀英", "幸福里3幢2单元201", "4821"
BY, AT = "李建国", "14:02"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
LEFTOVERS = ("{", "}", "None", "none", "%s", "  ")


def page(reason="alarm", tier="building", repeats=0, language=None, address=WHERE):
    return m.page_sms(
        resident=WHO, address=address, reason=reason, tier=tier, code=CODE, repeats=repeats, language=language
    )


def voice(reason="alarm", tier="building", repeats=0, language=None):
    return m.page_voice(resident=WHO, address=WHERE, reason=reason, tier=tier, repeats=repeats, language=language)


# (name, text for a language, what it must contain)
SMS = [
    ("page", lambda lang: page(language=lang), [WHO, WHERE, CODE]),
    (
        "reply_acknowledged",
        lambda lang: m.reply_acknowledged(resident=WHO, code=CODE, language=lang),
        [WHO, CODE, f"3 {CODE}"],
    ),
    (
        "reply_already_acknowledged",
        lambda lang: m.reply_already_acknowledged(resident=WHO, code=CODE, by_name=BY, at_local=AT, language=lang),
        [WHO, CODE, BY, AT],
    ),
    (
        "reply_already_closed resolved",
        lambda lang: m.reply_already_closed(resident=WHO, code=CODE, state="resolved", language=lang),
        [WHO, CODE],
    ),
    (
        "reply_already_closed cancelled",
        lambda lang: m.reply_already_closed(resident=WHO, code=CODE, state="cancelled", language=lang),
        [WHO, CODE],
    ),
    ("reply_passed", lambda lang: m.reply_passed(resident=WHO, code=CODE, language=lang), [WHO, CODE, f"1 {CODE}"]),
    (
        "reply_already_moved_on",
        lambda lang: m.reply_already_moved_on(resident=WHO, code=CODE, language=lang),
        [WHO, CODE, f"1 {CODE}"],
    ),
    (
        "reply_cannot_pass_own",
        lambda lang: m.reply_cannot_pass_own(resident=WHO, code=CODE, language=lang),
        [WHO, CODE, f"3 {CODE}"],
    ),
    ("reply_resolved", lambda lang: m.reply_resolved(resident=WHO, code=CODE, language=lang), [WHO, CODE]),
    ("reply_no_open_alert", lambda lang: m.reply_no_open_alert(language=lang), []),
    ("reply_unknown_code", lambda lang: m.reply_unknown_code(code="9999", language=lang), ["9999"]),
    ("reply_help", lambda lang: m.reply_help(language=lang), ["1", "2", "3", "1 4821"]),
    (
        "notice acknowledged",
        lambda lang: m.notice_sms(what="acknowledged", resident=WHO, code=CODE, by=BY, language=lang),
        [WHO, CODE, BY],
    ),
    (
        "notice resolved",
        lambda lang: m.notice_sms(what="resolved", resident=WHO, code=CODE, by=BY, language=lang),
        [WHO, CODE, BY],
    ),
    (
        "notice cancelled",
        lambda lang: m.notice_sms(what="cancelled", resident=WHO, code=CODE, by="resident", language=lang),
        [WHO, CODE],
    ),
    (
        "family opened",
        lambda lang: fam.family_sms(resident=WHO, at=AT, opened=True, reason="alarm", language=lang),
        [WHO, AT],
    ),
    (
        "family resolved",
        lambda lang: fam.family_sms(resident=WHO, at=AT, opened=False, outcome="other", language=lang),
        [WHO, AT],
    ),
    ("family cancelled", lambda lang: fam.family_cancelled(resident=WHO, at_local=AT, language=lang), [WHO, AT]),
]
VOICE = [
    ("page_voice", lambda lang: voice(language=lang), [WHO, WHERE]),
    ("voice_acknowledged", lambda lang: m.voice_acknowledged(language=lang), []),
    ("voice_passed", lambda lang: m.voice_passed(language=lang), []),
    ("voice_already_moved_on", lambda lang: m.voice_already_moved_on(language=lang), ["1"]),
    ("voice_cannot_pass_own", lambda lang: m.voice_cannot_pass_own(language=lang), []),
    ("voice_invalid_key", lambda lang: m.voice_invalid_key(language=lang), []),
    (
        "voice_already_acknowledged",
        lambda lang: m.voice_already_acknowledged(by_name=BY, at_local=AT, language=lang),
        [BY, AT],
    ),
    (
        "voice_already_closed resolved",
        lambda lang: m.voice_already_closed(resident=WHO, state="resolved", language=lang),
        [],
    ),
    (
        "voice_already_closed cancelled",
        lambda lang: m.voice_already_closed(resident=WHO, state="cancelled", language=lang),
        [WHO],
    ),
]
LANGUAGES = [None, "zh-CN", "en", "en-US"]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("name", "make", "must"), SMS + VOICE, ids=[n for n, _, _ in SMS + VOICE])
def test_every_text_is_complete(name, make, must, language):
    text = make(language)
    for part in must:
        assert part in text, (name, part, text)
    for leftover in LEFTOVERS:
        assert leftover not in text, (name, leftover, text)
    assert text == text.strip() and text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("name", "make", "must"), SMS, ids=[n for n, _, _ in SMS])
def test_every_sms_is_signed(name, make, must, language):
    assert make(language).startswith(("【金桥", "[Jinqiao"))


@pytest.mark.parametrize(("name", "make", "must"), VOICE, ids=[n for n, _, _ in VOICE])
def test_spoken_texts_carry_no_sms_signature(name, make, must):
    assert "【" not in make(None) and "[" not in make("en")


@pytest.mark.parametrize(("name", "make", "must"), SMS + VOICE, ids=[n for n, _, _ in SMS + VOICE])
def test_english_is_english_but_for_names(name, make, must):
    text = make("en-GB")
    for name_or_place in (WHO, WHERE, BY):
        text = text.replace(name_or_place, "")
    assert not CJK.search(text), text


@pytest.mark.parametrize(("name", "make", "must"), SMS + VOICE, ids=[n for n, _, _ in SMS + VOICE])
def test_chinese_by_default(name, make, must):
    assert make(None) == make("zh-CN") == make("de") and CJK.search(make(None))


@pytest.mark.parametrize(
    ("language", "english"),
    [
        (None, False),
        ("", False),
        ("zh-CN", False),
        ("zh", False),
        ("de", False),
        ("en", True),
        ("en-US", True),
        ("EN_gb", True),
        (" en ", True),
    ],
)
def test_language_choice(language, english):
    assert m.is_english(language) is english


def test_the_example_page():
    assert (
        page()
        == "【金桥紧急呼叫】张秀英 幸福里3幢2单元201 按下呼叫器。您是楼道党员。回复1确认前往，2转下一级，3已处理。编号4821"
    )


@pytest.mark.parametrize("reason", ["alarm", "fall", "checkin_missed", "offline", "heartbeat_missed"])
@pytest.mark.parametrize("tier", ["building", "mediator", "hotline"])
def test_a_page_fits_one_sms_segment_for_the_example_resident(reason, tier):
    assert len(page(reason=reason, tier=tier, repeats=2)) <= 70


@pytest.mark.parametrize(
    ("reason", "tier", "language", "must"),
    [
        ("alarm", "building", None, ["【金桥紧急呼叫】", "按下呼叫器", "您是楼道党员"]),
        ("fall", "mediator", None, ["【金桥紧急呼叫】", "跌倒报警", "您是调解员"]),
        ("checkin_missed", "building", None, ["【金桥】", "未按时报平安"]),
        ("offline", "mediator", None, ["【金桥】", "呼叫器离线"]),
        ("alarm", "hotline", None, ["求援热线"]),
        ("smoke", "hotline", None, ["smoke"]),  # an unknown reason is shown, never dropped
        ("alarm", "night_watch", None, ["night_watch"]),
        ("alarm", "building", "en", ["[Jinqiao SOS]", "pressed the call button", "building volunteer"]),
        ("fall", "hotline", "en", ["fall detected", "hotline duty"]),
        ("checkin_missed", "mediator", "en", ["[Jinqiao]", "missed the daily check-in", "mediator"]),
    ],
)
def test_page_says_what_and_which_tier(reason, tier, language, must):
    sms, spoken = page(reason=reason, tier=tier, language=language), voice(reason=reason, tier=tier, language=language)
    assert all(part in sms for part in must), sms
    assert all(part in spoken for part in must if not part.startswith(("【", "["))), spoken  # signatures are SMS-only


def test_non_emergencies_are_not_sent_as_emergency_calls():
    assert "紧急" not in page(reason="checkin_missed") and "紧急" not in voice(reason="offline")
    assert "SOS" not in page(reason="offline", language="en")


@pytest.mark.parametrize(
    ("language", "must"),
    [(None, ["回复1", "2转下一级", "3已处理"]), ("en", ["Reply 1", "2 to pass", "3 when handled"])],
)
def test_page_sms_says_how_to_reply(language, must):
    text = page(language=language)
    assert all(part in text for part in must), text


@pytest.mark.parametrize(
    ("language", "must"),
    [(None, ["按1确认前往", "按2转给下一级", "按星号重听"]), ("en", ["Press 1", "Press 2", "Press star"])],
)
def test_voice_says_which_keys(language, must):
    text = voice(language=language)
    assert all(part in text for part in must), text


@pytest.mark.parametrize(
    ("repeats", "zh", "en"),
    [(0, None, None), (1, "（共2次）", "(2 times)"), (4, "（共5次）", "(5 times)")],
)
def test_repeat_presses_are_counted(repeats, zh, en):
    for text, part in (
        (page(repeats=repeats), zh),
        (voice(repeats=repeats), zh),
        (page(repeats=repeats, language="en"), en),
    ):
        if part is None:
            assert "次" not in text and "times" not in text, text
        else:
            assert part in text, text


def test_an_empty_address_still_reads_as_a_place():
    assert "地址未登记" in page(address="  ")
    assert "address not on file" in page(address="", language="en")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (m.voice_acknowledged(), "已确认，谢谢您。请尽快前往。"),
        (m.voice_passed(), "已转给下一级。"),
        (m.voice_invalid_key(), "无效按键。"),
        (
            m.reply_acknowledged(resident=WHO, code=CODE),
            "【金桥】已确认：您接下了张秀英的呼叫（编号4821）。完成后回复“3 4821”。",
        ),
        (
            m.reply_already_acknowledged(resident=WHO, code=CODE, by_name=BY, at_local=AT),
            "【金桥】张秀英的呼叫（编号4821）已由李建国于14:02确认，无需前往。",
        ),
        (m.reply_help(), "【金桥】回复1确认，2转下一级，3已处理；多个呼叫时在数字后加编号，如“1 4821”。"),
        (
            m.notice_sms(what="acknowledged", resident=WHO, code=CODE, by=BY),
            "【金桥】张秀英的呼叫（编号4821）已由李建国接下，无需前往。",
        ),
        (
            m.notice_sms(what="cancelled", resident=WHO, code=CODE, by="resident"),
            "【金桥】张秀英已取消呼叫（编号4821），无需前往。",
        ),
        (
            fam.family_sms(resident=WHO, at=AT, opened=True, reason="alarm"),
            "【金桥】您的家人张秀英于14:02按下了呼叫器，社区志愿者正在联系处理。此短信无需回复。",
        ),
    ],
)
def test_exact_texts(text, expected):
    assert text == expected


def test_a_cancel_notice_never_names_the_system_actor():
    assert "resident" not in m.notice_sms(what="cancelled", resident=WHO, code=CODE, by="resident", language="en")


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: m.notice_sms(what="opened", resident=WHO, code=CODE), ValueError),
        (lambda: m.reply_already_closed(resident=WHO, code=CODE, state="triggered"), ValueError),
        (lambda: m.voice_already_closed(resident=WHO, state="acknowledged"), ValueError),
    ],
)
def test_a_state_without_a_text_is_a_programming_error(call, error):
    with pytest.raises(error):
        call()


@pytest.mark.parametrize(
    ("reason", "must"),
    [
        ("alarm", "按下了呼叫器"),
        ("fall", "跌倒报警"),
        ("checkin_missed", "未按时报平安"),
        ("offline", "离线"),
        (None, "紧急呼叫"),
        ("smoke", "smoke"),
    ],
)
def test_family_is_told_what_happened_and_never_asked_to_act(reason, must):
    text = fam.family_sms(resident=WHO, at=AT, opened=True, reason=reason)
    assert must in text and WHO in text and AT in text, text
    assert "无需回复" in text and "回复1" not in text and "确认" not in text, text
    english = fam.family_sms(resident=WHO, at=AT, opened=True, reason=reason, language="en")
    assert "No need to reply" in english and "Reply 1" not in english, english


@pytest.mark.parametrize(
    ("outcome", "zh", "en"),
    [
        ("taken_to_hospital", "（已送医院）", "(taken to hospital)"),
        ("false_alarm", "（经核实为误报）", "(a false alarm)"),
        ("other", None, None),
        (None, None, None),
    ],
)
def test_family_is_told_the_outcome(outcome, zh, en):
    text = fam.family_sms(resident=WHO, at="15:10", opened=False, outcome=outcome)
    english = fam.family_sms(resident=WHO, at="15:10", opened=False, outcome=outcome, language="en")
    assert "15:10" in text and "处理完毕" in text and "无需回复" in text
    if zh is None:
        assert "（" not in text and "(" not in english
    else:
        assert zh in text and en in english


def test_family_abroad_is_told_the_time_is_their_own():
    assert fam.their_time("17:02") == "当地时间17:02" and fam.their_time("17:02", language="en") == "17:02 your time"
    zh = fam.family_sms(resident=WHO, at=fam.their_time("17:02"), opened=True, reason="alarm")
    assert f"您的家人{WHO}于当地时间17:02按下了呼叫器" in zh
