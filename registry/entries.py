"""The registry file's entries: one pydantic model per kind of entry, and the whole document.

The models are meant to validate the REST API's bodies as well. Their duration fields hold seconds
and keep the file's names (`heartbeat`, `timeout`, …) so that an error names the field the user
wrote.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from core.channels import known_names, route
from registry.fields import (
    DaySpan,
    Duration,
    Id,
    IdNumber,
    Language,
    Name,
    Phone,
    ShiftEnd,
    TimeOfDay,
    TimeZone,
    _away_time,
    _minutes,
    _source,
    _timezone,
)
from registry.service_team import ServiceMemberEntry

# how far the resident gets about on their own: 自行走动 | 借助拐杖助行器 | 轮椅 | 卧床
Mobility = Literal["walks", "walks_with_aid", "wheelchair", "bedridden"]
MOBILITY: tuple[str, ...] = get_args(Mobility)
# the record's health fields as free text, one each (empty: not on file); medical_notes holds the rest
HEALTH_TEXTS = ("medical_notes", "conditions", "allergies", "medicines", "hospital", "needs")

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
    service_team: list[ServiceMemberEntry] = []  # registry/service_team.py


class Checkin(_Model):
    deadline: TimeOfDay  # community time


class Consent(_Model):
    by: Annotated[str, StringConstraints(min_length=1, max_length=200)]  # the resident, or their guardian
    given: date  # the day it was given (not `on`: YAML reads that key as true)


class Away(_Model):
    """The resident is away (with family, in hospital): no wellness or device alerts meanwhile."""

    start: Annotated[object, BeforeValidator(_away_time)] = Field(alias="from")
    end: Annotated[object, BeforeValidator(_away_time)] | None = Field(
        default=None, alias="to"
    )  # None: until further notice


class Contact(_Model):
    name: Name
    phone: Phone
    notify: bool = False
    has_key: bool = False  # holds a key to the home: the 120 hand-off names them
    # family abroad: their SMS gives the time in their zone, in their language
    country: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] | None = None
    timezone: str | None = None  # IANA name (Australia/Sydney); None: the community's
    language: Literal["zh", "en"] = "zh"  # of their SMS

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str | None, info: ValidationInfo) -> str | None:
        """A bad zone names the contact too: the path says only their place in the list."""
        if v is None:
            return v
        try:
            return _timezone(v)
        except ValueError as e:
            raise ValueError(f"{e} ({info.data.get('name', '?')}): write a name such as Australia/Sydney") from None


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
    # how often a party member visits: daily (1) for the frail; monthly at least for everyone (civil affairs)
    visit_every_days: Annotated[int, Field(ge=1, le=31)] | None = None
    # the record file's uniform fields (档案表)
    sex: Literal["female", "male"] | None = None
    birth_year: Annotated[int, Field(ge=1900, le=2100)] | None = None
    care_level: Literal["self_care", "partly_dependent", "dependent"] | None = None  # 自理 | 半失能 | 失能
    conditions: str = ""  # 慢性病: 高血压、糖尿病
    allergies: str = ""  # 过敏: 青霉素
    medicines: str = ""  # 用药: what they take, and how often
    mobility: Mobility | None = None
    hospital: Annotated[str, StringConstraints(max_length=200)] = ""  # 常去医院: where their file is
    needs: str = ""  # 服务需求: needs and services (助餐、助浴)
    consent: Consent | None = None  # the separate consent PIPL asks for before health data is kept
    id_number: IdNumber | None = None  # 身份证号: only admins see it, never the board
    household: Literal["alone", "empty_nest"] | None = None  # 独居 | 空巢 (lives with a spouse who is also old)
    contacts: list[Contact] = []

    @field_validator("household")
    @classmethod
    def _household_fits(cls, v: str | None, info: ValidationInfo) -> str | None:
        alone = info.data.get("lives_alone")
        if v == "empty_nest" and alone is True:
            raise ValueError("an empty-nest household lives with a spouse, not alone: set lives_alone to false")
        if v == "alone" and alone is False:
            raise ValueError("household 'alone' but lives_alone is false: set one of them right")
        return v


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


def _channels(value: list[str]) -> list[str]:
    """A list of channel names (core/channels.py: sms, voice, aliyun_sms, …), each once."""
    if not value:
        raise ValueError(f"at least one of {', '.join(known_names())}")
    if len(set(value)) != len(value):
        raise ValueError(f"a channel is listed twice in {value}")
    for name in value:
        route(name)  # its ValueError names the channels there are
    return value


Channels = Annotated[list[str], AfterValidator(_channels)]


class Responder(_Model):
    id: Id
    name: Name
    phone: Phone
    language: Language = "zh-CN"
    channels: Channels | None = None  # their own, in order, instead of each tier's


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


class Tier(_Model):
    tier: Literal["building", "mediator", "hotline"]
    channels: Channels
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
