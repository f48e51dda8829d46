"""Cases of devices/protocol.py found by its property test (tests/test_protocol_properties.py), kept as a table."""

from __future__ import annotations

import pytest

from devices.protocol import DeviceEvent, Rejected, parse_event

ALARM = b'{"id": "e1", "type": "alarm"}'


@pytest.mark.parametrize("device_id,payload,retained,reason,event_id", [
    ("pgr-1", b"[" * 3000, False, "too_deep", None),  # raised RecursionError, which stopped the gateway
    ("pgr-1", b'{"":' * 1000, False, "too_deep", None),
    ("pgr-1", b'{"id": "e1", "type": "alarm", "x": ' + b"[" * 3000, True, "retained", None),
    ("pgr-1", b'{"id": "", "type": "alarm"}', True, "retained", None),  # no empty ref in the feedback
    ("pgr-1\n", ALARM, False, "bad_device_id", None),  # `$` let a trailing newline through
])
def test_odd_payloads_are_refused_with_a_reason(device_id, payload, retained, reason, event_id):
    got = parse_event(device_id, payload, retained)
    assert isinstance(got, Rejected) and (got.reason, got.event_id) == (reason, event_id)


def test_a_plain_alarm_is_an_event():
    assert isinstance(parse_event("pgr-1", ALARM, False), DeviceEvent)
