"""The readable timeline (dispatcher.timeline_text): each entry, message and reply as a sentence in
Chinese and English, delivery reports folded into their message, never JSON or a provider id."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dispatcher.timeline_text import Entry, Message, Reply, render

T = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


def one(entry: Entry, lang: str) -> str:
    lines = render([entry], [], [], SHANGHAI, lang, "张秀英")
    assert len(lines) == 1
    return lines[0].text


@pytest.mark.parametrize(
    ("what", "actor", "channel", "detail", "zh", "en"),
    [
        (
            "opened",
            "resident",
            "device",
            {"reason": "alarm", "device_id": "pgr-0001"},
            "张秀英按下呼叫按钮（设备 pgr-0001）",
            "张秀英: pressed the call button (device pgr-0001)",
        ),
        (
            "opened",
            "resident",
            "device",
            {"reason": "checkin_missed"},
            "张秀英未按时报平安",
            "张秀英: missed the daily check-in",
        ),
        (
            "repeat_press",
            "resident",
            "device",
            {"count": 2},
            "张秀英再次按键（第2次重复）",
            "张秀英 pressed again (repeat 2)",
        ),
        (
            "tier_notified",
            "system",
            "system",
            {"tier": "building", "round": 0, "to": ["李建国", "赵玉兰"]},
            "通知楼道党员：李建国、赵玉兰",
            "Paged the building volunteers: 李建国, 赵玉兰",
        ),
        (
            "tier_notified",
            "system",
            "system",
            {"tier": "hotline", "round": 2, "to": ["陈静"]},
            "通知求援热线（第3轮）：陈静",
            "Paged the hotline, round 3: 陈静",
        ),
        (
            "tier_skipped",
            "system",
            "system",
            {"tier": "mediator", "why": "nobody to reach"},
            "跳过调解员：无人可联系",
            "Skipped the mediator: nobody to reach",
        ),
        (
            "tier_failed",
            "system",
            "system",
            {"tier_index": 0, "round": 0, "cycle": 0},
            "本轮通知全部失败，立即转下一级",
            "Every page of this step failed: on to the next tier",
        ),
        (
            "nobody_reachable",
            "system",
            "system",
            {"retry_at": "2026-11-23T02:01:00+00:00"},
            "没有可以联系的人，稍后再试",
            "Nobody could be reached; trying again shortly",
        ),
        ("acknowledged", "值班员 王芳", "web", {}, "值班员 王芳 接警", "值班员 王芳 took the call"),
        ("acknowledged", "李建国", "sms", {}, "李建国 接警（短信）", "李建国 took the call (by SMS)"),
        (
            "passed",
            "赵玉兰",
            "voice",
            {"to_tier_index": 1},
            "赵玉兰 转给下一级（电话按键）",
            "赵玉兰 passed it on to the next tier (by phone key)",
        ),
        (
            "escalated",
            "值班员 王芳",
            "web",
            {"from_tier": "building"},
            "值班员 王芳 手动转下一级",
            "值班员 王芳 escalated it to the next tier now",
        ),
        (
            "repaged",
            "值班员 王芳",
            "web",
            {"tier": "building", "step": 1, "n": 1, "to": ["李建国"]},
            "值班员 王芳 再次通知楼道党员：李建国",
            "值班员 王芳 paged the building volunteers again: 李建国",
        ),
        (
            "note",
            "值班员 王芳",
            "web",
            {"text": "已联系儿子"},
            "值班员 王芳 备注：已联系儿子",
            "值班员 王芳 noted: 已联系儿子",
        ),
        (
            "resolved",
            "值班员 王芳",
            "web",
            {"outcome": "false_alarm", "note": "误按"},
            "值班员 王芳 结案：误报（误按）",
            "值班员 王芳 closed the call: false alarm (误按)",
        ),
        (
            "resolved",
            "李建国",
            "sms",
            {"outcome": "helped_at_home", "note": ""},
            "李建国 结案：上门帮助",
            "李建国 closed the call: helped at home",
        ),
        (
            "ack_expired",
            "system",
            "system",
            {"cycle": 1},
            "接警后长时间未结案，重新从第一级开始通知",
            "The call was taken but never closed: paging again from the first tier",
        ),
        ("cancelled", "resident", "device", {"event_id": "e1"}, "张秀英取消了呼叫", "张秀英 cancelled the call"),
        (
            "cancel_recorded",
            "resident",
            "device",
            {"event_id": "e1"},
            "张秀英按了取消；已有人前往，呼叫继续处理",
            "张秀英 pressed cancel; someone is already on the way, so the call stays open",
        ),
        (
            "dispatched",
            "值班员 王芳",
            "web",
            {"to": "李建国"},
            "值班员 王芳 派 李建国 前往",
            "值班员 王芳 sent 李建国 to the home",
        ),
        (
            "channel_refused",
            "李建国",
            "sms",
            {"by": "aliyun", "then": "twilio", "reason": "isv.BUSINESS_LIMIT_CONTROL: 触发天级流控 (template SMS_1)"},
            "给 李建国 的短信：阿里云不予发送（对这个号码的额度已用完），改由 Twilio 发送",
            "The text to 李建国: Aliyun would not take it (its limit for this number is used up); sent by Twilio instead",
        ),
        (
            "channel_refused",
            "李建国",
            "sms",
            {"by": "aliyun", "then": None, "reason": "isv.BUSINESS_LIMIT_CONTROL: 触发天级流控"},
            "给 李建国 的短信：阿里云不予发送（对这个号码的额度已用完），没有别的渠道可发",
            "The text to 李建国: Aliyun would not take it (its limit for this number is used up); nobody else carries it",
        ),
        (
            "channel_refused",
            "张伟",
            "sms",
            {"by": "aliyun", "then": None, "reason": "aliyun: +61400000001 is no mainland mobile number"},
            "给 张伟 的短信：阿里云不予发送（被拒绝），没有别的渠道可发",
            "The text to 张伟: Aliyun would not take it (it refused); nobody else carries it",
        ),
        ("something_new", "system", "system", {"x": {"y": 1}}, "系统：something_new", "The system: something new"),
    ],
)
def test_each_entry_is_a_sentence(what, actor, channel, detail, zh, en):
    e = Entry(T, what, actor, channel, detail)
    assert one(e, "zh") == zh
    assert one(e, "en") == en


SMS = "【金桥紧急呼叫】张秀英 幸福里3幢2单元201 按键呼叫。回复1确认前往，2转下一级，3已处理。编号8150"


@pytest.mark.parametrize(
    ("message", "zh", "en"),
    [
        (
            Message(T, "李建国", "sms", "page", SMS, "delivered", "delivered", "building"),
            f"短信发给 李建国（楼道党员）：{SMS} · 已送达",
            f"SMS to 李建国 (building volunteers): {SMS} · delivered",
        ),
        (
            Message(T, "李建国", "sms", "page", "hi", "failed", "undelivered", "building"),
            "短信发给 李建国（楼道党员）：hi · 未送达",
            "SMS to 李建国 (building volunteers): hi · not delivered",
        ),
        (
            Message(T, "李建国", "sms", "page", "hi", "skipped", None, "building"),
            "短信发给 李建国（楼道党员）：hi · 未发（已有人接警）",
            "SMS to 李建国 (building volunteers): hi · not sent (already taken)",
        ),
        (
            Message(T, "王芳", "voice", "page", "金桥紧急呼叫。", "delivered", "completed", "mediator"),
            "电话打给 王芳（调解员）：“金桥紧急呼叫。” · 已接通",
            'Called 王芳 (mediator): "金桥紧急呼叫。" · answered',
        ),
        (
            Message(T, "王芳", "voice", "page", "x", "failed", "no-answer", "mediator"),
            "电话打给 王芳（调解员）：“x” · 无人接听",
            'Called 王芳 (mediator): "x" · no answer',
        ),
        (
            Message(T, "王芳", "voice", "page", "x", "failed", "busy", "mediator"),
            "电话打给 王芳（调解员）：“x” · 占线",
            'Called 王芳 (mediator): "x" · busy',
        ),
        (
            Message(T, "王芳", "voice", "page", "x", "failed", "completed", "mediator"),
            "电话打给 王芳（调解员）：“x” · 答录机接听，视为未接通",
            'Called 王芳 (mediator): "x" · an answering machine took it: not reached',
        ),
        (
            Message(T, "王芳", "voice", "page", "x", "sent", "sent", "mediator"),
            "电话打给 王芳（调解员）：“x” · 正在呼叫",
            'Called 王芳 (mediator): "x" · calling',
        ),
        (
            Message(T, "李建国", "card", "page", "张秀英 按键呼叫", "sent", None, "building"),
            "企业微信卡片发给 李建国（楼道党员）：张秀英 按键呼叫 · 已发出",
            "WeCom card to 李建国 (building volunteers): 张秀英 按键呼叫 · sent",
        ),
        (
            Message(T, "社区工作群", "robot", "group", "【金桥】紧急呼叫", "sent", None),
            "企业微信工作群：【金桥】紧急呼叫 · 已发出",
            "To the work group by WeCom: 【金桥】紧急呼叫 · sent",
        ),
        (
            Message(T, "赵玉兰", "sms", "notice", "已有人接警", "queued", None),
            "短信发给 赵玉兰：已有人接警 · 排队中",
            "SMS to 赵玉兰: 已有人接警 · queued",
        ),
        (
            Message(T, "张伟", "sms", "family", "您的家人", "sent", "sent"),
            "短信发给家属 张伟：您的家人 · 已发出",
            "SMS to family 张伟: 您的家人 · sent",
        ),
    ],
)
def test_each_message_with_its_text_and_what_became_of_it(message, zh, en):
    assert render([], [message], [], SHANGHAI, "zh")[0].text == zh
    assert render([], [message], [], SHANGHAI, "en")[0].text == en


def test_a_reply_and_the_answer_it_got():
    r = Reply(T, "李建国", " 1 8150 ", "已确认，谢谢您前往张秀英家。")
    assert render([], [], [r], SHANGHAI, "zh")[0].text == "李建国 回复“1 8150” · 系统答复：已确认，谢谢您前往张秀英家。"
    assert (
        render([], [], [r], SHANGHAI, "en")[0].text
        == '李建国 replied "1 8150" · answered: 已确认，谢谢您前往张秀英家。'
    )
    assert render([], [], [Reply(T, "+8613900000001", "?")], SHANGHAI, "zh")[0].text == "+8613900000001 回复“?”"


def test_delivery_reports_fold_into_their_message_and_lines_keep_their_order():
    later = T + timedelta(minutes=1)
    entries = [
        Entry(T, "opened", "resident", "device", {"reason": "alarm"}),
        Entry(T, "tier_notified", "system", "system", {"tier": "building", "round": 0, "to": ["李建国"]}),
        Entry(T, "sms_sent", "李建国", "sms", {"sid": "SM0123", "to": "+8613900000001"}),
        Entry(later, "delivery_status", "李建国", "sms", {"status": "delivered", "sid": "SM0123"}),
        Entry(later, "delivery_failed", "李建国", "voice", {"error": "x"}),
        Entry(later + timedelta(seconds=30), "acknowledged", "李建国", "sms", {}),
    ]
    messages = [Message(T, "李建国", "sms", "page", "text", "delivered", "delivered", "building")]
    replies = [Reply(later + timedelta(seconds=30), "李建国", "1")]
    lines = render(entries, messages, replies, SHANGHAI, "zh", "张秀英")
    assert [(x.time, x.kind) for x in lines] == [
        ("10:00", "opened"),
        ("10:00", "tier_notified"),
        ("10:00", "message"),
        ("10:01", "acknowledged"),
        ("10:01", "reply"),
    ]
    text = "\n".join(x.text for x in lines)
    assert "{" not in text and "SM0" not in text and "delivery" not in text
