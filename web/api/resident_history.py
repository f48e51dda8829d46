"""The history of a resident's record for admins: every change, who made it and when, and which
fields went from what to what (registry/record_history.py writes them), newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel

from core.schema import Resident
from registry.record_history import history
from web.api.registry import ERRORS, EntryId
from web.auth import Admin
from web.deps import ReadSession


class ChangeOut(BaseModel):
    at: datetime
    actor: str
    fields: dict[str, list[Any]]  # name → [old, new]; an ID number as ***1234


router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/residents/{entry_id}/history", response_model=list[ChangeOut], responses=ERRORS)
def resident_history(user: Admin, s: ReadSession, entry_id: EntryId) -> list[dict]:
    if s.get(Resident, entry_id) is None:
        raise HTTPException(404, f"residents: no entry '{entry_id}'")
    return history(s, entry_id)
