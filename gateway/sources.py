"""Which registered device stands behind a commodity button: (adapter, source) → device id, cached.

Adapter messages carry the projects' own names (a Zigbee2MQTT friendly name, a Shelly id, a
Tasmota topic); the registry maps each to exactly one device. A miss re-reads (at most once a
second), so a device registered a moment ago is found without a restart.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Engine, select

from core.schema import Device
from devices.adapters import AdapterEvent, AdapterRejected, AdapterStatus
from devices.protocol import DeviceEvent, Rejected, StatusReport

REFRESH_S = 30.0
MISS_RELOAD_MIN_S = 1.0


class KnownSources:
    def __init__(self, engine: Engine, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._clock = clock
        self._ids: dict[tuple[str, str], str] = {}
        self._loaded_at = float("-inf")

    def _reload(self) -> None:
        with self._engine.connect() as conn:
            rows = conn.execute(
                select(Device.adapter, Device.source, Device.id).where(
                    Device.active.is_(True), Device.adapter != "native", Device.source.is_not(None)
                )
            ).all()
        self._ids = {(adapter, source): device_id for adapter, source, device_id in rows}  # type: ignore[misc]  # the query selects rows with a source
        self._loaded_at = self._clock()

    def device_of(self, adapter: str, source: str) -> str | None:
        age = self._clock() - self._loaded_at
        key = (adapter, source)
        if age > REFRESH_S or (key not in self._ids and age > MISS_RELOAD_MIN_S):
            self._reload()
        return self._ids.get(key)

    def resolve(self, parsed: AdapterEvent | AdapterStatus | AdapterRejected) -> DeviceEvent | StatusReport | Rejected:
        """The adapter's message in our own terms, or why it cannot be."""
        device_id = self.device_of(parsed.adapter, parsed.source)
        who = f"{parsed.adapter} source {parsed.source[:200]!r}"
        if isinstance(parsed, AdapterRejected):
            return Rejected(parsed.reason, f"{who}: {parsed.detail}", device_id)
        if device_id is None:
            return Rejected("unregistered", f"no active device has {who}")
        if isinstance(parsed, AdapterStatus):
            return StatusReport(device_id, parsed.status)
        return DeviceEvent(device_id, parsed.event_id, parsed.type, None, parsed.battery, None, parsed.payload)
