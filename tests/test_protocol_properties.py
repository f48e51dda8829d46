"""Property-based: whatever bytes arrive, the parser and every adapter answer with a value or a rejection.

Nested, huge, odd-typed (floats, NaN, booleans, big integers, nulls, lists where objects belong) and
odd-encoded (invalid UTF-8, UTF-16, a BOM, lone surrogates) input. Nothing may raise: a raise in
the gateway's writer once stopped every alarm (issue 9). What is accepted must also be storable:
an id longer than its column, a NUL or a surrogate in text, would make the database refuse the batch.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices import adapters
from devices.adapters import AdapterEvent, AdapterRejected, AdapterStatus
from devices.protocol import (
    EVENT_TYPES,
    MAX_EVENT_BYTES,
    DeviceEvent,
    Rejected,
    StatusReport,
    parse_event,
    parse_status,
)

# derandomized: the suite's verdict must not depend on the run
QUICK = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NOW = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)

odd_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(codec=None, categories=["Cs", "Cc", "Co"])),  # surrogates, controls
)
json_values = st.recursive(
    odd_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
plausible_ids = st.one_of(
    st.text(max_size=70), st.sampled_from(["e1", "a" * 64, "a" * 65, "x\x00y", "\ud800"]), json_values
)
plausible_types = st.one_of(st.sampled_from(sorted(EVENT_TYPES)), json_values)
plausible_ts = st.one_of(
    st.sampled_from(
        ["2026-12-02T06:00:00Z", "2026-12-02T06:00:00", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
    ),
    json_values,
)
odd_fields = {
    "ts": plausible_ts,
    "battery": st.one_of(st.integers(-5, 105), json_values),
    "rssi": st.one_of(st.integers(-210, 60), json_values),
    "extra": json_values,
}
event_docs = st.one_of(
    st.fixed_dictionaries({}, optional={"id": plausible_ids, "type": plausible_types, **odd_fields}),
    # a well-formed core, so that the later guards are reached too
    st.fixed_dictionaries(
        {"id": st.text(min_size=1, max_size=64), "type": st.sampled_from(sorted(EVENT_TYPES))}, optional=odd_fields
    ),
)


def encodings(docs: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    """A document as bytes, the ways a broken device might send it, and bytes that are no document."""

    def encode(doc, how: str) -> bytes:
        if how == "raw":  # lone surrogates written out as UTF-8 would be: not valid UTF-8
            return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")
        text = json.dumps(doc, ensure_ascii=how == "ascii")
        return text.encode("utf-8", "surrogatepass") if how == "ascii" else text.encode(how, "surrogatepass")

    encoded = st.builds(encode, docs, st.sampled_from(["ascii", "raw", "utf-8-sig", "utf-16", "utf-32"]))
    nested = st.builds(
        lambda n, open_, close: (open_ * n + close * n).encode(),
        st.integers(1, 5000),
        st.sampled_from(["[", '{"a":']),
        st.sampled_from(["]", "}", ""]),
    )
    huge = st.builds(
        lambda doc, n: json.dumps({**doc, "pad": "x" * n} if isinstance(doc, dict) else [doc, "x" * n]).encode(),
        docs,
        st.sampled_from([MAX_EVENT_BYTES, 16 * MAX_EVENT_BYTES, 70_000]),
    )
    return st.one_of(encoded, nested, huge, st.binary(max_size=300))


def storable(text: str) -> bool:
    try:
        text.encode("utf-8")  # no lone surrogate
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


@QUICK
@given(
    device_id=st.one_of(st.sampled_from(["pgr-1", "a\n", "a" * 65, ""]), st.text(max_size=70)),
    payload=encodings(event_docs),
    retained=st.booleans(),
)
def test_parse_event_answers_every_payload_with_an_event_or_a_rejection(device_id, payload, retained):
    parsed = parse_event(device_id, payload, retained)
    if isinstance(parsed, Rejected):
        assert parsed.reason and parsed.reason.isidentifier()
        assert parsed.event_id is None or (1 <= len(parsed.event_id) <= 64 and storable(parsed.event_id))
        return
    assert isinstance(parsed, DeviceEvent) and not retained and len(payload) <= MAX_EVENT_BYTES
    assert parsed.device_id == device_id and device_id.isascii() and "\n" not in device_id
    assert 1 <= len(parsed.event_id) <= 64 and storable(parsed.event_id) and parsed.event_id.isprintable()
    assert parsed.type in EVENT_TYPES and storable(parsed.payload)
    assert parsed.battery is None or type(parsed.battery) is int and 0 <= parsed.battery <= 100
    assert parsed.rssi is None or type(parsed.rssi) is int and -200 <= parsed.rssi <= 50
    assert parsed.device_ts is None or parsed.device_ts.tzinfo is not None


@QUICK
@given(device_id=st.text(max_size=70), payload=st.one_of(st.binary(max_size=100), encodings(json_values)))
def test_parse_status_answers_every_payload_with_a_status_or_a_rejection(device_id, payload):
    parsed = parse_status(device_id, payload)
    assert isinstance(parsed, (StatusReport, Rejected))


z2m_docs = st.fixed_dictionaries(
    {},
    optional={
        "action": st.one_of(st.sampled_from(sorted(adapters.Z2M_ACTIONS | {"": 0, "release": 0})), json_values),
        "battery": st.one_of(st.integers(-5, 105), st.floats(), json_values),
        "linkquality": json_values,
    },
)
shelly_docs = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(st.sampled_from(sorted(adapters.SHELLY_EVENTS)), json_values),
        "event_cnt": st.one_of(st.integers(), st.integers(10**60, 10**80), json_values),
    },
)
tasmota_docs = st.dictionaries(
    st.sampled_from(["Button1", "Button2", "Buttonx", "Button", "POWER"]),
    st.one_of(
        st.fixed_dictionaries(
            {"Action": st.one_of(st.sampled_from(sorted(adapters.TASMOTA_ACTIONS | {"CLEAR": 0})), json_values)}
        ),
        json_values,
    ),
    max_size=3,
)
words = st.sampled_from(
    [
        b"online",
        b"offline",
        b"true",
        b"false",
        b"Online",
        b"Offline",
        b"50",
        b"nan",
        b"inf",
        b"1e999",
        b"-1",
        b"100.0",
        b"1" * 5000,
        b" 5_0 ",
        b"{" * 3000,
        b'{"state":"online"}',
    ]
)


def payloads(docs: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    plain = st.builds(lambda doc: json.dumps(doc).encode(), docs)  # most often well formed, to reach every guard
    return st.one_of(plain, plain, encodings(docs), encodings(json_values), words)


ADAPTER_TOPICS = {
    "zigbee2mqtt/{}": z2m_docs,
    "zigbee2mqtt/{}/availability": st.fixed_dictionaries({"state": json_values}),
    "shellies/{}/input_event/0": shelly_docs,
    "shellies/{}/sensor/battery": json_values,
    "shellies/{}/online": json_values,
    "stat/{}/RESULT": tasmota_docs,
    "tele/{}/LWT": json_values,
    "tele/{}/STATE": json_values,
}
sources = st.text(alphabet=st.characters(exclude_characters="/+#"), min_size=1, max_size=80)


@pytest.mark.parametrize("topic", list(ADAPTER_TOPICS))
@QUICK
@given(data=st.data(), source=sources, retained=st.booleans())
def test_every_adapter_answers_every_payload_with_a_meaning_or_a_rejection(topic, data, source, retained):
    payload = data.draw(payloads(ADAPTER_TOPICS[topic]), label="payload")
    parsed = adapters.parse(topic.format(source), payload, retained, NOW)
    if source == "bridge" and topic.startswith("zigbee2mqtt/"):
        assert parsed is None  # Zigbee2MQTT's own topics are not a button's
        return
    assert isinstance(parsed, (AdapterEvent, AdapterStatus, AdapterRejected))
    assert parsed.source == source
    if isinstance(parsed, AdapterRejected):
        assert parsed.reason.isidentifier()
    elif isinstance(parsed, AdapterEvent):
        assert not retained and parsed.type in EVENT_TYPES
        assert 1 <= len(parsed.event_id) <= 64 and storable(parsed.event_id)  # events.event_id is 64 characters
        assert storable(parsed.payload)
        assert parsed.battery is None or type(parsed.battery) is int and 0 <= parsed.battery <= 100
    else:
        assert parsed.status in ("online", "offline")
