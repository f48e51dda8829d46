"""How a call is handled by people, pure: what the others paged hear after an acknowledgement, and
when closing a call needs a note. No database, no clock."""

from __future__ import annotations

# a board operator closing a call as one of these must say why (a false alarm is checked, "other" explained)
NOTE_REQUIRED = frozenset({"false_alarm", "other"})
PEOPLE_AT_THE_BOARD = frozenset({"web"})  # the channel of an operator's action
NOTE_REQUIRED_MESSAGE = "a note is required for this outcome (false_alarm, other) / 此结果须填写说明"


def note_missing(channel: str, outcome: str, note: str) -> bool:
    """True when an operator closes a call as `outcome` without the note it needs; replies and the system
    write their own notes and are never refused."""
    return channel in PEOPLE_AT_THE_BOARD and outcome in NOTE_REQUIRED and not (note or "").strip()


def ack_notice(channel: str, dispatched_to: str | None) -> str:
    """The notice the others paged get when a call is acknowledged on `channel`:
    "acknowledged" (someone is going: the responder who said so, or the one sent; "no need to go"), or
    "taken_by_centre" (an operator took the call and nobody is going yet: "you will be told")."""
    if channel in PEOPLE_AT_THE_BOARD and dispatched_to is None:
        return "taken_by_centre"
    return "acknowledged"
