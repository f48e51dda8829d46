"""devices/protocol.py as tables of literal payloads: what each becomes, or the reason it is refused.

Pure: no broker, no database. The odd cases at the end were found by the property test
(tests/test_protocol_properties.py) and are kept here as rows.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devices.protocol import MAX_EVENT_BYTES, DeviceEvent, Rejected, StatusReport, parse_event, parse_status

ALARM = b'{"id": "e1", "type": "alarm"}'
UTC = timezone.utc


@pytest.mark.parametrize(
    "payload,event_id,kind,device_ts,battery,rssi",
    [
        (ALARM, "e1", "alarm", None, None, None),
        (b'{"id": "f-7", "type": "fall", "battery": 0, "rssi": -200}', "f-7", "fall", None, 0, -200),
        (b'{"id": "c", "type": "cancel", "battery": 100, "rssi": 50}', "c", "cancel", None, 100, 50),
        (
            b'{"id": "k", "type": "checkin", "ts": "2026-12-01T10:00:00Z"}',
            "k",
            "checkin",
            datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            None,
            None,
        ),
        (
            b'{"id": "k", "type": "checkin", "ts": "2026-12-01T18:00:00+08:00"}',
            "k",
            "checkin",
            datetime(2026, 12, 1, 10, 0, tzinfo=UTC),
            None,
            None,
        ),  # kept in UTC
        (
            b'{"id": "h", "type": "heartbeat", "ts": 1764583200}',
            "h",
            "heartbeat",
            datetime(2025, 12, 1, 10, 0, tzinfo=UTC),
            None,
            None,
        ),  # Unix seconds
        (
            b'{"id": "h", "type": "heartbeat", "ts": 1764583200.5}',
            "h",
            "heartbeat",
            datetime(2025, 12, 1, 10, 0, 0, 500000, tzinfo=UTC),
            None,
            None,
        ),
        (
            b'{"id": "b", "type": "battery_low", "battery": 7, "extra": {"ignored": true}}',
            "b",
            "battery_low",
            None,
            7,
            None,
        ),  # unknown fields are kept in the payload, not refused
        ('{"id": "求助-1", "type": "alarm"}'.encode(), "求助-1", "alarm", None, None, None),
        (b'{"id": "' + b"x" * 64 + b'", "type": "alarm"}', "x" * 64, "alarm", None, None, None),
    ],
)
def test_each_valid_payload_becomes_its_event(payload, event_id, kind, device_ts, battery, rssi):
    assert parse_event("pgr-1", payload, False) == DeviceEvent(
        "pgr-1", event_id, kind, device_ts, battery, rssi, payload.decode()
    )


@pytest.mark.parametrize(
    "device_id,payload,retained,reason,event_id",
    [
        ("pgr 1", ALARM, False, "bad_device_id", None),
        ("", ALARM, False, "bad_device_id", None),
        ("p" * 65, ALARM, False, "bad_device_id", None),
        ("pgr-1", ALARM, True, "retained", "e1"),  # a replayed retained event never raises an alarm
        ("pgr-1", b"not json", True, "retained", None),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "pad": "' + b"x" * MAX_EVENT_BYTES + b'"}', False, "too_large", "e1"),
        ("pgr-1", b"not json", False, "not_json", None),
        ("pgr-1", b"\xff\xfe", False, "not_json", None),
        ("pgr-1", b"", False, "not_json", None),
        ("pgr-1", b'["alarm"]', False, "not_object", None),
        ("pgr-1", b'"alarm"', False, "not_object", None),
        ("pgr-1", b'{"type": "alarm"}', False, "bad_id", None),
        ("pgr-1", b'{"id": "", "type": "alarm"}', False, "bad_id", None),
        ("pgr-1", b'{"id": 7, "type": "alarm"}', False, "bad_id", None),
        ("pgr-1", b'{"id": "' + b"x" * 65 + b'", "type": "alarm"}', False, "bad_id", None),
        ("pgr-1", b'{"id": "a\\u0000b", "type": "alarm"}', False, "bad_id", None),  # PostgreSQL text refuses NUL
        ("pgr-1", b'{"id": "e1"}', False, "bad_type", "e1"),
        ("pgr-1", b'{"id": "e1", "type": 1}', False, "bad_type", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "ALARM"}', False, "unknown_type", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "panic"}', False, "unknown_type", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "ts": "2026-12-01T10:00:00"}', False, "bad_ts", "e1"),  # no zone
        ("pgr-1", b'{"id": "e1", "type": "alarm", "ts": "yesterday"}', False, "bad_ts", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "ts": true}', False, "bad_ts", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "ts": 1e300}', False, "bad_ts", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "battery": 101}', False, "bad_battery", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "battery": -1}', False, "bad_battery", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "battery": "90"}', False, "bad_battery", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "battery": true}', False, "bad_battery", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "battery": 50.5}', False, "bad_battery", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "rssi": -201}', False, "bad_rssi", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "rssi": 51}', False, "bad_rssi", "e1"),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "rssi": 10' + b"0" * 30 + b"}", False, "bad_rssi", "e1"),
        # found by the property test
        ("pgr-1", b"[" * 3000, False, "too_deep", None),  # raised RecursionError, which stopped the gateway
        ("pgr-1", b'{"":' * 1000, False, "too_deep", None),
        ("pgr-1", b'{"id": "e1", "type": "alarm", "x": ' + b"[" * 3000, True, "retained", None),
        ("pgr-1", b'{"id": "", "type": "alarm"}', True, "retained", None),  # no empty ref in the feedback
        ("pgr-1\n", ALARM, False, "bad_device_id", None),  # `$` let a trailing newline through
    ],
)
def test_each_bad_payload_is_refused_with_its_reason(device_id, payload, retained, reason, event_id):
    got = parse_event(device_id, payload, retained)
    assert isinstance(got, Rejected) and (got.reason, got.event_id) == (reason, event_id)
    if reason != "bad_device_id":
        assert got.device_id == device_id


@pytest.mark.parametrize(
    "device_id,payload,expected",
    [
        ("pgr-1", b"online", StatusReport("pgr-1", "online")),
        ("pgr-1", b"offline", StatusReport("pgr-1", "offline")),
        ("pgr-1", b" offline\n", StatusReport("pgr-1", "offline")),
        ("pgr-1", b"Online", "bad_status"),
        ("pgr-1", b"", "bad_status"),
        ("pgr-1", b'{"state": "online"}', "bad_status"),
        ("pgr/1", b"online", "bad_device_id"),
    ],
)
def test_each_status_payload_is_a_report_or_refused(device_id, payload, expected):
    got = parse_status(device_id, payload)
    assert (
        got == expected
        if isinstance(expected, StatusReport)
        else (isinstance(got, Rejected) and got.reason == expected)
    )
