"""What the outbox sends through: the Notifier port, its error, and the rate limit of one sender number."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from core.schema import Notification


class SendError(Exception):
    """temporary: worth retrying later; elsewhere: this provider will not take it, another may (a
    daily limit reached, a number abroad), so a routed notifier tries the medium's next provider at
    once; limit: what it will not take is over its limit for the number, which the timeline shows."""

    def __init__(self, message: str, temporary: bool, elsewhere: bool = False, limit: bool = False) -> None:
        super().__init__(message)
        self.temporary = temporary
        self.elsewhere = elsewhere
        self.limit = limit  # the provider's limit for this number (and template) is used up


@dataclass(frozen=True)
class Refusal:
    """A provider that would not take a row (`SendError.elsewhere`), and who was tried next: the
    alert's timeline says so, so that an operator sees a channel running dry before it is dry."""

    provider: str  # aliyun | twilio | console, or the notifier's sender id
    reason: str
    then: str | None  # the provider tried next; None: nobody else carries it


class Notifier(Protocol):
    """A port: the console in the demo, Twilio in production, a recorder in unit tests."""

    sender_id: str
    delivers_at_once: bool  # the console has no delivery reports: sent is delivered

    def send(self, note: Notification) -> str:
        """Send; return the provider's id. Raise SendError on failure."""


@dataclass
class RateLimiter:
    """A token bucket per channel of one sender number (Twilio: about 1 SMS a second for a long code)."""

    per_second: dict[str, float]
    clock: Callable[[], float] = time.monotonic
    _tokens: dict[str, float] = field(default_factory=dict)
    _last: dict[str, float] = field(default_factory=dict)

    def available(self, channel: str) -> int:
        rate = self.per_second.get(channel)
        if rate is None:
            return 1_000_000
        now = self.clock()
        tokens = min(
            max(rate, 1.0), self._tokens.get(channel, max(rate, 1.0)) + (now - self._last.get(channel, now)) * rate
        )
        self._tokens[channel], self._last[channel] = tokens, now
        return int(tokens)

    def take(self, channel: str) -> None:
        if channel in self.per_second:
            self._tokens[channel] = self._tokens.get(channel, 1.0) - 1

    def wait_time(self, channel: str) -> float:
        rate = self.per_second.get(channel)
        if not rate:
            return 0.0
        return max(0.0, (1 - self._tokens.get(channel, 0.0)) / rate)
