"""A recording pager for the watchdog's service tests (the watchdog's own port, faked)."""

from __future__ import annotations

from dataclasses import dataclass, field

from dispatcher.watchdog_pager import PageError


@dataclass
class RecordingPager:
    name: str = "recording"
    sent: list[tuple[str, str]] = field(default_factory=list)  # (to, text)
    failing: set[str] = field(default_factory=set)  # numbers whose pages fail

    def send(self, to: str, text: str) -> str:
        if to in self.failing:
            raise PageError(f"{to} unreachable")
        self.sent.append((to, text))
        return f"SM{len(self.sent):032d}"

    def to(self, number: str) -> list[str]:
        return [text for to, text in self.sent if to == number]
