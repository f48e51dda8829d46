"""The community's service team (一支服务队): volunteers with skills (health care, counselling,
repairs, home help) and the hours they can be asked, whom the mediator gives follow-up work to.
A member is a responder of the registry; the registry file lists them under their community."""

from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base


class ServiceMember(Base):
    __tablename__ = "service_members"
    community_id: Mapped[str] = mapped_column(ForeignKey("communities.id"), primary_key=True)
    responder_id: Mapped[str] = mapped_column(ForeignKey("responders.id"), primary_key=True)
    skills: Mapped[list] = mapped_column(JSON)  # ["health", "repairs"]: registry.service_team.SKILLS
    days: Mapped[list] = mapped_column(JSON)  # ["mon", …, "sun"]: the weekdays they can be asked
    start: Mapped[str] = mapped_column(String(5))  # "HH:MM", community time
    end: Mapped[str] = mapped_column(String(5))  # "HH:MM", "24:00" allowed; end < start crosses midnight
    position: Mapped[int] = mapped_column(Integer, default=0)
