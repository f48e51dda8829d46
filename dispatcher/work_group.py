"""Pass `work_group`: the community work group hears of each emergency by its WeCom robot, one way:
when it opens, when someone takes it, and when it is over (JINQIAO_WECOM_ROBOT_URL; the pass is
in the list only then).

Each run looks at the emergencies changed within WINDOW and queues the notices each has earned
(opened; acknowledged; resolved or cancelled) as outbox rows, channel `robot`, keyed by alert,
cycle and what happened: a notice queued before is left as it is, so the pass is safe to run twice
and on two dispatchers at once, and a dispatcher that was down for less than WINDOW catches up.
The robot takes about 20 messages a minute: the rate limiter keeps the channel under it, and a
busy minute queues the rest instead of losing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Alert
from dispatcher import notices
from dispatcher.messages import reason_text
from dispatcher.messages_family import OUTCOME
from dispatcher.notices import PRIORITY, upsert_notifications
from dispatcher.recipients import Place, load_place

WINDOW = timedelta(hours=1)
RUN_EVERY = 2.0  # seconds, on the monotonic clock: how often it looks (a notice may wait that long)
GROUP = "wecom-group"  # the rows' to_number: a group has no number
PER_MINUTE = 20  # what the robot takes


def group_notices(alert: Alert, place: Place) -> list[tuple[str, str]]:
    """(what, text) of each notice the alert has earned so far, in Chinese: the group's language."""
    who = f"{place.resident.name}（{place.resident.address}）"
    at = lambda t: t.astimezone(place.tz).strftime("%H:%M")  # noqa: E731
    said = [
        (
            "opened",
            f"【金桥】紧急呼叫（编号{alert.code}）：{who}{reason_text(alert.reason)}，{at(alert.opened_at)}。正在联系楼道党员。",
        )
    ]
    if alert.acknowledged_at and alert.acknowledged_by:
        said.append(
            (
                "acknowledged",
                f"【金桥】{place.resident.name}的呼叫（编号{alert.code}）已由{alert.acknowledged_by}于{at(alert.acknowledged_at)}接下。",
            )
        )
    if alert.state == "resolved" and alert.resolved_at:
        how = f"（{OUTCOME[alert.outcome][0]}）" if alert.outcome in OUTCOME else ""
        said.append(
            (
                "resolved",
                f"【金桥】{place.resident.name}的呼叫（编号{alert.code}）已于{at(alert.resolved_at)}处理完毕{how}。",
            )
        )
    if alert.state == "cancelled":
        said.append(("cancelled", f"【金桥】{place.resident.name}已取消呼叫（编号{alert.code}）。"))
    return said


class WorkGroupNotices:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime]) -> None:
        self.sessions, self.now = sessions, now
        self._last: float | None = None

    def run(self) -> bool:
        started = time.monotonic()
        if self._last is not None and started - self._last < RUN_EVERY:
            return False
        now = self.now()
        with transaction(self.sessions) as s:
            changed = s.scalars(
                select(Alert).where(Alert.kind == "emergency", Alert.updated_at >= now - WINDOW).order_by(Alert.id)
            ).all()
            rows = []
            for alert in changed:
                place = load_place(s, alert.resident_id)
                for what, text in group_notices(alert, place):
                    rows.append(
                        notices.row(
                            alert,
                            now,
                            key=f"{alert.id}:{alert.cycle}:group-{what}",
                            to=GROUP,
                            name="社区工作群",
                            channel="robot",
                            provider="wecom",
                            purpose="group",
                            priority=PRIORITY["family"],
                            body=text,
                        )
                    )
            upsert_notifications(s, rows)  # a key queued before is left as it is
        self._last = started
        return False
