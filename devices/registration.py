"""Registering a device: its row, and the MQTT password it will use (stored as Mosquitto's hash)."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction
from core.schema import Device, Resident
from devices.protocol import DEVICE_ID

ADAPTERS = ("native", "zigbee2mqtt", "shelly", "tasmota")

PBKDF2_ITERATIONS = 101  # what mosquitto_passwd writes by default for its $7$ (PBKDF2-SHA512) format


class DeviceError(Exception):
    pass


@dataclass(frozen=True)
class DeviceCredentials:
    device_id: str
    password: str


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A password hash in the form Mosquitto 2 reads from its password file: $7$iter$salt$hash."""
    salt = salt or secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def add_device(
    sessions: sessionmaker[Session],
    *,
    device_id: str,
    resident_id: str,
    kind: str = "pager",
    heartbeat: str | None = None,
    adapter: str = "native",
    source: str | None = None,
) -> DeviceCredentials:
    from registry.fields import parse_duration  # the registry's own duration rules

    if not DEVICE_ID.match(device_id):
        raise DeviceError(f"device id {device_id!r} must match [A-Za-z0-9_-]{{1,64}}")
    heartbeat_s = None
    if heartbeat:
        try:
            heartbeat_s = parse_duration(heartbeat)
        except ValueError as exc:
            raise DeviceError(f"--heartbeat: {exc}") from None
    if adapter not in ADAPTERS:
        raise DeviceError(f"--adapter must be one of {', '.join(ADAPTERS)}")
    if (adapter == "native") != (source is None) or (source is not None and not 0 < len(source) <= 200):
        raise DeviceError("--source (1 to 200 characters) is required for an adapter device, and only for one")
    password = new_password()
    with transaction(sessions) as s:
        if s.get(Resident, resident_id) is None:
            raise DeviceError(f"unknown resident {resident_id!r}")
        if s.scalar(select(Device.id).where(Device.id == device_id)):
            raise DeviceError(f"device {device_id!r} exists already")
        if source is not None:
            owner = s.scalar(select(Device.id).where(Device.adapter == adapter, Device.source == source))
            if owner:
                raise DeviceError(f"{adapter} source {source!r} is already device {owner!r}")
        s.add(
            Device(
                id=device_id,
                resident_id=resident_id,
                kind=kind,
                adapter=adapter,
                source=source,
                heartbeat_s=heartbeat_s,
                password_hash=mosquitto_hash(password),
                active=True,
            )
        )
    return DeviceCredentials(device_id, password)


def new_password() -> str:
    return secrets.token_urlsafe(18)


def reset_password(sessions: sessionmaker[Session], device_id: str) -> DeviceCredentials:
    """A new MQTT password for a registered device (one imported from a file has none yet)."""
    password = new_password()
    with transaction(sessions) as s:
        device = s.get(Device, device_id)
        if device is None:
            raise DeviceError(f"unknown device {device_id!r}")
        device.password_hash = mosquitto_hash(password)
    return DeviceCredentials(device_id, password)
