"""Which channel lists name a provider the deployment has not set up, for a warning at start-up.

The registry knows the names (core/channels.py), not the deployment: `aliyun_voice` in a list of a
deployment without Aliyun voice, or `wecom_card` without WeCom, makes each such row fail when it is
sent (and the step moves on, as for any failed page). The dispatcher says so when it starts, once,
naming the tier or the responder, so that it is mended before a call depends on it. It does not
refuse to start: a typo in one volunteer's list must never stop every page.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.channels import route
from core.schema import EscalationTier, Responder


def unserved(s: Session, served: Iterable[str]) -> list[str]:
    """'tier building: aliyun_voice', 'responder pm-li: wecom_card', … for every listed name whose
    provider is not among `served` (channel names such as "aliyun_voice"); plain media always are."""
    have = set(served)
    found = []
    lists = [
        (f"tier {t.tier}", t.channels) for t in s.scalars(select(EscalationTier).order_by(EscalationTier.position))
    ]
    lists += [
        (f"responder {r.id}", r.channels)
        for r in s.scalars(select(Responder).where(Responder.active.is_(True)).order_by(Responder.id))
        if r.channels
    ]
    for who, names in lists:
        for name in names or []:
            try:
                medium, provider = route(name)
            except ValueError:
                found.append(f"{who}: {name} (no such channel)")
                continue
            if provider is not None and f"{provider}_{medium}" not in have:
                found.append(f"{who}: {name}")
    return found
