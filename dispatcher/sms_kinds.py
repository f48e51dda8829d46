"""Every SMS text as a kind and its values, for the providers that send templates (Aliyun).

A text function of messages.py (and its sister modules) is marked `@sms_text(...)` with the names of
the values a template may use. Calling it still returns the text, as a `Rendered` str that also
carries its kind (the function's name) and those values, in Chinese: a Chinese street office's
templates are Chinese whatever the recipient's language. `KINDS` lists every kind and its values,
so that a deployment's template file can be checked at start-up (dispatcher/sms_templates.py).
Concatenating a Rendered gives a plain str: no template says that text, and a template provider
refuses to send it.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import ParamSpec

P = ParamSpec("P")

KINDS: dict[str, tuple[str, ...]] = {}  # kind -> the names of the values it fills
# The spoken texts a template provider's calls say (Aliyun's TTS templates): the page, and the
# answers an IVR menu plays for its keys. Marked `@voice_text(...)` the same way.
VOICE_KINDS: dict[str, tuple[str, ...]] = {}


class Rendered(str):
    """A text, its kind and its values (all str)."""

    kind: str
    params: dict[str, str]

    def __new__(cls, text: str, kind: str, params: Mapping[str, str]) -> Rendered:
        made = super().__new__(cls, text)
        made.kind, made.params = kind, dict(params)
        return made


def template_of(text: str) -> tuple[str | None, dict[str, str] | None]:
    """(kind, values) of a text, (None, None) for a plain one."""
    if isinstance(text, Rendered):
        return text.kind, dict(text.params)
    return None, None


def _plain(**kwargs: object) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in kwargs.items() if k != "language"}


# Values made from others, so that a template names each of its values once: the texts ask for
# "3 4821" and also name the code 4821.
DERIVED: dict[str, Callable[[dict[str, str]], str]] = {
    "close": lambda v: f"3 {v['code']}",
    "accept": lambda v: f"1 {v['code']}",
}


def sms_text(*names: str, shown: Callable[..., dict[str, str]] | None = None):
    """Mark an SMS text function; `shown` turns its arguments into the values (default: as given)."""
    return _marker(KINDS, names, shown)


def voice_text(*names: str, shown: Callable[..., dict[str, str]] | None = None):
    """Mark a spoken text function, as sms_text does an SMS text."""
    return _marker(VOICE_KINDS, names, shown)


def _marker(kinds: dict[str, tuple[str, ...]], names: tuple[str, ...], shown: Callable[..., dict[str, str]] | None):
    def mark(fn: Callable[P, str]) -> Callable[P, str]:
        kind = fn.__name__
        if kind in kinds:
            raise ValueError(f"two texts named {kind}")
        kinds[kind] = names
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def render(*args: P.args, **kwargs: P.kwargs) -> str:
            text = fn(*args, **kwargs)
            if isinstance(text, Rendered):  # it handed over to another text: that one's kind
                return text
            given = signature.bind(*args, **kwargs)
            given.apply_defaults()
            values = (shown or _plain)(**given.arguments)
            values |= {name: DERIVED[name](values) for name in names if name in DERIVED}
            if set(values) != set(names):
                raise ValueError(f"SMS text {kind} gives {sorted(values)}, declared {sorted(names)}")
            return Rendered(text, kind, values)

        return render

    return mark
