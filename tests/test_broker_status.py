"""A separate `jinqiao web` holds no broker link: its board learns the broker's state from the
gateways' heartbeat rows (core/heartbeat.py broker_status_of)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from core.heartbeat import broker_seen_by_gateways, broker_status_of
from core.schema import ProcessHeartbeat
from web.app import Readiness, create_app

NOW = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)
UP = {"connected": True, "since": "2026-12-02T05:00:00+00:00", "reason": None}
DOWN = {"connected": False, "since": "2026-12-02T05:58:00+00:00", "reason": "connection refused"}
DOWN_EARLIER = {"connected": False, "since": "2026-12-02T05:50:00+00:00", "reason": "timed out"}


def beat(
    name: str, ago_s: float, broker: dict | None, stopped: bool = False, kind: str = "gateway"
) -> ProcessHeartbeat:
    at = NOW - timedelta(seconds=ago_s)
    return ProcessHeartbeat(
        kind=kind,
        name=name,
        host="h",
        pid=1,
        started_at=at - timedelta(hours=1),
        beat_at=at,
        stopped_at=at if stopped else None,
        detail={"broker": broker} if broker else {},
    )


@pytest.mark.parametrize(
    "rows, expected",
    [
        ([], None),  # no gateway ever ran here: nothing to say yet
        ([beat("d", 1, None, kind="dispatcher")], None),
        ([beat("g1", 2, UP)], UP),
        ([beat("g1", 2, DOWN)], DOWN),
        ([beat("g1", 2, DOWN), beat("g2", 3, UP)], UP),  # one gateway still carries presses in
        ([beat("g1", 2, DOWN), beat("g2", 3, DOWN_EARLIER)], DOWN_EARLIER),  # the longest outage
        ([beat("g1", 2, DOWN), beat("g2", 60, UP)], DOWN),  # a silent gateway's last word is no news
        (
            [beat("g1", 60, UP)],
            {"connected": False, "since": "2026-12-02T05:59:00+00:00", "reason": "no gateway running"},
        ),
        (
            [beat("g1", 120, UP, stopped=True)],
            {"connected": False, "since": "2026-12-02T05:58:00+00:00", "reason": "no gateway running"},
        ),
    ],
)
def test_the_broker_as_the_live_gateways_saw_it(rows, expected):
    assert broker_status_of(rows, NOW, stale_after=15) == expected


def test_a_web_process_without_a_link_reports_the_gateways_view_on_readyz(engine, sessions):
    with sessions.begin() as s:
        s.add(beat("g1", 2, DOWN))
    app = create_app(Readiness(engine, broker_status=broker_seen_by_gateways(sessions, lambda: NOW)))
    body = TestClient(app).get("/readyz").json()
    assert body["broker"] == DOWN
    assert body["checks"]["broker"] == "not used"  # this process itself needs no broker to be ready
