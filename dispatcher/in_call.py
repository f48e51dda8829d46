"""What an operator does during a call, written: escalate now (转下一级), page again (再次通知), a note.

Each is one transaction on the Alerts shell's sessions: lock the alert, ask the pure rules
(dispatcher.in_call_rules, and escalation.escalate_now for the step), write the answer. The timeline
names the operator. A refusal (the call was taken or closed) raises Refused with its message.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import transaction
from core.schema import Alert, TimelineEntry
from dispatcher import escalation, in_call_rules, notices, steps
from dispatcher.alerts import Alerts, Outcome
from dispatcher.in_call_rules import LastRepage, Refused, Repage, Repeated
from dispatcher.notices import Actor
from dispatcher.steps import place_of, policy_of, state_of, tiers_of

log = structlog.get_logger("jinqiao.dispatcher")

__all__ = ["BlankNote", "CallRefused", "add_note", "escalate", "repage"]


class CallRefused(Exception):
    """The operation does not apply to the alert as it is now (taken, closed, nobody paged yet)."""

    def __init__(self, refused: Refused, state: str) -> None:
        super().__init__(refused.message)
        self.reason, self.state = refused.reason, state


class BlankNote(ValueError):
    """A note that is empty (after trimming) or longer than in_call_rules.NOTE_MAX."""


@dataclass(frozen=True)
class Repaged:
    outcome: Outcome
    pages: int  # outbox rows queued (0: a double click within the guard)


def escalate(
    alerts: Alerts, alert_id: int, actor: Actor, from_tier: int | None = None, from_round: int | None = None
) -> Outcome:
    """The next tier now, as if its timer ran out. `from_tier`/`from_round` (what the board showed)
    make a second click about the same step change nothing."""
    with transaction(alerts.sessions) as s:
        alert = alerts._lock(s, alert_id)
        refused = in_call_rules.may_escalate(state_of(alert))
        if refused is not None:
            raise CallRefused(refused, alert.state)
        now = alerts.now()
        place, policy = place_of(s, alert.resident_id), policy_of(s, alert.kind)
        tiers = tiers_of(s, alerts.recipients, policy, place, now)
        decision = escalation.escalate_now(
            state_of(alert), policy, tiers, now, from_tier=from_tier, from_round=from_round
        )
        if decision is None:
            return Alerts._outcome(alert, changed=False)
        was = policy.tiers[alert.tier_index].tier if 0 <= alert.tier_index < len(policy.tiers) else None
        notices.timeline(s, alert, now, "escalated", actor, {"from_tier": was})
        steps.apply(s, alert, decision, policy, place, tiers, now)
        log.info(
            "alert.escalated", alert_id=alert.id, alert_code=alert.code, by=actor.name, tier_index=alert.tier_index
        )
        result = Alerts._outcome(alert, changed=True)
    alerts.on_outbox()
    alerts.on_timer()
    return result


def repage(alerts: Alerts, alert_id: int, actor: Actor) -> Repaged:
    """The tier paged last is paged again now, with new outbox rows; a double click sends nothing."""
    with transaction(alerts.sessions) as s:
        alert = alerts._lock(s, alert_id)
        now = alerts.now()
        entries = _repages(s, alert)
        last = entries[-1] if entries else None
        of_step = sum(1 for e in entries if e.cycle == alert.cycle and e.step == alert.step)
        decision = in_call_rules.repage(state_of(alert), alert.step, last, of_step, now)
        if isinstance(decision, Refused):
            raise CallRefused(decision, alert.state)
        if isinstance(decision, Repeated):
            return Repaged(Alerts._outcome(alert, changed=False), 0)
        assert isinstance(decision, Repage)
        place, policy = place_of(s, alert.resident_id), policy_of(s, alert.kind)
        tier = policy.tiers[decision.tier_index]
        people = tiers_of(s, alerts.recipients, policy, place, now).people(decision.tier_index)
        notices.timeline(
            s,
            alert,
            now,
            "repaged",
            actor,
            {
                "tier": tier.tier,
                "cycle": alert.cycle,
                "step": decision.step,
                "n": decision.n,
                "to": [p.name for p in people],
            },
        )
        rows = steps.page_rows(
            alert,
            tier,
            people,
            place,
            now,
            decision.tier_index,
            decision.tier_round,
            key=f"{decision.step}:repage{decision.n}",
        )
        notices.upsert_notifications(s, rows)
        log.info("alert.repaged", alert_id=alert.id, alert_code=alert.code, by=actor.name, pages=len(rows))
        result = Repaged(Alerts._outcome(alert, changed=True), len(rows))
    alerts.on_outbox()
    return result


def add_note(alerts: Alerts, alert_id: int, actor: Actor, text: str) -> Outcome:
    """A note on the timeline, at any time (a follow-up on a closed call too)."""
    cleaned = in_call_rules.clean_note(text)
    if cleaned is None:
        raise BlankNote(f"a note is 1 to {in_call_rules.NOTE_MAX} characters / 备注须为1至{in_call_rules.NOTE_MAX}字")
    with transaction(alerts.sessions) as s:
        alert = alerts._lock(s, alert_id)
        notices.timeline(s, alert, alerts.now(), "note", actor, {"text": cleaned})
        return Alerts._outcome(alert, changed=True)


def _repages(s: Session, alert: Alert) -> list[LastRepage]:
    details = s.execute(
        select(TimelineEntry.at, TimelineEntry.detail)
        .where(TimelineEntry.alert_id == alert.id, TimelineEntry.what == "repaged")
        .order_by(TimelineEntry.id)
    ).all()
    out = []
    for at, detail in details:
        d = detail or {}
        if isinstance(d.get("step"), int):
            out.append(LastRepage(at, int(d.get("cycle", 0)), d["step"]))
    return out
