"""Commodity buttons: Zigbee2MQTT, Shelly Button1 and Tasmota messages mapped onto our events.

Pure, like devices/protocol.py: a message on one of those projects' own topics (with their
default base topics) becomes an AdapterEvent / AdapterStatus naming the adapter and its *source*
(the Zigbee2MQTT friendly name, the Shelly id, the Tasmota topic), or an AdapterRejected with a reason.
The gateway maps (adapter, source) to one of our device ids; nothing here knows the registry.

Event ids are deterministic, so a redelivery or a repeated publish is stored once:
- Shelly numbers its events (`event_cnt`): the id is that number, so a re-sent counter is ignored
  however late it comes (a Button1 repeats its last event on every wake-up).
- Zigbee2MQTT and Tasmota number nothing and Zigbee2MQTT publishes the device's whole state each
  time: the id is a hash of the source and the payload within a DEDUPE_WINDOW_S slot of the
  gateway's clock. An identical copy in the same slot is the same event; one that straddles two
  slots is stored twice, and a second alarm only joins the open alert as a repeat press.
Retained adapter *events* are refused (as native ones are): a broker's replay must never raise an
alarm nor pass for a sign of life. Keep the projects' retain options off for these topics
(their defaults); status topics (availability, online, LWT) may be retained.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from devices.protocol import MAX_CONTAINERS, MAX_EVENT_BYTES, Rejected, too_many_containers

ADAPTERS = ("zigbee2mqtt", "shelly", "tasmota")
DEDUPE_WINDOW_S = 60

# What each project's button actions mean to us. Anything else is refused with `unknown_action`.
Z2M_ACTIONS = {
    "emergency": "alarm",  # Tuya / Heiman SOS buttons
    "single": "alarm",  # Aqara, Heiman, IKEA …: one press calls for help
    "double": "checkin",  # two presses: the daily "I am fine"
    "hold": "cancel",  # a long press cancels the resident's own call
}
Z2M_NO_EVENT = frozenset({"", "release"})  # an empty action clears the last one; release follows hold
SHELLY_MAX_CNT = 2**63
SHELLY_EVENTS = {"S": "alarm", "SS": "checkin", "L": "cancel"}
TASMOTA_ACTIONS = {"SINGLE": "alarm", "DOUBLE": "checkin", "HOLD": "cancel"}
TASMOTA_NO_EVENT = frozenset({"CLEAR"})


@dataclass(frozen=True)
class AdapterEvent:
    adapter: str
    source: str
    event_id: str
    type: str
    battery: int | None
    payload: str


@dataclass(frozen=True)
class AdapterStatus:
    adapter: str
    source: str
    status: str  # online | offline


@dataclass(frozen=True)
class AdapterRejected:
    """A refused adapter message; the gateway names the device when it knows the source."""

    adapter: str
    source: str
    reason: str
    detail: str


@dataclass(frozen=True)
class AdapterTopics:
    """The projects' default base topics; each matches one level of source name."""

    zigbee2mqtt: str = "zigbee2mqtt"
    shelly: str = "shellies"

    def filters(self, adapters: tuple[str, ...] = ADAPTERS) -> list[str]:
        out: list[str] = []
        if "zigbee2mqtt" in adapters:
            out += [f"{self.zigbee2mqtt}/+", f"{self.zigbee2mqtt}/+/availability"]
        if "shelly" in adapters:
            out += [f"{self.shelly}/+/input_event/0", f"{self.shelly}/+/sensor/battery", f"{self.shelly}/+/online"]
        if "tasmota" in adapters:
            out += ["stat/+/RESULT", "tele/+/LWT", "tele/+/STATE"]
        return out


Parsed = AdapterEvent | AdapterStatus | AdapterRejected


def parse(
    topic: str, payload: bytes, retained: bool, now: datetime, topics: AdapterTopics = AdapterTopics()
) -> Parsed | None:
    """The meaning of a message on an adapter topic; None when the topic is not one of theirs."""
    parts = topic.split("/")
    if parts[0] == topics.zigbee2mqtt and len(parts) in (2, 3) and parts[1] and parts[1] != "bridge":
        if len(parts) == 2:
            return _z2m_state(parts[1], payload, retained, now)
        if parts[2] == "availability":
            return _z2m_availability(parts[1], payload)
        return None
    if parts[0] == topics.shelly and len(parts) >= 3 and parts[1]:
        source, rest = parts[1], "/".join(parts[2:])
        if rest == "input_event/0":
            return _shelly_input(source, payload, retained)
        if rest == "sensor/battery":
            return _shelly_battery(source, payload, retained, now)
        if rest == "online":
            return _status("shelly", source, payload, {"true": "online", "false": "offline"})
        return None
    if len(parts) == 3 and parts[1]:
        if parts[0] == "stat" and parts[2] == "RESULT":
            return _tasmota_result(parts[1], payload, retained, now)
        if parts[0] == "tele" and parts[2] == "LWT":
            return _status("tasmota", parts[1], payload, {"Online": "online", "Offline": "offline"})
        if parts[0] == "tele" and parts[2] == "STATE":
            return _tasmota_state(parts[1], payload, retained, now)
    return None


# --- Zigbee2MQTT -------------------------------------------------------------------------------


def _z2m_state(source: str, payload: bytes, retained: bool, now: datetime) -> Parsed:
    doc = _json_object("zigbee2mqtt", source, payload)
    if isinstance(doc, AdapterRejected):
        return doc
    battery = _battery(doc.get("battery"))
    if isinstance(battery, Rejected):
        return _named(battery, "zigbee2mqtt", source)
    action = doc.get("action")
    if action is not None and not isinstance(action, str):  # before any set lookup: a list is unhashable
        return AdapterRejected("zigbee2mqtt", source, "bad_action", "action must be a string")
    if action is None or action in Z2M_NO_EVENT:
        kind = "heartbeat"  # a state report: the device is alive (and says how its battery is)
    elif action in Z2M_ACTIONS:
        kind = Z2M_ACTIONS[action]
    else:
        return AdapterRejected("zigbee2mqtt", source, "unknown_action", f"action {action[:40]!r} means nothing here")
    if retained:  # a replayed state must neither raise an alarm nor pass for a sign of life
        return AdapterRejected("zigbee2mqtt", source, "retained", "device states must not be retained")
    return AdapterEvent("zigbee2mqtt", source, _slot_id("z2m", source, payload, now), kind, battery, payload.decode())


def _z2m_availability(source: str, payload: bytes) -> Parsed:
    text = payload.decode("utf-8", errors="replace").strip()
    if text.startswith("{"):  # Zigbee2MQTT 1.30+: {"state":"online"}; older ones send the bare word
        try:
            doc = json.loads(text) if len(payload) <= MAX_EVENT_BYTES and not too_many_containers(payload) else None
            text = doc.get("state") if isinstance(doc, dict) else None  # type: ignore[assignment]  # checked below
        except (ValueError, RecursionError):
            text = None  # type: ignore[assignment]  # checked below
    return _status(
        "zigbee2mqtt",
        source,
        (text if isinstance(text, str) else "?").encode(),
        {"online": "online", "offline": "offline"},
    )


# --- Shelly Button1 ----------------------------------------------------------------------------


def _shelly_input(source: str, payload: bytes, retained: bool) -> Parsed:
    doc = _json_object("shelly", source, payload)
    if isinstance(doc, AdapterRejected):
        return doc
    event, count = doc.get("event"), doc.get("event_cnt")
    if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count < SHELLY_MAX_CNT:
        # the bound keeps the event id within its 64-character column
        return AdapterRejected("shelly", source, "bad_event_cnt", "event_cnt must be an integer from 0 to 2^63-1")
    if not isinstance(event, str):
        return AdapterRejected("shelly", source, "bad_action", "event must be a string")
    if event not in SHELLY_EVENTS:
        return AdapterRejected("shelly", source, "unknown_action", f"event {event[:40]!r} means nothing here")
    if retained:
        return AdapterRejected("shelly", source, "retained", "button events must not be retained")
    return AdapterEvent("shelly", source, f"shelly-cnt-{count}", SHELLY_EVENTS[event], None, payload.decode())


def _shelly_battery(source: str, payload: bytes, retained: bool, now: datetime) -> Parsed:
    if retained:
        return AdapterRejected("shelly", source, "retained", "battery reports must not be retained")
    text = payload.decode("utf-8", errors="replace").strip()
    try:
        level = int(float(text))
    except (ValueError, OverflowError):
        return AdapterRejected("shelly", source, "bad_battery", f"battery must be a number, not {text[:40]!r}")
    battery = _battery(level)
    if isinstance(battery, Rejected):
        return _named(battery, "shelly", source)
    return AdapterEvent("shelly", source, _slot_id("shelly-bat", source, payload, now), "heartbeat", battery, text)


# --- Tasmota -----------------------------------------------------------------------------------


def _tasmota_result(source: str, payload: bytes, retained: bool, now: datetime) -> Parsed:
    doc = _json_object("tasmota", source, payload)
    if isinstance(doc, AdapterRejected):
        return doc
    buttons = [(k, v) for k, v in doc.items() if k.startswith("Button") and k[6:].isdigit()]
    if not buttons:
        return AdapterRejected("tasmota", source, "no_action", "a RESULT without a ButtonN action")
    _, value = buttons[0]
    action = value.get("Action") if isinstance(value, dict) else None
    if not isinstance(action, str):
        return AdapterRejected("tasmota", source, "bad_action", "ButtonN.Action must be a string")
    if action in TASMOTA_NO_EVENT:
        return AdapterRejected("tasmota", source, "no_action", f"action {action} is not a press")
    if action not in TASMOTA_ACTIONS:
        return AdapterRejected("tasmota", source, "unknown_action", f"action {action[:40]!r} means nothing here")
    if retained:
        return AdapterRejected("tasmota", source, "retained", "button events must not be retained")
    return AdapterEvent(
        "tasmota", source, _slot_id("tasmota", source, payload, now), TASMOTA_ACTIONS[action], None, payload.decode()
    )


def _tasmota_state(source: str, payload: bytes, retained: bool, now: datetime) -> Parsed:
    if retained:
        return AdapterRejected("tasmota", source, "retained", "telemetry must not be retained")
    doc = _json_object("tasmota", source, payload)
    if isinstance(doc, AdapterRejected):
        return doc
    # Tasmota's periodic telemetry (TelePeriod): proof of life, nothing more
    return AdapterEvent(
        "tasmota", source, _slot_id("tasmota-state", source, payload, now), "heartbeat", None, payload.decode()
    )


# --- shared ------------------------------------------------------------------------------------


def _status(adapter: str, source: str, payload: bytes, words: dict[str, str]) -> Parsed:
    text = payload.decode("utf-8", errors="replace").strip()
    if text not in words:
        return AdapterRejected(
            adapter, source, "bad_status", f"status must be one of {', '.join(words)}, not {text[:40]!r}"
        )
    return AdapterStatus(adapter, source, words[text])


def _json_object(adapter: str, source: str, payload: bytes) -> dict | AdapterRejected:
    if len(payload) > MAX_EVENT_BYTES:
        return AdapterRejected(adapter, source, "too_large", f"{len(payload)} bytes, limit {MAX_EVENT_BYTES}")
    if too_many_containers(payload):  # before json.loads, which would recurse (devices/protocol.py)
        return AdapterRejected(adapter, source, "too_deep", f"more than {MAX_CONTAINERS} arrays and objects")
    try:
        doc = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return AdapterRejected(adapter, source, "not_json", str(exc)[:200])
    except RecursionError:  # deeper than Python's recursion limit, though small
        return AdapterRejected(adapter, source, "too_deep", "JSON nested too deeply")
    if not isinstance(doc, dict):
        return AdapterRejected(adapter, source, "not_object", f"a JSON {type(doc).__name__}, not an object")
    return doc


def _battery(value: object) -> int | None | Rejected:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100:
        return Rejected("bad_battery", "battery must be a number from 0 to 100")
    return value


def _named(rejected: Rejected, adapter: str, source: str) -> AdapterRejected:
    return AdapterRejected(adapter, source, rejected.reason, rejected.detail)


def _slot_id(prefix: str, source: str, payload: bytes, now: datetime) -> str:
    slot = int(now.timestamp()) // DEDUPE_WINDOW_S
    digest = hashlib.sha256(source.encode() + b"\0" + payload + b"\0" + str(slot).encode()).hexdigest()[:24]
    return f"{prefix}-{digest}"
