"""Which device feedback is published: only answers to a resident's own press, only to native buttons."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlalchemy import select

from core.schema import Device, DeviceFeedback
from devices.protocol import Topics
from gateway.feedback import publish_pending

AT = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


def test_feedback_for_supervision_alerts_and_commodity_buttons_is_marked_done_unpublished(sessions):
    with sessions.begin() as s:
        s.add_all([Device(id="pgr-1"), Device(id="z-1", adapter="zigbee2mqtt", source="sos")])
        s.flush()
        s.add_all(
            [
                DeviceFeedback(device_id="pgr-1", ref="e1", alert_code="1234", state="acknowledged", created_at=AT),
                DeviceFeedback(device_id="pgr-1", ref=None, alert_code="2345", state="acknowledged", created_at=AT),
                DeviceFeedback(device_id="z-1", ref="z2m-abc", alert_code="3456", state="acknowledged", created_at=AT),
                DeviceFeedback(device_id="gone", ref="e9", alert_code="4567", state="resolved", created_at=AT),
            ]
        )
    published: list[tuple[str, bytes]] = []
    assert publish_pending(sessions, Topics("jinqiao"), lambda t, p: published.append((t, p)), lambda: AT) == 4
    assert [t for t, _ in published] == ["jinqiao/v1/dev/pgr-1/feedback", "jinqiao/v1/dev/gone/feedback"]
    with sessions() as s:
        assert all(r.sent_at == AT for r in s.scalars(select(DeviceFeedback)))
    assert publish_pending(sessions, Topics("jinqiao"), lambda t, p: published.append((t, p)), lambda: AT) == 0


def test_a_rejected_feedback_carries_its_reason_to_the_device(sessions):
    with sessions.begin() as s:
        s.add(Device(id="pgr-1"))
        s.flush()
        s.add(
            DeviceFeedback(
                device_id="pgr-1", ref="c1", alert_code=None, state="rejected", reason="no_open_alert", created_at=AT
            )
        )
    published: list[bytes] = []
    publish_pending(sessions, Topics("jinqiao"), lambda t, p: published.append(p), lambda: AT)
    [doc] = [json.loads(p) for p in published]
    assert (doc["ref"], doc["state"], doc["alert"], doc["reason"]) == ("c1", "rejected", None, "no_open_alert")
