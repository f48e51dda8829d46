"""Visits of the monitoring net (一张监护网): a party member, or an operator on their behalf, saw a
resident at home. Rows are only added; the newest per resident says when the next one is due.
And the follow-up items (跟进事项) the mediator owns: needs seen on visits, or noted on the board."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_resident_at", "resident_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by_name: Mapped[str] = mapped_column(String(200))  # who visited, as the record shows them
    responder_id: Mapped[str | None] = mapped_column(ForeignKey("responders.id"))  # when a responder did
    channel: Mapped[str] = mapped_column(String(16))  # sms | web
    note: Mapped[str] = mapped_column(Text, default="")
    need: Mapped[str | None] = mapped_column(Text)  # a need seen, for the mediator to follow up
    # "sms:<MessageSid>": a webhook delivered twice records one visit
    source_key: Mapped[str | None] = mapped_column(String(80), unique=True)


class FollowUp(Base):
    """A need to follow up (the mediator's "promise and deliver"): who owns it, by when it is promised,
    and whether it is done. A need noted on a visit opens one for the community's mediator."""

    __tablename__ = "follow_ups"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resident_id: Mapped[str] = mapped_column(ForeignKey("residents.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200), default="")  # a person's name: the mediator, a volunteer
    promised_on: Mapped[date | None] = mapped_column(Date)  # the community's day it is promised for
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open | done | dropped
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_by: Mapped[str] = mapped_column(String(200))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), unique=True)  # the visit that saw it
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(Text, default="")  # what was done, or why it was dropped
