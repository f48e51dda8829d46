"""A dispatcher on a controllable clock, with a recording notifier, for scenario tests.

No threads: a test says `world.tick()` and the dispatcher's passes (the same list the engine runs,
dispatcher/passes/) run in turn until none finds more work, each on its own as in the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.schema import Alert, Building, Community, Device, DeviceFeedback, Event, Notification, Resident, TimelineEntry
from dispatcher.alerts import Alerts
from dispatcher.passes import Pass, PassRunner, passes
from dispatcher.passes.outbox import Outbox
from dispatcher.passes.supervision import Supervisor
from dispatcher.sending import RateLimiter, SendError
from dispatcher.webhooks import WebhookContext, handle_sms, handle_status, handle_voice
from registry.store import import_registry


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, **kw) -> None:
        self.t += timedelta(**kw)


@dataclass
class Sent:
    to: str
    channel: str
    purpose: str
    body: str
    notification_id: int
    alert_id: int | None


@dataclass
class RecordingNotifier:
    sender_id: str = "+15550000000"
    delivers_at_once: bool = False
    sent: list[Sent] = field(default_factory=list)
    fail: dict[str, tuple[str, bool]] = field(default_factory=dict)  # number -> (error, temporary)

    def send(self, note: Notification) -> str:
        if note.to_number in self.fail:
            error, temporary = self.fail[note.to_number]
            raise SendError(error, temporary)
        self.sent.append(Sent(note.to_number, note.channel, note.purpose, note.body, note.id, note.alert_id))
        return f"SM{note.id:032d}" if note.channel == "sms" else f"CA{note.id:032d}"


PHONES = {
    "pm-li": "+8613900000001",
    "pm-zhao": "+8613900000002",
    "pm-sun": "+8613900000003",
    "med-wang": "+8613900000004",
    "duty-chen": "+8613900000005",
    "duty-he": "+8613900000006",
}


class World:
    def __init__(
        self,
        sessions,
        registry_path,
        start: datetime,
        set_up_at: datetime | None = None,
        extra_passes: tuple[Pass, ...] = (),
    ) -> None:
        self.sessions = sessions
        import_registry(sessions, registry_path, now=set_up_at or start)  # when check-ins begin
        self.clock = FakeClock(start)
        self.notifier = RecordingNotifier()
        self.alerts = Alerts(sessions, self.clock)
        self.outbox = Outbox(
            sessions, self.notifier, self.clock, RateLimiter({}), on_failed=self.alerts.delivery_failed
        )
        self.supervisor = Supervisor(sessions, self.alerts, self.clock)
        self.passes = [*extra_passes, *passes(self.alerts, self.outbox, self.supervisor)]
        self.runner = PassRunner()
        # The residents are well: each checks in once a (local) day, before the passes look, so the
        # real supervision pass opens no wellness alert in a scenario about something else. A test
        # of a missed check-in sets this False.
        self.residents_check_in = True
        self._checked_in_on: set[tuple[str, object]] = set()
        self.ctx = WebhookContext(sessions, self.alerts, "token", "http://test", self.clock)
        self._event_ids = 0

    # --- the outside world -------------------------------------------------------------------

    def press(self, device: str = "pgr-0001", type_: str = "alarm") -> str:
        self._event_ids += 1
        event_id = f"ev{self._event_ids}"
        with self.sessions.begin() as s:
            s.add(Event(device_id=device, event_id=event_id, type=type_, received_at=self.clock(), payload="{}"))
        return event_id

    def tick(self) -> None:
        if self.residents_check_in:
            self._daily_checkins()
        while self.runner.run_round(self.passes):
            pass

    def _daily_checkins(self) -> None:
        with self.sessions() as s:
            rows = s.execute(
                select(Device.id, Community.timezone)
                .join(Resident, Resident.id == Device.resident_id)
                .join(Building, Building.id == Resident.building_id)
                .join(Community, Community.id == Building.community_id)
                .where(Resident.checkin_deadline.is_not(None), Device.active.is_(True))
            ).all()
        for device_id, tz in rows:
            day = self.clock().astimezone(ZoneInfo(tz or "Asia/Shanghai")).date()
            if (device_id, day) not in self._checked_in_on:
                self._checked_in_on.add((device_id, day))
                self.press(device_id, "checkin")

    def later(self, **kw) -> None:
        self.clock.advance(**kw)
        self.tick()

    def sms_from(self, who: str, body: str, sid: str | None = None) -> None:
        self._event_ids += 1
        handle_sms(self.ctx, {"MessageSid": sid or f"SMin{self._event_ids}", "From": PHONES[who], "Body": body})
        self.tick()

    def status(self, notification_id: int, status: str, answered_by: str = "") -> None:
        note = self.note(notification_id)
        key = "CallSid" if note.channel == "voice" else "MessageSid"
        form = {key: note.provider_sid, ("CallStatus" if note.channel == "voice" else "MessageStatus"): status}
        if answered_by:
            form["AnsweredBy"] = answered_by
        handle_status(self.ctx, str(notification_id), form)
        self.tick()

    def keypress(self, notification_id: int, digits: str) -> str:
        twiml = handle_voice(self.ctx, str(notification_id), "gather", {"Digits": digits, "AnsweredBy": "human"})
        self.tick()
        return twiml

    # --- what happened -------------------------------------------------------------------------

    def pages(self, who: str | None = None, channel: str | None = None) -> list[Sent]:
        return [
            m
            for m in self.notifier.sent
            if m.purpose == "page"
            and (who is None or m.to == PHONES[who])
            and (channel is None or m.channel == channel)
        ]

    def paged(self) -> list[tuple[str, str]]:
        names = {v: k for k, v in PHONES.items()}
        return [(names.get(m.to, m.to), m.channel) for m in self.notifier.sent if m.purpose == "page"]

    def sms_to(self, who: str, purpose: str | None = None) -> list[str]:
        return [
            m.body
            for m in self.notifier.sent
            if m.to == PHONES.get(who, who) and m.channel == "sms" and (purpose is None or m.purpose == purpose)
        ]

    def alert(self, alert_id: int | None = None) -> Alert:
        with self.sessions() as s:
            stmt = (
                select(Alert).order_by(Alert.id.desc())
                if alert_id is None
                else select(Alert).where(Alert.id == alert_id)
            )
            return s.scalars(stmt).first()

    def alerts_count(self) -> int:
        with self.sessions() as s:
            return len(s.scalars(select(Alert.id)).all())

    def timeline(self, alert_id: int | None = None) -> list[str]:
        alert_id = alert_id or self.alert().id
        with self.sessions() as s:
            return list(
                s.scalars(
                    select(TimelineEntry.what).where(TimelineEntry.alert_id == alert_id).order_by(TimelineEntry.id)
                )
            )

    def device_feedback(self) -> list[tuple[str, str]]:
        with self.sessions() as s:
            return [(f.state, f.alert_code) for f in s.scalars(select(DeviceFeedback).order_by(DeviceFeedback.id))]

    def note(self, notification_id: int) -> Notification:
        with self.sessions() as s:
            return s.get(Notification, notification_id)


T0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 in Shanghai: a workday, duty-chen on the hotline
