"""Which of a resident's record fields each role is given. The board never shows the ID number
(身份证号): only an admin gets it, in /admin's form and through the registry API. Health data
(medical notes, care level, conditions, allergies, medicines, mobility, the usual hospital, needs and
services) is for those who act on a call: operators and admins; a viewer's card
and hand-off come without it. The filter is on the JSON, not only on the page, so an API client of a
lower role never receives what it hides."""

from __future__ import annotations

from typing import Any

from registry.entries import HEALTH_TEXTS
from web.accounts import Principal

ADMIN_ONLY = frozenset({"id_number"})
# the record's health fields (PIPL: sensitive); needs and services (助浴 …) tell of the body as much
HEALTH = frozenset({*HEALTH_TEXTS, "care_level", "mobility"})
RECORD_ONLY = ADMIN_ONLY | HEALTH  # given only by the route that opens one resident's record


def sees_health(user: Principal) -> bool:
    return user.has("operator")


def hidden_from(user: Principal) -> frozenset[str]:
    hidden = frozenset() if user.has("admin") else ADMIN_ONLY
    return hidden if sees_health(user) else hidden | HEALTH


def for_role(entry: dict[str, Any], user: Principal) -> dict[str, Any]:
    """The resident entry (the import file's form) with what `user`'s role may not see left out."""
    hidden = hidden_from(user)
    return {k: v for k, v in entry.items() if k not in hidden}
