"""The registry's tables: people, buildings, residents, devices, the roster, the policy and the calendar days.

They use the stable ids of the import file as primary keys, so an import is an upsert.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class Community(Base):
    __tablename__ = "communities"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    mediator_id: Mapped[str | None] = mapped_column(ForeignKey("responders.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Building(Base):
    __tablename__ = "buildings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"))
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class BuildingPartyMember(Base):
    """Tier `building`: the volunteers (楼道党员) responsible for one building."""

    __tablename__ = "building_party_members"
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"), primary_key=True)
    responder_id: Mapped[str] = mapped_column(ForeignKey("responders.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Responder(Base):
    __tablename__ = "responders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    # the person's own channels, in order (core/channels.py names: ["aliyun_sms", "voice"]), used instead
    # of the tier's when set; None: the tier's list
    channels: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Resident(Base):
    __tablename__ = "residents"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    building_id: Mapped[str] = mapped_column(ForeignKey("buildings.id"))
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    lives_alone: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(16), default="zh-CN")
    medical_notes: Mapped[str] = mapped_column(Text, default="")
    # "HH:MM", community time; indexed: the supervision pass reads the deadlines that just passed
    checkin_deadline: Mapped[str | None] = mapped_column(String(5), index=True)
    # when the deadline was set up or changed (or an away period ended early): only days that began
    # after it are supervised, so a resident imported at 13:40 gets no alert for that day's 10:00
    checkin_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    away_from: Mapped[datetime | None] = mapped_column(UtcDateTime)
    away_to: Mapped[datetime | None] = mapped_column(UtcDateTime)
    visit_every_days: Mapped[int | None] = mapped_column(Integer)  # None: the default (monthly)
    # the record file's (档案表) uniform fields; health data is sensitive under PIPL: its consent is kept
    sex: Mapped[str | None] = mapped_column(String(8))  # female | male
    birth_year: Mapped[int | None] = mapped_column(Integer)
    care_level: Mapped[str | None] = mapped_column(String(24))  # self_care | partly_dependent | dependent
    # the record's health fields one by one (medical_notes keeps any other notes); empty: not on file
    conditions: Mapped[str] = mapped_column(Text, default="", server_default="")  # 慢性病: 高血压、糖尿病
    allergies: Mapped[str] = mapped_column(Text, default="", server_default="")
    medicines: Mapped[str] = mapped_column(Text, default="", server_default="")
    mobility: Mapped[str | None] = mapped_column(String(24))  # walks | walks_with_aid | wheelchair | bedridden
    hospital: Mapped[str] = mapped_column(String(200), default="", server_default="")  # the usual hospital
    needs: Mapped[str] = mapped_column(Text, default="", server_default="")  # needs and services: 助餐、助浴
    consent_by: Mapped[str | None] = mapped_column(String(200))  # who gave consent: the resident, or a guardian
    consent_on: Mapped[date | None] = mapped_column(Date)
    id_number: Mapped[str | None] = mapped_column(String(18))  # 身份证号, GB 11643; admins only
    household: Mapped[str | None] = mapped_column(String(16))  # alone | empty_nest (空巢: with an old spouse)
    # when visits began to count (the resident registered, or back after deactivation); one never
    # visited is due from then
    visits_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Contact(Base):
    """Family contacts; those marked notify get an informational SMS, never an ask to acknowledge."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("resident_id", "phone"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32))
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    has_key: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # holds a key to the home
    # family abroad: where they live, their zone (the SMS says the time in it) and the language of their SMS
    country: Mapped[str | None] = mapped_column(String(64))
    timezone: Mapped[str | None] = mapped_column(String(64))  # IANA name; None: the community's
    language: Mapped[str] = mapped_column(String(8), default="zh", server_default="zh")  # zh | en
    position: Mapped[int] = mapped_column(Integer, default=0)


class Device(Base):
    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("adapter", "source"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # also its MQTT user name
    resident_id: Mapped[str | None] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(32), default="pager")
    adapter: Mapped[str] = mapped_column(String(32), default="native")
    source: Mapped[str | None] = mapped_column(String(200))
    heartbeat_s: Mapped[int | None] = mapped_column(Integer)
    password_hash: Mapped[str | None] = mapped_column(String(300))  # Mosquitto PBKDF2 form
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # presence, as last reported on the retained status topic
    status: Mapped[str | None] = mapped_column(String(16))
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    battery: Mapped[int | None] = mapped_column(Integer)
    # when this device's own word runs out (devices/health.py): the gateway sets it with every
    # message, a trigger marks it "look now" on any other change; the supervision pass reads only
    # the devices whose instant has come (migration 0013)
    supervise_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)


class RosterShift(Base):
    """Hotline duty: who is on duty, by kind of day, in the community's time zone."""

    __tablename__ = "roster_shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day_kind: Mapped[str] = mapped_column(String(16))  # workday | weekend | holiday
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM"
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", "24:00" allowed; end < start crosses midnight
    responder_id: Mapped[str] = mapped_column(ForeignKey("responders.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class EscalationTier(Base):
    __tablename__ = "escalation_tiers"
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))  # building | mediator | hotline
    channels: Mapped[list] = mapped_column(JSON)  # ["sms", "voice"]
    timeout_s: Mapped[int] = mapped_column(Integer)


class PolicySetting(Base):
    """Scalar policy values (ack_expiry_s, …) as key/value rows."""

    __tablename__ = "policy_settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class CalendarDay(Base):
    """An operator's word on one calendar day (registry section `calendar`): it wins over chinesecalendar.

    Official holidays and adjusted working days (调休) for years the library does not know yet, and
    local exceptions. Days not listed here follow the library (or plain weekday/weekend).
    """

    __tablename__ = "calendar_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)  # the community's local calendar day
    kind: Mapped[str] = mapped_column(String(16))  # workday | weekend | holiday
