"""Pass `card_updates`: once somebody has taken a call (by any channel), or it is over, every WeCom
card of it that nobody pressed has its buttons replaced by the outcome ("已由李建国于14:02接下，无需
前往", "该呼叫已处理完毕"), so that nobody sets out for a call that is taken.

Each card's send gave a response code, kept as a `card sent` delivery report of its row (`keep`,
called by the notifier); a code updates its card once, within 72 hours. A card pressed has been
updated by its own callback (dispatcher/wecom_webhooks.py); a card updated is marked `card updated`.
The update goes out after the transaction that found it; a crash between the two leaves the code
used and unmarked, and the next run's attempt is answered 40165, which marks it too.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta

import structlog
from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from core.db import transaction
from core.schema import Alert, DeliveryReport, Notification
from dispatcher.recipients import load_place
from dispatcher.wecom_api import CODE_USED, WeComApi, WeComError
from dispatcher.wecom_cards import pressed_line

log = structlog.get_logger("jinqiao.dispatcher")

SENT, UPDATED = "card sent", "card updated"
PRESSED = ("button ack", "button pass")
CODE_LIFE = timedelta(hours=72)
RUN_EVERY = 2.0  # seconds, on the monotonic clock


def keeper(sessions: sessionmaker[Session], now: Callable[[], datetime]) -> Callable[[Notification, str, str], None]:
    """What the card notifier calls after a send: the card's response code, kept on its row."""

    def keep(note: Notification, userid: str, code: str) -> None:
        with transaction(sessions) as s:
            detail = {"userid": userid, "response_code": code}
            s.add(
                DeliveryReport(
                    notification_id=note.id, provider_sid=f"jq-{note.id}", status=SENT, at=now(), detail=detail
                )
            )

    return keep


class CardUpdates:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], datetime], api: WeComApi) -> None:
        self.sessions, self.now, self.api = sessions, now, api
        self._last: float | None = None

    def run(self) -> bool:
        started = time.monotonic()
        if self._last is not None and started - self._last < RUN_EVERY:
            return False
        self._last = started
        now = self.now()
        later = aliased(DeliveryReport)
        with transaction(self.sessions) as s:
            found = s.execute(
                select(DeliveryReport, Notification, Alert)
                .join(Notification, Notification.id == DeliveryReport.notification_id)
                .join(Alert, Alert.id == Notification.alert_id)
                .where(
                    DeliveryReport.status == SENT,
                    DeliveryReport.at >= now - CODE_LIFE,
                    Alert.state != "triggered",
                    ~exists().where(
                        and_(later.provider_sid == DeliveryReport.provider_sid, later.status.in_((UPDATED, *PRESSED)))
                    ),
                )
                .limit(200)
            ).all()
            todo = []
            for report, note, alert in found:
                tz = load_place(s, alert.resident_id).tz
                at_local = alert.acknowledged_at.astimezone(tz).strftime("%H:%M") if alert.acknowledged_at else None
                mine = alert.acknowledged_by == note.recipient_name
                line = pressed_line(
                    mine=mine, state=alert.state, by=alert.acknowledged_by, at_local=at_local, passed=False
                )
                todo.append(
                    (report.provider_sid, note.id, report.detail["userid"], report.detail["response_code"], line)
                )
        for task, note_id, userid, code, line in todo:
            try:
                self.api.update_card(userid, code, line)
            except WeComError as exc:
                if exc.code != CODE_USED:  # tried again next run
                    log.warning("wecom.card_update_failed", task=task, error=str(exc))
                    continue
            try:
                with transaction(self.sessions) as s:
                    s.add(
                        DeliveryReport(
                            notification_id=note_id, provider_sid=task, status=UPDATED, at=now, detail={"line": line}
                        )
                    )
            except IntegrityError:  # another dispatcher marked it first
                pass
        return False
