"""Who a board action is done by: the operator's role word and display name ("值班员 王芳"), on the web."""

from __future__ import annotations

from dispatcher.alerts import Actor
from web.accounts import Principal

ROLE_WORD = {"operator": "值班员", "admin": "值班员"}  # a viewer takes no action; shown bare if ever


def board_actor(user: Principal) -> Actor:
    """The dispatcher's Actor for what `user` does on the board; the timeline and the texts name it."""
    word = ROLE_WORD.get(user.role)
    return Actor(f"{word} {user.shown}" if word else user.shown, "web")
