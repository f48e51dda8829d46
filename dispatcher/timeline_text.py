"""An alert's history as sentences an operator reads, in Chinese or English, pure.

In: the timeline entries, the notifications (with their text and status) and the replies received,
as plain values, and the community's time zone. Out: one line per thing that happened, oldest
first: "10:00 短信发给 李建国（楼道党员）：… · 已送达". Never JSON or a provider's id: a delivery
report becomes the status on its message, not a line of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

# entries whose news is already on a notification's line (its status)
COLLAPSED = frozenset({"sms_sent", "voice_sent", "delivery_status", "delivery_failed"})

TIER = {
    "building": ("楼道党员", "building volunteers"),
    "mediator": ("调解员", "mediator"),
    "hotline": ("求援热线", "hotline"),
}
REASON = {
    "alarm": ("按下呼叫按钮", "pressed the call button"),
    "fall": ("跌倒报警", "a fall was detected"),
    "checkin_missed": ("未按时报平安", "missed the daily check-in"),
    "offline": ("设备离线", "the device went offline"),
    "heartbeat_missed": ("设备心跳超时", "the device's heartbeat was missed"),
}
OUTCOME = {
    "false_alarm": ("误报", "false alarm"),
    "helped_at_home": ("上门帮助", "helped at home"),
    "family_came": ("家属到场", "family came"),
    "ambulance_called": ("已叫救护车", "ambulance called"),
    "taken_to_hospital": ("已送医院", "taken to hospital"),
    "other": ("其他", "other"),
}
# what became of a message: (channel, status or provider status) -> words
STATUS = {
    "queued": ("排队中", "queued"),
    "sending": ("发送中", "sending"),
    "sent": ("已发出", "sent"),
    "delivered": ("已送达", "delivered"),
    "undelivered": ("未送达", "not delivered"),
    "failed": ("发送失败", "failed"),
    "skipped": ("未发（已有人接警）", "not sent (already taken)"),
    "voice:sent": ("正在呼叫", "calling"),
    "voice:delivered": ("已接通", "answered"),
    "voice:failed": ("未接通", "not reached"),
    "voice:no-answer": ("无人接听", "no answer"),
    "voice:busy": ("占线", "busy"),
    "voice:canceled": ("已取消", "cancelled"),
    "voice:machine": ("答录机接听，视为未接通", "an answering machine took it: not reached"),
}
PROVIDER = {
    "aliyun": ("阿里云", "Aliyun"),
    "twilio": ("Twilio", "Twilio"),
    "wecom": ("企业微信", "WeCom"),
    "console": ("控制台", "the console"),
}
CHANNEL_OF_ACT = {
    "sms": ("（短信）", " (by SMS)"),
    "voice": ("（电话按键）", " (by phone key)"),
    "card": ("（企业微信）", " (by WeCom card)"),
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    what: str
    actor: str | None
    channel: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    at: datetime
    recipient: str
    channel: str  # sms | voice
    purpose: str  # page | notice | family | confirm
    body: str  # the SMS text, or the spoken text of a call
    status: str
    provider_status: str | None = None
    tier: str | None = None  # the tier a page went to


@dataclass(frozen=True)
class Reply:
    at: datetime
    sender: str  # the responder's name, or the number
    body: str
    answer: str | None = None


@dataclass(frozen=True)
class Line:
    at: datetime
    time: str  # HH:MM in the community's time
    kind: str  # the entry's `what`, or message / reply
    text: str


def render(
    entries: list[Entry], messages: list[Message], replies: list[Reply], tz: tzinfo, lang: str, resident: str = ""
) -> list[Line]:
    """The whole history as lines, oldest first; at the same instant an entry before its messages."""
    en = lang == "en"
    lines: list[tuple[datetime, int, int, Line]] = []
    for i, e in enumerate(entries):
        if e.what in COLLAPSED:
            continue
        lines.append((e.at, 0, i, _line(e.at, tz, e.what, entry_text(e, en, resident))))
    for i, m in enumerate(messages):
        lines.append((m.at, 1, i, _line(m.at, tz, "message", message_text(m, en))))
    for i, r in enumerate(replies):
        lines.append((r.at, 2, i, _line(r.at, tz, "reply", reply_text(r, en))))
    return [line for *_, line in sorted(lines, key=lambda x: (x[0], x[1], x[2]))]


def _line(at: datetime, tz: tzinfo, kind: str, text: str) -> Line:
    return Line(at, hhmm(at, tz), kind, text)


def hhmm(at: datetime, tz: tzinfo) -> str:
    return at.astimezone(tz).strftime("%H:%M")


def _pick(pair: tuple[str, str], en: bool) -> str:
    return pair[1] if en else pair[0]


def tier_name(tier: str | None, en: bool) -> str:
    if tier is None:
        return "?"
    return _pick(TIER[tier], en) if tier in TIER else tier


def _names(names: Any, en: bool) -> str:
    listed = [str(n) for n in names] if isinstance(names, list) else []
    if not listed:
        return "nobody" if en else "无人"
    return ", ".join(listed) if en else "、".join(listed)


def _who(actor: str | None, en: bool) -> str:
    if actor in (None, "", "system"):
        return "The system" if en else "系统"
    return actor


def entry_text(e: Entry, en: bool, resident: str = "") -> str:  # one sentence per kind of entry
    d, who = e.detail or {}, _who(e.actor, en)
    elder = resident or ("the resident" if en else "老人")
    if e.what == "opened":
        reason = d.get("reason", "")
        what = _pick(REASON[reason], en) if reason in REASON else str(reason)
        device = d.get("device_id")
        if en:
            return f"{elder}: {what}" + (f" (device {device})" if device else "")
        return f"{elder}{what}" + (f"（设备 {device}）" if device else "")
    if e.what == "repeat_press":
        n = d.get("count")
        return f"{elder} pressed again (repeat {n})" if en else f"{elder}再次按键（第{n}次重复）"
    if e.what == "tier_notified":
        tier, round_ = tier_name(d.get("tier"), en), d.get("round") or 0
        again = (f", round {round_ + 1}" if en else f"（第{round_ + 1}轮）") if round_ else ""
        return (
            f"Paged the {tier}{again}: {_names(d.get('to'), True)}"
            if en
            else f"通知{tier}{again}：{_names(d.get('to'), False)}"
        )
    if e.what == "tier_skipped":
        tier = tier_name(d.get("tier"), en)
        return f"Skipped the {tier}: nobody to reach" if en else f"跳过{tier}：无人可联系"
    if e.what == "tier_failed":
        return "Every page of this step failed: on to the next tier" if en else "本轮通知全部失败，立即转下一级"
    if e.what == "nobody_reachable":
        return "Nobody could be reached; trying again shortly" if en else "没有可以联系的人，稍后再试"
    if e.what == "acknowledged":
        how = _pick(CHANNEL_OF_ACT[e.channel], en) if e.channel in CHANNEL_OF_ACT else ""
        return f"{who} took the call{how}" if en else f"{who} 接警{how}"
    if e.what == "resolved":
        outcome = d.get("outcome", "")
        said = _pick(OUTCOME[outcome], en) if outcome in OUTCOME else str(outcome)
        note = str(d.get("note") or "").strip()
        if en:
            return f"{who} closed the call: {said}" + (f" ({note})" if note else "")
        return f"{who} 结案：{said}" + (f"（{note}）" if note else "")
    if e.what == "passed":
        how = _pick(CHANNEL_OF_ACT[e.channel], en) if e.channel in CHANNEL_OF_ACT else ""
        return f"{who} passed it on to the next tier{how}" if en else f"{who} 转给下一级{how}"
    if e.what == "escalated":
        return f"{who} escalated it to the next tier now" if en else f"{who} 手动转下一级"
    if e.what == "repaged":
        tier = tier_name(d.get("tier"), en)
        return (
            f"{who} paged the {tier} again: {_names(d.get('to'), True)}"
            if en
            else f"{who} 再次通知{tier}：{_names(d.get('to'), False)}"
        )
    if e.what == "note":
        return f"{who} noted: {d.get('text', '')}" if en else f"{who} 备注：{d.get('text', '')}"
    if e.what == "dispatched":
        to = d.get("to") or d.get("name") or d.get("dispatched_to") or ""
        return f"{who} sent {to} to the home" if en else f"{who} 派 {to} 前往"
    if e.what == "ack_expired":
        return (
            "The call was taken but never closed: paging again from the first tier"
            if en
            else "接警后长时间未结案，重新从第一级开始通知"
        )
    if e.what == "cancel_recorded":
        return (
            f"{elder} pressed cancel; someone is already on the way, so the call stays open"
            if en
            else f"{elder}按了取消；已有人前往，呼叫继续处理"
        )
    if e.what == "channel_refused":
        return refused_text(e, en)
    if e.what == "cancelled":
        return f"{elder} cancelled the call" if en else f"{elder}取消了呼叫"
    return f"{who}: {e.what.replace('_', ' ')}" if en else f"{who}：{e.what}"


def provider_name(key: str | None, en: bool) -> str:
    return _pick(PROVIDER[key], en) if key in PROVIDER else key or ""


def refused_text(e: Entry, en: bool) -> str:
    d = e.detail
    by, then = (provider_name(d.get(k), en) for k in ("by", "then"))
    limit = "LIMIT_CONTROL" in str(d.get("reason") or "")
    what = ("text" if e.channel == "sms" else "call") if en else ("短信" if e.channel == "sms" else "电话")
    if en:
        why = "its limit for this number is used up" if limit else "it refused"
        rest = f"sent by {then} instead" if then else "nobody else carries it"
        return f"The {what} to {e.actor}: {by} would not take it ({why}); {rest}"
    why = "对这个号码的额度已用完" if limit else "被拒绝"
    rest = f"改由 {then} 发送" if then else "没有别的渠道可发"
    return f"给 {e.actor} 的{what}：{by}不予发送（{why}），{rest}"


def status_text(channel: str, status: str, provider_status: str | None, en: bool) -> str:
    if channel == "voice":
        if status == "failed" and provider_status == "completed":
            return _pick(STATUS["voice:machine"], en)
        if status == "failed" and provider_status and f"voice:{provider_status}" in STATUS:
            return _pick(STATUS[f"voice:{provider_status}"], en)
        if f"voice:{status}" in STATUS:
            return _pick(STATUS[f"voice:{status}"], en)
    if status == "failed" and provider_status == "undelivered":
        return _pick(STATUS["undelivered"], en)
    return _pick(STATUS[status], en) if status in STATUS else status


def message_text(m: Message, en: bool) -> str:
    tier = f"（{tier_name(m.tier, False)}）" if m.tier and not en else f" ({tier_name(m.tier, True)})" if m.tier else ""
    status = status_text(m.channel, m.status, m.provider_status, en)
    body = m.body.strip()
    if m.channel == "voice":
        said = (f': "{body}"' if en else f"：“{body}”") if body else ""
        head = f"Called {m.recipient}{tier}" if en else f"电话打给 {m.recipient}{tier}"
        return f"{head}{said} · {status}"
    if m.channel == "robot":  # the community work group, by its WeCom robot
        return f"To the work group by WeCom: {body} · {status}" if en else f"企业微信工作群：{body} · {status}"
    if m.channel == "card":  # a WeCom card says the page SMS's words, with two buttons
        head = f"WeCom card to {m.recipient}{tier}" if en else f"企业微信卡片发给 {m.recipient}{tier}"
        return f"{head}: {body} · {status}" if en else f"{head}：{body} · {status}"
    to_family = m.purpose == "family"
    if en:
        head = f"SMS to {'family ' if to_family else ''}{m.recipient}{tier}"
        return f"{head}: {body} · {status}"
    head = f"短信发给{'家属 ' if to_family else ' '}{m.recipient}{tier}"
    return f"{head}：{body} · {status}"


def reply_text(r: Reply, en: bool) -> str:
    answer = (r.answer or "").strip()
    if en:
        return f'{r.sender} replied "{r.body.strip()}"' + (f" · answered: {answer}" if answer else "")
    return f"{r.sender} 回复“{r.body.strip()}”" + (f" · 系统答复：{answer}" if answer else "")
