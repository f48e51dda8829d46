"""The calls report (web/reports/): figures as JSON for the report page, and the same as a CSV or
Excel table to download and print. A report is over local days: a month (`month=2026-11`) or a
range (`since`, `until`, inclusive), of one community (its time zone) or of all (China's)."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from registry.resident_sheet import write_csv
from registry.workbook import write_workbook
from web.auth import Viewer
from web.deps import Clock, ReadSession
from web.reports.load import NoSuchCommunity, calls_report
from web.reports.table import rows

MAX_DAYS = 366

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


def period(month: str | None, since: date | None, until: date | None) -> tuple[date, date]:
    """The days a report covers; 422 when they are not a month or a range of at most a year."""
    if month is not None:
        if since is not None or until is not None:
            raise HTTPException(422, "give either month or since and until, not both")
        try:
            first = date.fromisoformat(f"{month}-01")
        except ValueError:
            raise HTTPException(422, f"month is written YYYY-MM, e.g. 2026-11, not '{month}'") from None
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return first, last
    if since is None or until is None:
        raise HTTPException(422, "give month (YYYY-MM), or since and until (YYYY-MM-DD)")
    if until < since:
        raise HTTPException(422, f"until ({until}) is before since ({since})")
    if (until - since).days >= MAX_DAYS:
        raise HTTPException(422, f"a report covers at most {MAX_DAYS} days")
    return since, until


@router.get("/calls", responses={404: {}, 422: {}})
def calls(
    _: Viewer,
    s: ReadSession,
    now: Clock,
    month: Annotated[str | None, Query(max_length=7, description="YYYY-MM")] = None,
    since: Annotated[date | None, Query(description="first day, YYYY-MM-DD")] = None,
    until: Annotated[date | None, Query(description="last day, YYYY-MM-DD (inclusive)")] = None,
    community: Annotated[str | None, Query(max_length=64)] = None,
    format: Annotated[Literal["json", "csv", "xlsx"], Query()] = "json",
):
    """Calls by kind, outcome, hour and tier; press-to-page, -acknowledgement and -resolution times
    (nearest-rank median, 90th percentile, longest); the share acknowledged within 60 s and 180 s
    against the TEC Quality figures; missed check-ins; visit coverage; device availability (time
    under an open device alert, up to now)."""
    first, last = period(month, since, until)
    try:
        figures = calls_report(s, first, last, community, now())
    except NoSuchCommunity as e:
        raise HTTPException(404, str(e)) from None
    if format == "json":
        return dataclasses.asdict(figures)
    table = rows(figures, community or "全部社区")
    name = f"jinqiao-calls-{community or 'all'}-{first.isoformat()}-{last.isoformat()}"
    if format == "csv":
        return Response(
            write_csv(table),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        write_workbook(table, "呼叫报表"),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
    )
