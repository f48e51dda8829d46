"""How the watchdog reaches people: its own SMS account, never the dispatchers' outbox (they may be
what is dead). Without an account of its own, its log (the console)."""

from __future__ import annotations

from typing import Protocol

import structlog

from dispatcher.twilio_adapter import ProviderError, TwilioSender

log = structlog.get_logger("jinqiao.watchdog")


class PageError(Exception):
    """The page did not go out to this number."""


class Pager(Protocol):
    name: str

    def send(self, to: str, text: str) -> str:
        """Send one SMS; returns the provider's id, raises PageError."""


class ConsolePager:
    """No watchdog Twilio account: the page goes to this process's log."""

    name = "console"

    def __init__(self) -> None:
        self._n = 0

    def send(self, to: str, text: str) -> str:
        self._n += 1
        log.warning("watchdog.console_page", to=to, text=text)
        return f"console-{self._n}"


class TwilioPager:
    name = "twilio"

    def __init__(self, sender: TwilioSender) -> None:
        self.sender = sender

    def send(self, to: str, text: str) -> str:
        try:
            return self.sender.send_sms(to, text)  # no status callback: nobody may be there to take it
        except ProviderError as exc:
            raise PageError(f"{exc} (status {exc.status}, code {exc.code})") from None


def pager_of(settings) -> Pager:
    if settings.watchdog_twilio_enabled:
        return TwilioPager(
            TwilioSender(
                settings.watchdog_twilio_account_sid,
                settings.watchdog_twilio_auth_token,
                settings.watchdog_twilio_from,
                api_url=settings.watchdog_twilio_api_url,
            )
        )
    return ConsolePager()
