"""A calls report as rows of a table (figure, value) in Chinese, for the CSV and Excel downloads
and the command line: what a street office prints and hands in."""

from __future__ import annotations

from typing import Any

from web.reports.figures import Durations, Report

KINDS = {"emergency": "紧急呼叫", "wellness": "平安关怀", "device": "设备告警"}
OUTCOMES = {
    "false_alarm": "误报",
    "helped_at_home": "上门帮助",
    "family_came": "家属到场",
    "ambulance_called": "已叫救护车",
    "taken_to_hospital": "已送医院",
    "other": "其他",
}
TIERS = {"building": "楼道党员", "mediator": "调解员", "hotline": "求援热线"}


def seconds(value: float | None) -> str:
    if value is None:
        return "–"
    value = round(value)
    return f"{value // 60}分{value % 60:02d}秒" if value >= 60 else f"{value}秒"


def hours(value: float) -> str:
    value = round(value / 60)
    return f"{value // 60}小时{value % 60:02d}分" if value >= 60 else f"{value}分钟"


def share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _durations(name: str, d: Durations) -> list[list[Any]]:
    return [[f"{name}（{d.count}次）", f"中位 {seconds(d.p50)} · 90% {seconds(d.p90)} · 最长 {seconds(d.max)}"]]


def rows(r: Report, community: str = "全部社区") -> list[list[Any]]:
    out: list[list[Any]] = [
        ["指标", "数值"],
        ["社区", community],
        ["时段", f"{r.since.isoformat()} 至 {r.until.isoformat()}"],
        ["呼叫总数", r.calls],
    ]
    out += [[f"其中 {KINDS.get(k, k)}", n] for k, n in sorted(r.by_kind.items())]
    out += [[f"结果 {OUTCOMES.get(k, k)}", n] for k, n in sorted(r.by_outcome.items())]
    out += [["误报", r.false_alarms], ["老人自行取消", r.cancelled], ["尚未结案", r.still_open]]
    out += [[f"升级至 {TIERS.get(k, k)}", n] for k, n in sorted(r.by_tier.items())]
    out += _durations("紧急呼叫 按键至首次通知", r.to_first_page)
    out += _durations("紧急呼叫 按键至接警", r.to_acknowledge)
    out += _durations("紧急呼叫 按键至结案", r.to_resolve)
    for w in r.acknowledged_within:
        verdict = "–" if w.met is None else ("达标" if w.met else "未达标")
        out.append([f"{w.seconds}秒内接警（目标 {share(w.target)}）", f"{share(w.share)} {verdict}"])
    out.append(["未按时报平安", r.checkins_missed])
    v = r.visits
    out += [["走访次数", v.visits], ["走访覆盖（至少走访一次的居民）", f"{v.visited}/{v.residents} {share(v.share)}"]]
    d = r.devices
    out += [
        [f"设备可用率（{d.devices}台）", share(d.share)],
        [f"设备离线告警（{d.outages}次）", f"累计 {hours(d.down_seconds)}"],
    ]
    out += [[f"{h:02d}时 呼叫数", n] for h, n in enumerate(r.by_hour)]
    return out
