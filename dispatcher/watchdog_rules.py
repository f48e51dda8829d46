"""The watchdog's decision: which faults are open, from a snapshot of the database, and `now`.

Pure: `decide(snapshot, open_causes, now, thresholds)` returns the findings to open (and page)
and the causes that are gone (and get a recovery message). Each finding has a stable `cause`;
one open finding per cause is what makes the watchdog page once per fault, however often it looks.
Steps, outbox rows and the gateway's silence are each one cause (one page for a dead dispatcher
that leaves 30 alerts overdue, not 30); each silent process is its own cause.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Beat:
    kind: str  # dispatcher | gateway | watchdog
    name: str
    host: str
    pid: int
    beat_at: datetime
    stopped_at: datetime | None = None


@dataclass(frozen=True)
class DueStep:
    """A triggered alert whose next escalation step is due (alerts.next_action_at)."""

    code: str
    due_at: datetime


@dataclass(frozen=True)
class Waiting:
    """An outbox row not yet sent: `queued` since it became due, or `sending` since the attempt began."""

    id: int
    status: str
    since: datetime


@dataclass(frozen=True)
class Fleet:
    """What the gateway path should be showing: the newest input stored, and the longest heartbeat
    interval among the active devices that send heartbeats (None: no device promises any)."""

    newest_input_at: datetime | None = None
    longest_heartbeat_s: int | None = None


@dataclass(frozen=True)
class Snapshot:
    beats: tuple[Beat, ...] = ()
    due: tuple[DueStep, ...] = ()  # oldest first
    waiting: tuple[Waiting, ...] = ()  # oldest first
    fleet: Fleet = Fleet()


@dataclass(frozen=True)
class Thresholds:
    process_silence: timedelta = timedelta(seconds=30)
    step_overdue: timedelta = timedelta(seconds=60)
    outbox_stuck: timedelta = timedelta(seconds=120)
    events_slack: timedelta = timedelta(seconds=120)


@dataclass(frozen=True)
class Finding:
    cause: str  # stable key: one open finding per cause
    kind: str  # dispatcher_silent | gateway_silent | no_dispatcher | steps_overdue | outbox_stuck | events_quiet
    since: datetime  # when the fault began
    label: str  # short words, for the recovery message
    summary: str  # the page
    detail: dict = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Decision:
    opened: tuple[Finding, ...]
    resolved: tuple[str, ...]  # causes


PREFIX = "【金桥监护】"


def duration(d: timedelta) -> str:
    """Seconds in words a person reads on a phone: 42秒, 3分12秒, 2小时5分."""
    s = max(0, int(d.total_seconds()))
    if s < 60:
        return f"{s}秒"
    if s < 3600:
        return f"{s // 60}分{s % 60}秒" if s % 60 else f"{s // 60}分"
    return f"{s // 3600}小时{s % 3600 // 60}分" if s % 3600 // 60 else f"{s // 3600}小时"


def _live(b: Beat, now: datetime, th: Thresholds) -> bool:
    return b.stopped_at is None and now - b.beat_at <= th.process_silence


def _silent_processes(beats: tuple[Beat, ...], now: datetime, th: Thresholds) -> list[Finding]:
    found = []
    for b in beats:
        if b.kind not in ("dispatcher", "gateway") or b.stopped_at is not None or _live(b, now, th):
            continue
        others = sum(1 for o in beats if o.kind == b.kind and o is not b and _live(o, now, th))
        what = "调度进程" if b.kind == "dispatcher" else "网关"
        effect = "报警可能不再升级、不再发出通知" if b.kind == "dispatcher" else "呼叫器的报警可能收不到"
        rest = f"另有{others}个{what}在运行。" if others else f"没有其他{what}在运行！"
        found.append(
            Finding(
                f"{b.kind}_silent:{b.name}",
                f"{b.kind}_silent",
                b.beat_at,
                f"{what} {b.name} 无心跳",
                f"{PREFIX}{what} {b.name}（{b.host} 进程{b.pid}）已{duration(now - b.beat_at)}无心跳，{effect}。{rest}请立即检查。",
                {"name": b.name, "host": b.host, "pid": b.pid, "others_alive": others},
            )
        )
    return found


def _no_dispatcher(beats: tuple[Beat, ...], now: datetime, th: Thresholds) -> list[Finding]:
    """Every dispatcher was stopped on purpose and none runs: nobody escalates (a silent one pages itself)."""
    ds = [b for b in beats if b.kind == "dispatcher"]
    stops = [b.stopped_at for b in ds if b.stopped_at is not None]
    if not ds or len(stops) < len(ds):
        return []
    last = max(stops)
    return [
        Finding(
            "no_dispatcher",
            "no_dispatcher",
            last,
            "没有调度进程在运行",
            f"{PREFIX}没有任何调度进程在运行（最后一个已停止{duration(now - last)}），报警不会升级。请启动调度进程。",
        )
    ]


def _overdue(due: tuple[DueStep, ...], now: datetime, th: Thresholds) -> list[Finding]:
    late = [d for d in due if now - d.due_at > th.step_overdue]
    if not late:
        return []
    oldest = min(late, key=lambda d: d.due_at)
    return [
        Finding(
            "steps_overdue",
            "steps_overdue",
            oldest.due_at,
            "报警升级逾期",
            f"{PREFIX}{len(late)}个报警的升级步骤逾期未执行（最早：编号{oldest.code}，逾期{duration(now - oldest.due_at)}），"
            "调度可能已停止。请立即检查，必要时人工联系求助者。",
            {"count": len(late), "oldest_code": oldest.code},
        )
    ]


def _stuck(waiting: tuple[Waiting, ...], now: datetime, th: Thresholds) -> list[Finding]:
    late = [w for w in waiting if now - w.since > th.outbox_stuck]
    if not late:
        return []
    oldest = min(late, key=lambda w: w.since)
    return [
        Finding(
            "outbox_stuck",
            "outbox_stuck",
            oldest.since,
            "通知滞留",
            f"{PREFIX}{len(late)}条短信/电话通知滞留未发出（最早已等{duration(now - oldest.since)}），"
            "值班人员可能收不到报警。请立即检查调度进程与短信服务。",
            {"count": len(late), "oldest_id": oldest.id},
        )
    ]


def _quiet(fleet: Fleet, now: datetime, th: Thresholds) -> list[Finding]:
    """Silence longer than the longest heartbeat interval of any device: not one device dying, but
    every one missing its heartbeat at once, which is the path (gateway, broker) and not the devices."""
    if fleet.longest_heartbeat_s is None or fleet.newest_input_at is None:
        return []
    if now - fleet.newest_input_at <= timedelta(seconds=fleet.longest_heartbeat_s) + th.events_slack:
        return []
    return [
        Finding(
            "events_quiet",
            "events_quiet",
            fleet.newest_input_at,
            "设备消息中断",
            f"{PREFIX}已{duration(now - fleet.newest_input_at)}没有收到任何设备的消息"
            f"（设备心跳最长间隔{duration(timedelta(seconds=fleet.longest_heartbeat_s))}），"
            "网关或消息服务器可能故障，呼叫器的报警可能收不到。请立即检查。",
        )
    ]


def current(snapshot: Snapshot, now: datetime, th: Thresholds) -> list[Finding]:
    """Every fault the snapshot shows now."""
    return [
        *_silent_processes(snapshot.beats, now, th),
        *_no_dispatcher(snapshot.beats, now, th),
        *_overdue(snapshot.due, now, th),
        *_stuck(snapshot.waiting, now, th),
        *_quiet(snapshot.fleet, now, th),
    ]


def decide(snapshot: Snapshot, open_causes: Iterable[str], now: datetime, th: Thresholds) -> Decision:
    found = current(snapshot, now, th)
    already = set(open_causes)
    causes = {f.cause for f in found}
    return Decision(tuple(f for f in found if f.cause not in already), tuple(sorted(already - causes)))


def recovery_text(label: str, since: datetime, now: datetime) -> str:
    return f"{PREFIX}已恢复：{label}，故障持续约{duration(now - since)}。"


def unreachable_text(since: datetime, now: datetime, error: str) -> str:
    return (
        f"{PREFIX}数据库已{duration(now - since)}无法访问（{error}），网关存不下报警，调度无法升级。请立即检查数据库。"
    )
