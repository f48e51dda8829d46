"""The registry import (`jinqiao import FILE`): parse, validate, then upsert in one transaction.

The file is the whole registry. Entities are keyed by their stable ids: an entity missing from the
file is deactivated, never deleted; child collections (party members, contacts, roster shifts,
escalation tiers) are made to match the file, touching only the rows that differ, so importing the
same file twice writes nothing. Any problem anywhere means nothing is written. One exception: a
file without a `calendar:` section leaves the stored calendar days alone (see RegistryDoc.calendar).

The pydantic models (one per kind of entry) are meant to validate the REST API's bodies as well.
Their duration fields hold seconds and keep the file's names (`heartbeat`, `timeout`, …) so that
an error names the field the user wrote.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time as dtime, timedelta, timezone
from pathlib import Path
from typing import Annotated, Any, Callable, Hashable, Iterable, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
import structlog
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.roster import Shift as DutyShift, coverage_gaps
from core.db import transaction
from core.schema import (
    Building as BuildingRow,
    BuildingPartyMember,
    Community as CommunityRow,
    Contact as ContactRow,
    CalendarDay,
    Device as DeviceRow,
    EscalationTier,
    PolicySetting,
    Resident as ResidentRow,
    Responder as ResponderRow,
    RosterShift,
)

DAY_KINDS = ("workday", "weekend", "holiday")
ACK_EXPIRY_KEY = "ack_expiry_s"
_MAX_SECONDS = 2**31 - 1  # the columns are 32-bit integers
# The calendar's lists and the kind of day each one gives (the roster's day kinds).
CALENDAR_KINDS = {"holidays": "holiday", "workdays": "workday", "weekends": "weekend"}
_MAX_RANGE_DAYS = 366  # a longer range of days off is a typo (and would be thousands of rows)


class RegistryError(Exception):
    """The registry file is wrong; `problems` names each entry and field."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        lines = "\n".join(f"  {p}" for p in self.problems)
        return f"{len(self.problems)} problem(s) in the registry, nothing was changed:\n{lines}"


# --- scalar types -------------------------------------------------------------------------------


def _id(value: Any) -> str:
    # A plain decimal id (`id: 17`) is read as an int; turning it back into text loses nothing.
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        return value
    raise ValueError(f"bad id '{value}' (letters, digits, _ and -, at most 64)")


# A number written without its country code (13900000002, 010 6552 9988) is read as a number of
# the communities' country: China, whose holiday calendar and time zone the service is built on.
HOME_REGION = "CN"


def _phone(value: Any) -> str:
    """A phone number, stored as E.164 (+8613900000002); a national number is read in HOME_REGION."""
    if isinstance(value, int) and not isinstance(value, bool):  # YAML reads 13900000002 unquoted as a number
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= 40 and re.fullmatch(r"[+0-9 ()./-]+", value.strip()):
        try:
            number = phonenumbers.parse(value.strip(), HOME_REGION)
            if phonenumbers.is_valid_number(number):
                return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            pass
    raise ValueError(f"not an E.164 number '{value}'")


def parse_duration(value: Any) -> int:
    """"90s", "2m", "24h", "1h30m" → seconds (> 0)."""
    m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", value) if isinstance(value, str) else None
    if not m or not value:
        raise ValueError(f"bad duration '{value}'")
    h, mins, s = (int(g or 0) for g in m.groups())
    seconds = h * 3600 + mins * 60 + s
    if not 0 < seconds <= _MAX_SECONDS:
        raise ValueError(f"bad duration '{value}' (must be more than 0s and fit in 68 years)")
    return seconds


def _time_of_day(value: Any, allow_2400: bool = False) -> str:
    if isinstance(value, str) and (
        re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value) or (allow_2400 and value == "24:00")
    ):
        return value
    raise ValueError(f"bad time '{value}' (HH:MM)")


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"unknown time zone '{value}'") from None
    return value


def _language(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,2}", value):
        return value
    raise ValueError(f"bad language tag '{value}' (like zh-CN)")


def _source(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and 0 < len(value) <= 200:
        return value
    raise ValueError(f"bad source '{value}'")


def _away_time(value: Any) -> date | datetime:
    """A day (`2026-12-10`) or an instant with its zone (`2026-12-10T08:00:00+08:00`)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value or " " in value \
                else date.fromisoformat(value)
        except ValueError:
            pass
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"'{value.isoformat()}' has no time zone (write +08:00, or give a plain date)")
        return value
    if isinstance(value, date):
        return value
    raise ValueError(f"bad date or time '{value}' (2026-12-10, or 2026-12-10T08:00:00+08:00)")


def away_bounds(start: date | datetime, end: date | datetime | None, tz: str) -> tuple[datetime, datetime | None]:
    """UTC bounds of an away period: a plain day counts whole, in the community's zone (`to` included)."""
    zone = ZoneInfo(tz)

    def utc(v: date | datetime, next_day: bool) -> datetime:
        if not isinstance(v, datetime):
            v = datetime.combine(v + timedelta(days=1) if next_day else v, dtime(0, 0), zone)
        return v.astimezone(timezone.utc)

    return utc(start, False), (None if end is None else utc(end, True))


def _day_span(value: Any) -> str:
    """A day (`2027-01-01`) or a range of days, both ends included (`2027-02-06..2027-02-12`).

    Kept as text, normalised (YAML reads an unquoted day as a date), so the file and the API agree.
    """
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    form = "(a day like 2027-01-01, or a range like 2027-02-06..2027-02-12)"
    if not isinstance(value, str):
        raise ValueError(f"bad day '{value}' {form}")
    parts = value.strip().split("..")
    if len(parts) > 2 or not all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", p.strip()) for p in parts):
        raise ValueError(f"bad day '{value}' {form}")
    days = []
    for p in parts:
        try:
            days.append(date.fromisoformat(p.strip()))
        except ValueError:
            within = f" in '{value}'" if len(parts) > 1 else ""
            raise ValueError(f"no such day '{p.strip()}'{within}") from None
    first, last = days[0], days[-1]
    if last < first:
        raise ValueError(f"range '{value}' ends before it starts")
    if (last - first).days + 1 > _MAX_RANGE_DAYS:
        raise ValueError(f"range '{value}' is {(last - first).days + 1} days long (at most {_MAX_RANGE_DAYS})")
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def span_days(span: str) -> list[date]:
    """Every day of a validated day span, in order."""
    first, _, last = span.partition("..")
    start, end = date.fromisoformat(first), date.fromisoformat(last or first)
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def day_spans(days: Iterable[date]) -> list[str]:
    """Days as the fewest spans: runs of consecutive days become ranges."""
    spans: list[list[date]] = []
    for day in sorted(set(days)):
        if spans and day == spans[-1][1] + timedelta(days=1):
            spans[-1][1] = day
        else:
            spans.append([day, day])
    return [a.isoformat() if a == b else f"{a.isoformat()}..{b.isoformat()}" for a, b in spans]


Id = Annotated[str, BeforeValidator(_id)]
Phone = Annotated[str, BeforeValidator(_phone)]
# Text in the file and the API ("2m"), seconds once validated; the JSON schema says what to send.
Duration = Annotated[int, BeforeValidator(parse_duration),
                     WithJsonSchema({"type": "string", "pattern": r"^(\d+h)?(\d+m)?(\d+s)?$", "examples": ["2m", "1h30m"]})]
TimeOfDay = Annotated[str, BeforeValidator(_time_of_day)]
DaySpan = Annotated[str, BeforeValidator(_day_span),
                    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}(\.\.\d{4}-\d{2}-\d{2})?$",
                                    "examples": ["2027-01-01", "2027-02-06..2027-02-12"]})]
ShiftEnd = Annotated[str, BeforeValidator(lambda v: _time_of_day(v, allow_2400=True))]
TimeZone = Annotated[str, BeforeValidator(_timezone)]
Language = Annotated[str, BeforeValidator(_language)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


def _minutes(hhmm: str) -> int:
    h, m = hhmm.split(":")
    return int(h) * 60 + int(m)




# --- models -------------------------------------------------------------------------------------


class _Model(BaseModel):
    # Unknown keys are refused: a misspelt `hearbeat:` must not be silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Building(_Model):
    id: Id
    name: Name
    party_members: list[Id] = []  # responder ids, all notified by tier `building`


class Community(_Model):
    id: Id
    name: Name
    timezone: TimeZone = "Asia/Shanghai"
    mediator: Id | None = None  # responder id, tier `mediator`
    buildings: list[Building] = []


class Checkin(_Model):
    deadline: TimeOfDay  # community time


class Away(_Model):
    """The resident is away (with family, in hospital): no wellness or device alerts meanwhile."""

    start: Annotated[object, BeforeValidator(_away_time)] = Field(alias="from")
    end: Annotated[object, BeforeValidator(_away_time)] | None = Field(default=None, alias="to")  # None: until further notice


class Contact(_Model):
    name: Name
    phone: Phone
    notify: bool = False


class Resident(_Model):
    id: Id
    name: Name
    building: Id
    address: Annotated[str, StringConstraints(max_length=300)] = ""
    phone: Phone | None = None
    lives_alone: bool = True
    language: Language = "zh-CN"
    medical_notes: str = ""
    checkin: Checkin | None = None
    away: Away | None = None
    contacts: list[Contact] = []


class Device(_Model):
    id: Id  # also its MQTT user name
    resident: Id | None = None
    kind: Literal["pager", "pull_cord", "fall_detector"] = "pager"
    adapter: Literal["native", "zigbee2mqtt", "shelly", "tasmota"] = "native"
    # validate_default so that a missing source is checked against the adapter too
    source: Annotated[str, BeforeValidator(_source)] | None = Field(default=None, validate_default=True)
    heartbeat: Duration | None = None  # seconds

    @field_validator("source")
    @classmethod
    def _source_fits_adapter(cls, v: str | None, info: ValidationInfo) -> str | None:
        adapter = info.data.get("adapter")
        if adapter is None:  # the adapter itself was wrong; that error is enough
            return v
        if adapter != "native" and v is None:
            raise ValueError(f"required for adapter '{adapter}'")
        if adapter == "native" and v is not None:
            raise ValueError("only devices behind an adapter (zigbee2mqtt, shelly, tasmota) have a source")
        return v


class Responder(_Model):
    id: Id
    name: Name
    phone: Phone
    language: Language = "zh-CN"


class Shift(_Model):
    start: TimeOfDay = Field(alias="from")
    end: ShiftEnd = Field(alias="to")  # end < start crosses midnight
    responder: Id

    @field_validator("end")
    @classmethod
    def _not_empty(cls, v: str, info: ValidationInfo) -> str:
        start = info.data.get("start")
        if start is not None and _minutes(start) == _minutes(v):
            raise ValueError(f"shift from {start} to {v} is empty (a whole day is 00:00 to 24:00)")
        return v


class Hotline(_Model):
    workday: list[Shift] = []
    weekend: list[Shift] = []
    holiday: list[Shift] = []


def _channels(value: list[str]) -> list[str]:
    if not value:
        raise ValueError("at least one of sms, voice")
    if len(set(value)) != len(value):
        raise ValueError(f"a channel is listed twice in {value}")
    return value


class Tier(_Model):
    tier: Literal["building", "mediator", "hotline"]
    channels: Annotated[list[Literal["sms", "voice"]], AfterValidator(_channels)]
    timeout: Duration  # seconds


class Escalation(_Model):
    tiers: Annotated[list[Tier], Field(min_length=1)]
    ack_expiry: Duration = 24 * 3600  # seconds


class Calendar(_Model):
    """Days whose kind the operators fix, over China's official calendar (chinesecalendar): the
    official days off and adjusted working days (调休) of a year the library does not know yet, or a
    local exception. A day is in one list at most; days not listed follow the library."""

    holidays: list[DaySpan] = []  # official days off: the roster's `holiday` shifts
    workdays: list[DaySpan] = []  # adjusted working days (a Saturday or Sunday worked): `workday` shifts
    weekends: list[DaySpan] = []  # ordinary rest days, e.g. against the library's 调休: `weekend` shifts


class RegistryDoc(_Model):
    communities: list[Community] = []
    residents: list[Resident] = []
    devices: list[Device] = []
    responders: list[Responder] = []
    hotline: Hotline | None = None
    escalation: Escalation
    # Absent: the stored days stay as they are (an import does not wipe days set through the API);
    # given (`calendar: {}` or `calendar: null` included): the stored days are made to match it.
    calendar: Calendar | None = None


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
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key '{key}'", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers
            if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:int", re.compile(r"^-?(?:0|[1-9][0-9]*)$"), list("-0123456789"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))


def read_yaml(text: str | bytes) -> Any:
    """Parse registry YAML (safe: plain data only); a syntax error becomes a RegistryError with its line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise RegistryError([_not_utf8(text, e)]) from None
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
    line = data[:e.start].count(b"\n") + 1
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
    "communities": Community, "residents": Resident, "devices": Device, "responders": Responder,
}
_MAPPINGS: dict[str, type[_Model]] = {"hotline": Hotline, "escalation": Escalation, "calendar": Calendar}


def validate_registry(raw: Any) -> RegistryDoc:
    """Validate parsed YAML, collecting every problem before raising RegistryError."""
    if raw is None:
        raise RegistryError(["the file is empty"])
    if not isinstance(raw, dict):
        raise RegistryError([f"top level: expected a mapping of sections ({', '.join([*_LISTS, *_MAPPINGS])}), "
                             f"got {_kind(raw)}"])
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
    problems += check_registry(RegistryDoc.model_construct(**valid), ids=_raw_ids(raw),
                               hotline_given=raw.get("hotline") is not None)
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
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), f"'{value}'")


def _raw_ids(raw: dict) -> dict[str, list[str]]:
    """The ids the file defines, valid entries or not: a bad entry must not also make every
    reference to it fail, and a duplicate is a duplicate even when one copy has other faults."""
    def ids(items: Any) -> list[str]:
        items = items if isinstance(items, list) else []
        return [str(x["id"]) for x in items if isinstance(x, dict) and x.get("id") is not None]

    communities = [c for c in raw.get("communities") or [] if isinstance(c, dict)] \
        if isinstance(raw.get("communities"), list) else []
    return {"communities": ids(communities), "buildings": [i for c in communities for i in ids(c.get("buildings"))],
            **{section: ids(raw.get(section)) for section in ("residents", "devices", "responders")}}


def _doc_ids(doc: RegistryDoc) -> dict[str, list[str]]:
    return {"communities": [c.id for c in doc.communities],
            "buildings": [b.id for c in doc.communities for b in c.buildings],
            **{section: [e.id for e in getattr(doc, section)] for section in ("residents", "devices", "responders")}}


def check_registry(doc: RegistryDoc, ids: dict[str, list[str]] | None = None, hotline_given: bool = False) -> list[str]:
    """Cross-entry rules: unique ids, references that resolve, a hotline that is always staffed.

    `ids` and `hotline_given` describe the raw file when some entries failed validation and are
    missing from `doc`, so that their absence does not raise a second, misleading problem.
    """
    ids = _doc_ids(doc) if ids is None else ids
    problems = [f"duplicate id '{i}' in {section}"
                for section, found in ids.items() for i, n in Counter(found).items() if n > 1]
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
    zones = {b.id: c.timezone for c in doc.communities for b in c.buildings}
    for r in doc.residents:
        ref(f"residents[{r.id}].building", "building", r.building, buildings)
        if r.away is not None and r.away.end is not None:
            start, end = away_bounds(r.away.start, r.away.end, zones.get(r.building, "Asia/Shanghai"))
            if end <= start:
                problems.append(f"residents[{r.id}].away.to: ends before it starts")
        seen: set[str] = set()
        for i, c in enumerate(r.contacts):
            if c.phone in seen:
                problems.append(f"residents[{r.id}].contacts[{i}].phone: '{c.phone}' is already a contact")
            seen.add(c.phone)
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
    return [f"calendar.{a}[{i}]: '{span}' overlaps {b}[{j}] '{other}' (a day is a {CALENDAR_KINDS[a]} "
            f"or a {CALENDAR_KINDS[b]}, not both)" for (a, i, span), (b, j, other) in clashes]


def calendar_days(calendar: Calendar | None) -> dict[date, str]:
    """Day → kind of day (workday | weekend | holiday), for a checked calendar."""
    if calendar is None:
        return {}
    return {day: kind for field_name, kind in CALENDAR_KINDS.items()
            for span in getattr(calendar, field_name) for day in span_days(span)}


def roster_gaps(kind: str, shifts: Iterable[Shift]) -> list[tuple[str, str]]:
    """Uncovered spans of one kind of day ('HH:MM', 'HH:MM'), by the dispatcher's own duty rule;
    a gap across midnight is named as one span (22:00–06:00)."""
    duty = [DutyShift(kind, s.start, s.end, s.responder) for s in shifts]
    gaps = [(a, b) for _kind, a, b in coverage_gaps(duty) if _kind == kind]
    if len(gaps) > 1 and gaps[0][0] == "00:00" and gaps[-1][1] == "24:00":
        gaps = [(gaps[-1][0], gaps[0][1]), *gaps[1:-1]]
    return gaps


# --- writing ------------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    deleted: int = 0  # child rows (contacts, shifts, …) removed to match the file

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deactivated + self.deleted


@dataclass
class ImportReport:
    tables: dict[str, Counts] = field(default_factory=dict)

    def counts(self, table: str) -> Counts:
        return self.tables.setdefault(table, Counts())

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.tables.values())

    def __str__(self) -> str:
        lines = [f"{table}: " + ", ".join(f"{n} {what}" for what, n in vars(c).items() if n)
                 for table, c in self.tables.items() if c.changed]
        return "\n".join(lines) or "no changes"


def import_registry(sessions: sessionmaker[Session], path_or_doc: str | os.PathLike[str] | RegistryDoc, *,
                    now: datetime | None = None) -> ImportReport:
    """Make the registry tables match the file, all or nothing. Raises RegistryError.

    `now` (default: the wall clock) is recorded as a resident's `checkin_since` when their check-in
    deadline is set up or changed, or their away period ends with this import."""
    if isinstance(path_or_doc, RegistryDoc):
        doc = path_or_doc
        if problems := check_registry(doc):
            raise RegistryError(problems)
    else:
        doc = load_registry_file(path_or_doc)
    report = ImportReport()
    with transaction(sessions) as s:
        _write(s, doc, report, now or datetime.now(timezone.utc))
    structlog.get_logger().info("registry.imported", changed=report.changed,
                                **{t: vars(c) for t, c in report.tables.items() if c.changed})
    return report


def _write(s: Session, doc: RegistryDoc, report: ImportReport, now: datetime) -> None:
    # Parents first, each section flushed before the next: the rows it refers to must exist.
    entity = dict(key=lambda r: r.id, deactivate=True)
    _sync(s, ResponderRow, report, **entity, desired={
        r.id: dict(id=r.id, name=r.name, phone=r.phone, language=r.language, active=True) for r in doc.responders})
    _sync(s, CommunityRow, report, **entity, desired={
        c.id: dict(id=c.id, name=c.name, timezone=c.timezone, mediator_id=c.mediator, active=True)
        for c in doc.communities})
    _sync(s, BuildingRow, report, **entity, desired={
        b.id: dict(id=b.id, community_id=c.id, name=b.name, active=True) for c in doc.communities for b in c.buildings})
    building_ids = {b.id for c in doc.communities for b in c.buildings}
    _sync(s, BuildingPartyMember, report, key=lambda r: (r.building_id, r.responder_id),
          only=lambda r: r.building_id in building_ids, desired={
              (b.id, m): dict(building_id=b.id, responder_id=m, position=i)
              for c in doc.communities for b in c.buildings for i, m in enumerate(b.party_members)})
    zones = {b.id: c.timezone for c in doc.communities for b in c.buildings}
    residents = {r.id: dict(id=r.id, name=r.name, building_id=r.building, address=r.address, phone=r.phone,
                            lives_alone=r.lives_alone, language=r.language, medical_notes=r.medical_notes,
                            checkin_deadline=r.checkin.deadline if r.checkin else None,
                            **_away_columns(r, zones), active=True)
                 for r in doc.residents}
    _checkin_since(s, residents, now)
    _sync(s, ResidentRow, report, **entity, desired=residents)
    resident_ids = {r.id for r in doc.residents}
    # Contacts of residents no longer in the file stay with them: the resident is only deactivated.
    _sync(s, ContactRow, report, key=lambda r: (r.resident_id, r.phone),
          only=lambda r: r.resident_id in resident_ids, desired={
              (r.id, c.phone): dict(resident_id=r.id, phone=c.phone, name=c.name, notify=c.notify, position=i)
              for r in doc.residents for i, c in enumerate(r.contacts)})
    _free_device_sources(s, doc, report)
    _sync(s, DeviceRow, report, **entity, desired={
        d.id: dict(id=d.id, resident_id=d.resident, kind=d.kind, adapter=d.adapter, source=d.source,
                   heartbeat_s=d.heartbeat, active=True) for d in doc.devices})
    hotline = doc.hotline or Hotline()
    _sync(s, RosterShift, report, key=lambda r: (r.day_kind, r.position), desired={
        (kind, i): dict(day_kind=kind, position=i, start=sh.start, end=sh.end, responder_id=sh.responder)
        for kind in DAY_KINDS for i, sh in enumerate(getattr(hotline, kind))})
    _sync(s, EscalationTier, report, key=lambda r: r.position, desired={
        i: dict(position=i, tier=t.tier, channels=list(t.channels), timeout_s=t.timeout)
        for i, t in enumerate(doc.escalation.tiers)})
    _sync(s, PolicySetting, report, key=lambda r: r.key, only=lambda r: r.key == ACK_EXPIRY_KEY, desired={
        ACK_EXPIRY_KEY: dict(key=ACK_EXPIRY_KEY, value=str(doc.escalation.ack_expiry))})
    if "calendar" in doc.model_fields_set:  # see RegistryDoc.calendar
        _sync(s, CalendarDay, report, key=lambda r: r.day, desired={
            day: dict(day=day, kind=kind) for day, kind in calendar_days(doc.calendar).items()})


def _checkin_since(s: Session, residents: dict[str, dict[str, Any]], now: datetime) -> None:
    """Stamp `checkin_since` onto the residents whose check-in starts with this import: a new or
    changed deadline, a returning resident, or an away period in effect that this import ends. The
    supervision counts a deadline only on days that began after it (no day-one false alarm)."""
    existing = {r.id: r for r in s.scalars(select(ResidentRow).where(ResidentRow.id.in_(list(residents))))}
    for rid, values in residents.items():
        row = existing.get(rid)
        deadline = values["checkin_deadline"]
        if row is None or not row.active or row.checkin_deadline != deadline:
            values["checkin_since"] = now if deadline else None
            continue
        was_away = _away_at(row.away_from, row.away_to, now)
        if deadline and was_away and not _away_at(values.get("away_from", row.away_from),
                                                  values.get("away_to", row.away_to), now):
            values["checkin_since"] = now


def _away_at(start: datetime | None, end: datetime | None, at: datetime) -> bool:
    return start is not None and start <= at and (end is None or at < end)


def _away_columns(r: Resident, zones: dict[str, str]) -> dict[str, datetime | None]:
    """Only a file that says `away:` manages the period (`away: null` ends it); without the key the
    columns stay as they are, so that a period set on the board survives a routine import."""
    if "away" not in r.model_fields_set:
        return {}
    if r.away is None:
        return {"away_from": None, "away_to": None}
    start, end = away_bounds(r.away.start, r.away.end, zones.get(r.building, "Asia/Shanghai"))
    return {"away_from": start, "away_to": end}


def _sync(s: Session, model: type, report: ImportReport, *, key: Callable[[Any], Hashable],
          desired: dict[Hashable, dict[str, Any]], deactivate: bool = False,
          only: Callable[[Any], bool] = lambda r: True) -> None:
    """Make the rows of `model` (those `only` selects) match `desired`, writing only what differs.

    Rows missing from `desired` are deactivated (entities) or deleted (child rows).
    """
    counts = report.counts(model.__tablename__)
    existing = {key(r): r for r in s.scalars(select(model)).all() if only(r)}
    for k, row in existing.items():
        if k in desired:
            continue
        if not deactivate:
            s.delete(row)
            counts.deleted += 1
        elif row.active:
            row.active = False
            counts.deactivated += 1
    s.flush()  # removed rows free their unique keys before new rows take them
    for k, values in desired.items():
        row = existing.get(k)
        if row is None:
            s.add(model(**values))
            counts.created += 1
        elif _assign(row, values):
            counts.updated += 1
    s.flush()


def _assign(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _free_device_sources(s: Session, doc: RegistryDoc, report: ImportReport) -> None:
    """Release an (adapter, source) the file gives to another device, so that moves and swaps
    do not trip the unique constraint. A device left out of the file loses it for good: the
    gateway must map each physical source to exactly one device."""
    claimed = {(d.adapter, d.source): d.id for d in doc.devices if d.source is not None}
    in_file = {d.id for d in doc.devices}
    freed = [row for row in s.scalars(select(DeviceRow).where(DeviceRow.source.is_not(None))).all()
             if claimed.get((row.adapter, row.source), row.id) != row.id]
    for row in freed:
        row.source = None
        if row.id not in in_file:
            report.counts(DeviceRow.__tablename__).updated += 1
    if freed:
        s.flush()
