"""Which of a resident's record fields each role is given. The board never shows the ID number
(身份证号): only an admin gets it, in /admin's form and through the registry API. The filter is on
the JSON, not only on the page, so an API client of a lower role never receives what it hides."""

from __future__ import annotations

from typing import Any

from web.accounts import Principal

ADMIN_ONLY = frozenset({"id_number"})


def hidden_from(user: Principal) -> frozenset[str]:
    return frozenset() if user.has("admin") else ADMIN_ONLY


def for_role(entry: dict[str, Any], user: Principal) -> dict[str, Any]:
    """The resident entry (the import file's form) with what `user`'s role may not see left out."""
    hidden = hidden_from(user)
    return {k: v for k, v in entry.items() if k not in hidden}
