"""The HTTP process: health and metrics now; the REST API and the board plug in as routers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import Engine

from core.db import ping

if TYPE_CHECKING:
    from web.deps import Web


NOT_USED = "not used"


@dataclass
class Readiness:
    """What /readyz checks, each with its reason: the database always; the broker when this process
    holds a link to it (a check returns True/"ok" when fine, else False or the reason), else
    `broker: "not used"`, which does not make the process unready."""

    engine: Engine
    broker_checks: dict[str, Callable[[], bool | str]] = field(default_factory=dict)
    # The gateway's broker link as a value ({"connected", "since", "reason"}), for the board's banner;
    # None where this process cannot know it.
    broker_status: Callable[[], dict | None] | None = None

    def broker(self) -> dict | None:
        try:
            return self.broker_status() if self.broker_status else None
        except Exception:  # the banner is a courtesy: /readyz must answer all the same
            return None

    def report(self) -> tuple[bool, dict[str, str]]:
        checks: dict[str, str] = {}
        try:
            ping(self.engine)
            checks["database"] = "ok"
        except Exception as exc:  # any failure means not ready, and says why
            checks["database"] = f"unreachable: {str(exc).splitlines()[0][:200]}"
        for name, check in self.broker_checks.items():
            try:
                result = check()
                checks[name] = result if isinstance(result, str) else ("ok" if result else "not connected")
            except Exception as exc:
                checks[name] = f"error: {exc}"
        checks.setdefault("broker", NOT_USED)
        return all(v in ("ok", NOT_USED) for v in checks.values()), checks


def create_app(readiness: Readiness, routers: Sequence[APIRouter] = (), web: Web | None = None) -> FastAPI:
    """Health and metrics, and `routers`; `web` is what the board's and the API's routes are given
    (web/deps.py), for a process that serves them."""
    # /docs and /openapi.json are served by web.board, behind sign-in
    app = FastAPI(title="Jinqiao 金桥", version="1", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.readiness = readiness
    if web is not None:
        app.state.web = web
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is alive."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"])
    def readyz() -> JSONResponse:
        """The database and the broker are reachable; `broker` tells the board since when it is not."""
        ok, checks = readiness.report()
        body = {"status": "ok" if ok else "unavailable", "checks": checks, "broker": readiness.broker()}
        return JSONResponse(body, status_code=200 if ok else 503, headers={"Cache-Control": "no-store"})

    @app.get("/metrics", tags=["health"])
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return app
