"""The audit list for admins: who changed which account or registry entry, newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from core import audit
from web.auth import Admin
from web.deps import ReadSession


class AuditRow(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", response_model=list[AuditRow])
def audit_list(
    _: Admin,
    s: ReadSession,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    actor: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
):
    """The changes to accounts and the registry, newest first; `actor` and `action` narrow it."""
    return audit.entries(s, limit=limit, offset=offset, actor=actor, action=action)
