"""The audit list: every change an admin makes to accounts and the registry, who made it and when.
Rows are only added, never changed or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.schema.base import Base, UtcDateTime


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(64))  # the account that made the change
    action: Mapped[str] = mapped_column(String(64))  # "user.add", "user.role", "resident.edit", ...
    target: Mapped[str] = mapped_column(String(200))  # what was changed: an account name, an entry id
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never a password or a token
