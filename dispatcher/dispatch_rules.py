"""派人前往, pure: when an operator sends someone to the resident, who hears which text. No database, no clock.

The one sent is asked to go ("go"). Whoever was going before (the one sent before, or the responder who
replied 1) is told they are no longer needed ("stood_down"). The first time someone is sent in a cycle,
everyone else paged hears who is going ("someone_going"); on a later change they already know that
somebody is on the way and hear nothing more. Sending the one already sent changes nothing, so a retried
request sends nothing twice. An operator who goes themself gets no text: they are at the board.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatcher.escalation import CLOSED_STATES, State


@dataclass(frozen=True)
class Goer:
    """Who goes: a responder (`responder_id`), or the operator themself (`responder_id` None)."""

    name: str
    responder_id: str | None = None


@dataclass(frozen=True)
class Text:
    responder_id: str
    what: str  # go | stood_down | someone_going


@dataclass(frozen=True)
class Send:
    takes_the_call: bool  # the alert is still triggered: the operator acknowledges it first
    texts: tuple[Text, ...]


@dataclass(frozen=True)
class Refused:
    reason: str  # closed


Decision = Send | Refused | None  # None: the one asked for is already sent; nothing to do


def decide(state: State, target: Goer, sent: Goer | None, taker: Goer | None, paged: Sequence[str]) -> Decision:
    """`sent`: the last one sent in this cycle; `taker`: the responder who acknowledged by SMS or phone
    (None when an operator took the call); `paged`: the responders paged in this alert, in order."""
    if state in CLOSED_STATES:
        return Refused("closed")
    if sent == target:
        return None
    before = sent or taker
    texts = []
    if target.responder_id is not None:
        texts.append(Text(target.responder_id, "go"))
    if before is not None and before.responder_id not in (None, target.responder_id):
        texts.append(Text(before.responder_id, "stood_down"))
    if sent is None:
        told = {t.responder_id for t in texts}
        texts += [Text(r, "someone_going") for r in dict.fromkeys(paged) if r not in told]
    return Send(state == State.TRIGGERED, tuple(texts))
