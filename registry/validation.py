"""Reading the registry file (YAML 1.2 scalars, no silent duplicate keys) and validating it:
each entry by its model, then across entries (references, duplicate phones, a staffed hotline,
the calendar, the roster's coverage). Any problem anywhere is a `RegistryError`.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from registry.entries import (
    Calendar,
    Community,
    Device,
    Escalation,
    Hotline,
    RegistryDoc,
    Resident,
    Responder,
    Shift,
    _Model,
)
from registry.fields import CALENDAR_KINDS, DAY_KINDS, RegistryError, away_bounds, span_days
from registry.roster import Shift as DutyShift
from registry.roster import coverage_gaps

# --- reading and validating -----------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """PyYAML's safe loader with YAML 1.2 scalars and no silent duplicate keys.

    YAML 1.1 reads `source: 0x00158d0001a2b3c4` as an integer (losing the adapter's device name),
    `from: 20:00` as 1200 (base 60) and `language: no` as False. Here only plain decimals are
    integers and only true/false are booleans; everything else stays text for the models to judge.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def read_yaml(text: str | bytes) -> Any:
    """Parse registry YAML (safe: plain data only); a syntax error becomes a RegistryError with its line."""
    if isinstance(text, bytes):
        try:
            raw = text
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RegistryError([_not_utf8(raw, e)]) from None
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise RegistryError([f"YAML syntax error{where}: {problem}"]) from None


def _not_utf8(data: bytes, e: UnicodeDecodeError) -> str:
    """Windows editors in China save as GBK by default; YAML's own message (`unacceptable character
    #x00ce`) does not say what to do."""
    line = data[: e.start].count(b"\n") + 1
    try:
        data.decode("gbk")
        looks = " (it looks like GBK, the Chinese Windows default)"
    except UnicodeDecodeError:
        looks = ""
    return f"the file is not UTF-8{looks}: byte 0x{data[e.start]:02x} at line {line}; save it as UTF-8 and import again"


def load_registry_file(path: str | os.PathLike[str]) -> RegistryDoc:
    """Read and validate a registry file; pure, touches no database. Raises RegistryError."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise RegistryError([f"{path}: cannot read: {e.strerror}"]) from None
    return validate_registry(read_yaml(data))


_LISTS: dict[str, type[_Model]] = {
    "communities": Community,
    "residents": Resident,
    "devices": Device,
    "responders": Responder,
}
_MAPPINGS: dict[str, type[_Model]] = {"hotline": Hotline, "escalation": Escalation, "calendar": Calendar}


def validate_registry(raw: Any) -> RegistryDoc:
    """Validate parsed YAML, collecting every problem before raising RegistryError."""
    if raw is None:
        raise RegistryError(["the file is empty"])
    if not isinstance(raw, dict):
        raise RegistryError(
            [f"top level: expected a mapping of sections ({', '.join([*_LISTS, *_MAPPINGS])}), got {_kind(raw)}"]
        )
    problems = [f"unknown section '{key}'" for key in raw if key not in _LISTS and key not in _MAPPINGS]
    # Entries are validated one by one, so a bad entry still lets the others be cross-checked.
    valid: dict[str, Any] = {}
    for section, model in _LISTS.items():
        items = raw.get(section) or []
        valid[section] = []
        if not isinstance(items, list):
            problems.append(f"{section}: expected a list, got {_kind(items)}")
            continue
        for i, item in enumerate(items):
            entry = _validate(model, item, f"{section}[{_label(item, i)}]", problems)
            if entry is not None:
                valid[section].append(entry)
    for section, model in _MAPPINGS.items():
        valid[section] = None if raw.get(section) is None else _validate(model, raw[section], section, problems)
    if raw.get("escalation") is None:
        problems.append("escalation: required (the tiers to notify and their timeouts)")
    if "calendar" not in raw:
        del valid["calendar"]  # not in the document's fields_set: the import leaves the stored days alone
    problems += check_registry(
        RegistryDoc.model_construct(**valid), ids=_raw_ids(raw), hotline_given=raw.get("hotline") is not None
    )
    if problems:
        raise RegistryError(problems)
    return RegistryDoc(**valid)


def _validate(model: type[_Model], item: Any, label: str, problems: list[str]) -> Any:
    try:
        return model.model_validate(item)
    except ValidationError as e:
        problems.extend(_describe(err, label, item) for err in e.errors())
        return None


def _describe(err: Any, label: str, item: Any) -> str:
    """One pydantic error as `section[id].field[id].field: message`, walking the raw data for ids."""
    path, node = label, item
    for part in err["loc"]:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            path += f"[{_label(node, part)}]"
        else:
            node = node.get(part) if isinstance(node, dict) else None
            path += f".{part}"
    msg = {"extra_forbidden": "unknown field", "missing": "required"}.get(err["type"], err["msg"])
    msg = msg.removeprefix("Value error, ")
    if err["type"] in ("model_type", "dict_type"):
        msg = f"expected a mapping, got {_kind(node)}"
    return f"{path}: {msg[:1].lower()}{msg[1:]}"


def _label(item: Any, index: int) -> str:
    ident = item.get("id") if isinstance(item, dict) else None
    return str(ident) if isinstance(ident, (str, int)) and not isinstance(ident, bool) else str(index)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), f"'{value}'")  # type: ignore[call-overload]


def _raw_ids(raw: dict) -> dict[str, list[str]]:
    """The ids the file defines, valid entries or not: a bad entry must not also make every
    reference to it fail, and a duplicate is a duplicate even when one copy has other faults."""

    def ids(items: Any) -> list[str]:
        items = items if isinstance(items, list) else []
        return [str(x["id"]) for x in items if isinstance(x, dict) and x.get("id") is not None]

    communities = (
        [c for c in raw.get("communities") or [] if isinstance(c, dict)]
        if isinstance(raw.get("communities"), list)
        else []
    )
    return {
        "communities": ids(communities),
        "buildings": [i for c in communities for i in ids(c.get("buildings"))],
        **{section: ids(raw.get(section)) for section in ("residents", "devices", "responders")},
    }


def _doc_ids(doc: RegistryDoc) -> dict[str, list[str]]:
    return {
        "communities": [c.id for c in doc.communities],
        "buildings": [b.id for c in doc.communities for b in c.buildings],
        **{section: [e.id for e in getattr(doc, section)] for section in ("residents", "devices", "responders")},
    }


def check_registry(doc: RegistryDoc, ids: dict[str, list[str]] | None = None, hotline_given: bool = False) -> list[str]:
    """Cross-entry rules: unique ids, references that resolve, a hotline that is always staffed.

    `ids` and `hotline_given` describe the raw file when some entries failed validation and are
    missing from `doc`, so that their absence does not raise a second, misleading problem.
    """
    ids = _doc_ids(doc) if ids is None else ids
    problems = [
        f"duplicate id '{i}' in {section}" for section, found in ids.items() for i, n in Counter(found).items() if n > 1
    ]
    responders, buildings, residents = set(ids["responders"]), set(ids["buildings"]), set(ids["residents"])

    def ref(where: str, kind: str, value: str | None, pool: set[str]) -> None:
        if value is not None and value not in pool:
            problems.append(f"{where}: unknown {kind} '{value}'")

    for c in doc.communities:
        ref(f"communities[{c.id}].mediator", "responder", c.mediator, responders)
        for b in c.buildings:
            where = f"communities[{c.id}].buildings[{b.id}].party_members"
            for member in b.party_members:
                ref(where, "responder", member, responders)
            problems += [f"{where}: '{m}' is listed twice" for m, n in Counter(b.party_members).items() if n > 1]
        team = [m.responder for m in c.service_team]
        for member in team:
            ref(f"communities[{c.id}].service_team", "responder", member, responders)
        problems += [
            f"communities[{c.id}].service_team: '{m}' is listed twice" for m, n in Counter(team).items() if n > 1
        ]
    zones = {b.id: c.timezone for c in doc.communities for b in c.buildings}
    for r in doc.residents:
        ref(f"residents[{r.id}].building", "building", r.building, buildings)
        if r.away is not None and r.away.end is not None:
            start, end = away_bounds(r.away.start, r.away.end, zones.get(r.building, "Asia/Shanghai"))  # type: ignore[arg-type]  # _away_time made them dates or datetimes
            if end <= start:  # type: ignore[operator]  # end is not None: the end was given
                problems.append(f"residents[{r.id}].away.to: ends before it starts")
        seen: set[str] = set()
        for i, contact in enumerate(r.contacts):
            if contact.phone in seen:
                problems.append(f"residents[{r.id}].contacts[{i}].phone: '{contact.phone}' is already a contact")
            seen.add(contact.phone)
    # An SMS reply or a keypress is attributed to a person by the number it came from.
    phones: dict[str, str] = {}
    for p in doc.responders:
        owner = phones.setdefault(p.phone, p.id)
        if owner != p.id:
            problems.append(f"responders[{p.id}].phone: '{p.phone}' is already responder '{owner}'")
    sources: dict[tuple[str, str], str] = {}
    for d in doc.devices:
        ref(f"devices[{d.id}].resident", "resident", d.resident, residents)
        if d.source is not None:
            owner = sources.setdefault((d.adapter, d.source), d.id)
            if owner != d.id:
                problems.append(f"devices[{d.id}].source: {d.adapter} source '{d.source}' is already device '{owner}'")

    if doc.hotline is not None:
        for kind in DAY_KINDS:
            shifts = getattr(doc.hotline, kind)
            for i, s in enumerate(shifts):
                ref(f"hotline.{kind}[{i}].responder", "responder", s.responder, responders)
            if not shifts:
                problems.append(f"hotline.{kind}: no shifts (the hotline must always be staffed)")
                continue
            problems += [f"hotline.{kind}: roster gap {a}–{b} (nobody on duty)" for a, b in roster_gaps(kind, shifts)]
    elif not hotline_given and doc.escalation and any(t.tier == "hotline" for t in doc.escalation.tiers):
        problems.append("hotline: missing, but escalation has a 'hotline' tier (the hotline must always be staffed)")
    if doc.calendar is not None:
        problems += calendar_conflicts(doc.calendar)
    return problems


def calendar_conflicts(calendar: Calendar) -> list[str]:
    """A day in two of the calendar's lists (a holiday and a workday at once), named by both entries."""
    owner: dict[date, tuple[str, int, str]] = {}
    clashes: dict[tuple[tuple[str, int, str], tuple[str, int, str]], None] = {}
    for field_name in CALENDAR_KINDS:
        for i, span in enumerate(getattr(calendar, field_name)):
            here = (field_name, i, span)
            for day in span_days(span):
                there = owner.setdefault(day, here)
                if there[0] != field_name:
                    clashes.setdefault((here, there))
    return [
        f"calendar.{a}[{i}]: '{span}' overlaps {b}[{j}] '{other}' (a day is a {CALENDAR_KINDS[a]} "
        f"or a {CALENDAR_KINDS[b]}, not both)"
        for (a, i, span), (b, j, other) in clashes
    ]


def calendar_days(calendar: Calendar | None) -> dict[date, str]:
    """Day → kind of day (workday | weekend | holiday), for a checked calendar."""
    if calendar is None:
        return {}
    return {
        day: kind
        for field_name, kind in CALENDAR_KINDS.items()
        for span in getattr(calendar, field_name)
        for day in span_days(span)
    }


def roster_gaps(kind: str, shifts: Iterable[Shift]) -> list[tuple[str, str]]:
    """Uncovered spans of one kind of day ('HH:MM', 'HH:MM'), by the dispatcher's own duty rule;
    a gap across midnight is named as one span (22:00–06:00)."""
    duty = [DutyShift(kind, s.start, s.end, s.responder) for s in shifts]
    gaps = [(a, b) for _kind, a, b in coverage_gaps(duty) if _kind == kind]
    if len(gaps) > 1 and gaps[0][0] == "00:00" and gaps[-1][1] == "24:00":
        gaps = [(gaps[-1][0], gaps[0][1]), *gaps[1:-1]]
    return gaps
