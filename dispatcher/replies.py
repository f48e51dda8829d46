"""What a responder's SMS reply means (SPEC section 5); pure, no database.

`1` acknowledges, `2` passes to the next tier, `3` resolves; `收到` means `1`. Bare, a reply is
for the newest open alert sent to that number (`code` None); followed by a code (`1 4821`) it is
for that alert.

Forgiving in form, strict in meaning. Full-width characters are folded (NFKC: `１　４８２１`),
punctuation, spaces and newlines around the reply are ignored, and anything that is not a letter
or digit separates the action from the code (`1,4821`, `1#4821`, `1，4821`, `收到 4821`); the
code may carry the `编号` the page shows (`1 编号4821`, `1编号4821`) and may follow `收到` directly
(`收到4821`). No other words are taken as an action: `OK`, `好的`, `确认`, `是` get the help
text. A misread acknowledgement stops the escalation while nobody is on the way; a misread
nonsense costs one help text and the escalation carries on. For the same reason `14821` is
nonsense, not `1 4821`: without a separator it cannot be told from a mistyped code, and words
after the reply make it nonsense (`收到，但我去不了` must not acknowledge).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

ACTIONS = {"1": "ack", "2": "pass", "3": "resolve", "收到": "ack"}
NONSENSE_LIMIT = 3  # nonsense messages in a row that still get the help text; after that, silence
CODE = re.compile(r"[0-9]{3,8}")  # alerts.code is String(8) of digits, "4821" in the examples


@dataclass(frozen=True)
class Reply:
    action: str  # ack | pass | resolve
    code: str | None  # None: the newest open alert sent to this number


def parse_reply(body: str) -> Reply | None:
    """The reply in an SMS body, or None when it is nonsense."""
    text = _strip_separators(unicodedata.normalize("NFKC", body or ""))
    for word, action in ACTIONS.items():
        if not text.startswith(word):
            continue
        rest = text[len(word) :]
        if not rest:
            return Reply(action, None)
        code = _code(rest, needs_separator=word.isdigit())
        return Reply(action, code) if code else None
    return None


def should_answer_nonsense(previous_consecutive_nonsense: int) -> bool:
    """Answer with the help text unless this number already sent NONSENSE_LIMIT nonsense in a row."""
    return previous_consecutive_nonsense < NONSENSE_LIMIT


def _code(rest: str, *, needs_separator: bool) -> str | None:
    tail = _strip_separators(rest)
    if needs_separator and tail == rest and not tail.startswith("编号"):
        return None  # "14821"
    tail = _strip_separators(tail.removeprefix("编号"))
    return tail if CODE.fullmatch(tail) else None


def _is_separator(char: str) -> bool:
    # punctuation, symbols, spaces, line breaks and other controls: anything but letters and digits
    return unicodedata.category(char)[0] in "PSZC"


def _strip_separators(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _is_separator(text[start]):
        start += 1
    while end > start and _is_separator(text[end - 1]):
        end -= 1
    return text[start:end]
