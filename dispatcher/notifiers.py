"""The two real notifiers: Twilio (SMS and calls) and the console of the offline demo."""

from __future__ import annotations

import itertools

import structlog

from core.schema import Notification
from dispatcher.sending import SendError
from dispatcher.twilio_adapter import ProviderError, TwilioSender

log = structlog.get_logger("jinqiao.notify")


class ConsoleNotifier:
    """No Twilio credentials: every message goes to the log (and so to the board's timeline)."""

    sender_id = "console"
    provider = "console"
    delivers_at_once = True

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def send(self, note: Notification) -> str:
        sid = f"console-{next(self._ids)}"
        text = note.body if note.channel != "voice" else "(phone call: the alert read aloud, 1 acknowledges, 2 passes)"
        log.info(
            "console.notification",
            channel=note.channel,
            to=note.to_number,
            name=note.recipient_name,
            purpose=note.purpose,
            alert_id=note.alert_id,
            text=text,
        )
        return sid


class TwilioNotifier:
    provider = "twilio"
    delivers_at_once = False

    def __init__(self, sender: TwilioSender, public_url: str, from_number: str) -> None:
        self.sender = sender
        self.public_url = public_url.rstrip("/")
        self.sender_id = from_number

    def send(self, note: Notification) -> str:
        if note.channel not in ("sms", "voice"):  # a WeCom card in a deployment without WeCom
            raise SendError(
                f"{note.channel} is not set up in this deployment (Twilio carries SMS and calls)", temporary=False
            )
        callback = f"{self.public_url}/twilio/status?n={note.id}"
        try:
            if note.channel == "sms":
                return self.sender.send_sms(note.to_number, note.body, status_callback=callback)
            return self.sender.place_call(note.to_number, f"{self.public_url}/twilio/voice?n={note.id}", callback)
        except ProviderError as exc:
            raise SendError(f"{exc} (status {exc.status}, code {exc.code})", temporary=exc.temporary) from None
