"""Visits of the monitoring net (一张监护网): a party member, or an operator on their behalf, saw a
resident at home. Rows are only added; the newest per resident says when the next one is due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
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
