"""Look an alert up by the code the board and every SMS show (`8150`, or `#8150` as it is printed).

A bare number in `/alerts/{ref}` is the id (ids and codes overlap); this route takes only codes, so
the board's header search never has to know the `%23` spelling. Reading needs `viewer`.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path

from web.api.alerts import AlertDetail, alert_detail, find
from web.auth import Viewer
from web.deps import ReadSession

# dispatcher/steps.py `new_code`: four digits, longer only while thousands are open at once
CODE = re.compile(r"^#?([0-9]{4,8})$")

router = APIRouter(prefix="/api/v1", tags=["alerts"])


def code_of(text: str) -> str:
    """The digits of a code as typed ("8150", "#8150", " 8150 "); 422 with what a code looks like."""
    match = CODE.match(text.strip())
    if match is None:
        raise HTTPException(
            422, f"an alert code is 4 to 8 digits, like 8150 or #8150; {text.strip()[:20]!r} is not one"
        )
    return match[1]


@router.get("/alerts/by-code/{code}", response_model=AlertDetail, responses={404: {}, 422: {}})
def by_code(user: Viewer, s: ReadSession, code: Annotated[str, Path(max_length=40)]):
    """The alert with this code, as `/alerts/{id}` gives it. An open alert's code is unique; a closed
    alert's code may have come again later: the open one, else the newest. 404 "no alert with code 8150"."""
    return alert_detail(s, find(s, "#" + code_of(code)))
