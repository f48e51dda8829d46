"""A deployment's SMS templates (Aliyun: each approved text has a TemplateCode), checked at start-up.

The file (JINQIAO_ALIYUN_TEMPLATES, e.g. deploy/templates.aliyun.yaml) maps every SMS kind of
dispatcher/sms_kinds.py to the code Aliyun approved and the text as submitted, whose ${name}
variables are values that kind fills. Every kind needs a template, each variable must be one of
its kind's values and appear once, and a kind the product does not know is a typo: any of these
refuses the start with a message naming the kind and the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from dispatcher import messages, messages_dispatch, messages_family, summary_text, visit_messages  # noqa: F401
from dispatcher.sms_kinds import KINDS, VOICE_KINDS

VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
ADJACENT = re.compile(r"\}\s*\$\{")  # Aliyun approves no two variables side by side
VALUE_MAX = 35  # characters in one variable's value (Aliyun's rule for notification templates)
CODE = re.compile(r"^SMS_[0-9]{1,20}$")
TTS_CODE = re.compile(r"^TTS_[0-9]{1,20}$")  # Aliyun's code of an approved voice (TTS) template


class TemplateError(Exception):
    """The template file is missing, malformed, or does not fit the messages; the text says where."""


@dataclass(frozen=True)
class Template:
    kind: str
    code: str  # Aliyun's TemplateCode, e.g. SMS_465231001
    text: str  # as submitted for approval (without the 【signature】 Aliyun puts in front)
    variables: tuple[str, ...]


def read_templates(path: str | Path) -> dict[str, Template]:
    """The SMS templates of the file (its `templates:` mapping), checked against every SMS kind."""
    return check_templates(_section(path, "templates", "message kind"), str(path))


def read_voice_templates(path: str | Path) -> dict[str, Template]:
    """The voice (TTS) templates of the same file (its `voice:` mapping): the spoken page and the
    answers an IVR call plays for keys 1 and 2 (VOICE_KINDS), checked the same way."""
    return check_templates(_section(path, "voice", "spoken text"), f"{path} voice", kinds=VOICE_KINDS, code=TTS_CODE)


def _section(path: str | Path, name: str, of: str) -> dict:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TemplateError(f"SMS templates {path}: cannot read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"SMS templates {path}: not YAML: {exc}") from None
    entries = raw.get(name) if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise TemplateError(f"SMS templates {path}: needs a `{name}:` mapping of {of} to code and text")
    return entries


def check_templates(
    entries: dict, where: str = "SMS templates", kinds: dict[str, tuple[str, ...]] = KINDS, code: re.Pattern = CODE
) -> dict[str, Template]:
    """Every kind of `kinds` as a Template, or TemplateError naming the first problem."""
    problems: list[str] = []
    found: dict[str, Template] = {}
    for kind in entries:
        if kind not in kinds:
            problems.append(f"{kind}: no message of that kind (the kinds: {', '.join(sorted(kinds))})")
    for kind, values in kinds.items():
        entry = entries.get(kind)
        if entry is None:
            problems.append(f"message {kind} has no template")
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("text"), str) or not entry.get("code"):
            example = "SMS_465231001" if code is CODE else "TTS_465231001"
            problems.append(f"message {kind}: its template needs `code` (e.g. {example}) and `text`")
            continue
        given, text = str(entry["code"]), entry["text"]
        if not code.match(given):
            prefix = code.pattern[1:5]
            problems.append(f"message {kind}: code {given!r} is no Aliyun TemplateCode ({prefix} and digits)")
        variables = VARIABLE.findall(text)
        if ADJACENT.search(text):
            problems.append(f"message {kind}: two variables side by side, which Aliyun does not approve")
        if "【" in text or "】" in text:
            problems.append(f"message {kind}: 【】 belongs to the signature, which Aliyun puts in front")
        if variables and not VARIABLE.sub("", text).strip(" ，。：；、（）"):
            problems.append(f"message {kind}: a template of variables alone is not approved")
        for name in dict.fromkeys(variables):
            if name not in values:
                fills = ", ".join(values) or "no values"
                problems.append(
                    f"message {kind}: its template uses ${{{name}}}, which it cannot fill (it fills {fills})"
                )
            elif variables.count(name) > 1:
                problems.append(
                    f"message {kind}: its template uses ${{{name}}} {variables.count(name)} times (once only)"
                )
        found[kind] = Template(kind, given, text, tuple(dict.fromkeys(variables)))
    if problems:
        raise TemplateError(f"{where}: " + "; ".join(problems))
    return found
