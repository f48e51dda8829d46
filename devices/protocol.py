"""Device protocol version 1 (SPEC section 3): topics, and parsing payloads into frozen values.

Pure: no MQTT, no database. A payload either becomes a DeviceEvent / StatusReport or a Rejected
value carrying a stable reason code. Nothing here raises on bad input.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TypeGuard

MAX_EVENT_BYTES = 4096
EVENT_TYPES = frozenset({"alarm", "fall", "cancel", "checkin", "heartbeat", "battery_low"})
DEVICE_ID = re.compile(r"\A[A-Za-z0-9_-]{1,64}\Z")  # \Z, not $: "pgr-1\n" is no device id
STATUSES = frozenset({"online", "offline"})
MAX_CONTAINERS = 512  # arrays and objects in one payload; no device's event needs more than a few
_JSON_STRING = re.compile(rb'"[^"]*"')  # once escapes are gone: linear, whatever the input


@dataclass(frozen=True)
class Topics:
    root: str = "jinqiao"

    @property
    def event_filter(self) -> str:
        return f"{self.root}/v1/dev/+/event"

    @property
    def status_filter(self) -> str:
        return f"{self.root}/v1/dev/+/status"

    def event(self, device_id: str) -> str:
        return f"{self.root}/v1/dev/{device_id}/event"

    def status(self, device_id: str) -> str:
        return f"{self.root}/v1/dev/{device_id}/status"

    def feedback(self, device_id: str) -> str:
        return f"{self.root}/v1/dev/{device_id}/feedback"

    def split(self, topic: str) -> tuple[str, str] | None:
        """(device id, kind) for one of our device topics, else None."""
        prefix = f"{self.root}/v1/dev/"
        if not topic.startswith(prefix):
            return None
        rest = topic[len(prefix) :].split("/")
        if len(rest) != 2 or rest[1] not in ("event", "status"):
            return None
        return rest[0], rest[1]


@dataclass(frozen=True)
class DeviceEvent:
    device_id: str
    event_id: str
    type: str
    device_ts: datetime | None
    battery: int | None
    rssi: int | None
    payload: str  # the JSON text as received, kept for the record


@dataclass(frozen=True)
class StatusReport:
    device_id: str
    status: str


@dataclass(frozen=True)
class Rejected:
    """A refused input. `reason` is a stable code used in metrics and in the `rejected` feedback."""

    reason: str
    detail: str
    device_id: str | None = None
    event_id: str | None = None


def parse_event(device_id: str, payload: bytes, retained: bool) -> DeviceEvent | Rejected:
    if not DEVICE_ID.match(device_id):
        return Rejected("bad_device_id", f"device id {device_id[:80]!r} is not [A-Za-z0-9_-]{{1,64}}")
    if retained:
        # A broker replaying a retained event must never raise a false alarm.
        return Rejected("retained", "events must not be retained", device_id, _peek_id(payload))
    if len(payload) > MAX_EVENT_BYTES:
        peek = _peek_id(payload) if len(payload) <= 16 * MAX_EVENT_BYTES else None
        return Rejected("too_large", f"{len(payload)} bytes, limit {MAX_EVENT_BYTES}", device_id, peek)
    if too_many_containers(payload):
        return Rejected("too_deep", f"more than {MAX_CONTAINERS} arrays and objects", device_id)
    try:
        text = payload.decode("utf-8")
        doc = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        return Rejected("not_json", str(exc)[:200], device_id)
    except RecursionError:  # a second net: too_many_containers should have refused it
        return Rejected("too_deep", "JSON nested too deeply", device_id)
    if not isinstance(doc, dict):
        return Rejected("not_object", f"a JSON {type(doc).__name__}, not an object", device_id)
    event_id = doc.get("id")
    if not isinstance(event_id, str) or not 1 <= len(event_id) <= 64 or not event_id.isprintable():
        # control characters (NUL above all) cannot be stored in PostgreSQL text: refuse them here
        return Rejected("bad_id", "id must be 1 to 64 printable characters", device_id)
    kind = doc.get("type")
    if not isinstance(kind, str):
        return Rejected("bad_type", "type must be a string", device_id, event_id)
    if kind not in EVENT_TYPES:
        return Rejected("unknown_type", f"unknown type {kind[:40]!r}", device_id, event_id)
    ts = _parse_ts(doc.get("ts"))
    if isinstance(ts, Rejected):
        return Rejected(ts.reason, ts.detail, device_id, event_id)
    battery = doc.get("battery")
    if battery is not None and (not _is_int(battery) or not 0 <= battery <= 100):
        return Rejected("bad_battery", "battery must be an integer from 0 to 100", device_id, event_id)
    rssi = doc.get("rssi")
    if rssi is not None and (not _is_int(rssi) or not -200 <= rssi <= 50):
        # out-of-range integers would overflow the database column and fail the whole batch
        return Rejected("bad_rssi", "rssi must be an integer from -200 to 50 (dBm)", device_id, event_id)
    return DeviceEvent(device_id, event_id, kind, ts, battery, rssi, text)


def parse_status(device_id: str, payload: bytes) -> StatusReport | Rejected:
    if not DEVICE_ID.match(device_id):
        return Rejected("bad_device_id", f"device id {device_id[:80]!r} is not [A-Za-z0-9_-]{{1,64}}")
    status = payload.decode("utf-8", errors="replace").strip()
    if status not in STATUSES:
        return Rejected("bad_status", f"status must be online or offline, not {status[:40]!r}", device_id)
    return StatusReport(device_id, status)


def feedback(ref: str | None, state: str, at: datetime, alert: str | None = None, reason: str | None = None) -> bytes:
    doc = {
        "ref": ref,
        "alert": alert,
        "state": state,
        "ts": at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z"),
    }
    if reason is not None:
        doc["reason"] = reason
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()


def too_many_containers(payload: bytes) -> bool:
    """More arrays and objects than any event has: refused before json.loads, which would recurse.

    '[' * 3000 is far below the size limit yet deeper than Python's recursion limit; json.loads
    raises RecursionError on it, and only after 1,000 levels of recursion (~190 µs: under a flood,
    the gateway's largest cost). Counting brackets is C-speed; strings are cut out only when the
    count is high, so that brackets inside them are not counted.
    """
    if payload.count(b"[") + payload.count(b"{") <= MAX_CONTAINERS:
        return False
    bare = _JSON_STRING.sub(b"", payload.replace(b"\\\\", b"").replace(b'\\"', b""))
    return bare.count(b"[") + bare.count(b"{") > MAX_CONTAINERS


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _parse_ts(ts: object) -> datetime | None | Rejected:
    if ts is None:
        return None
    try:
        if _is_int(ts) or isinstance(ts, float):
            return datetime.fromtimestamp(ts, timezone.utc)
        if isinstance(ts, str):
            parsed = datetime.fromisoformat(ts.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                return Rejected("bad_ts", "ts must carry a time zone (RFC 3339)")
            return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError, OSError):
        pass
    return Rejected("bad_ts", "ts must be RFC 3339 or Unix seconds")


def _peek_id(payload: bytes) -> str | None:
    """The event id of a payload we refuse anyway, so the device can be told which one."""
    if too_many_containers(payload):
        return None
    try:
        doc = json.loads(payload)
        event_id = doc.get("id") if isinstance(doc, dict) else None
        return event_id if isinstance(event_id, str) and 1 <= len(event_id) <= 64 and event_id.isprintable() else None
    except (ValueError, RecursionError):
        return None
