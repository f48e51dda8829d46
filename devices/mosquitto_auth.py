"""Mosquitto's password file and ACL, made from the registry, so that no device speaks for another.

- every device that connects itself logs in with its device id and its own password (the hash is
  the one `jinqiao device add` stored, in the $7$ PBKDF2-SHA512 form `mosquitto_passwd` writes);
- a native device may write only its own event and status topics and read only its own feedback;
  a Shelly or Tasmota button only its own topics under those projects' prefixes; Zigbee buttons do
  not connect at all (the Zigbee2MQTT bridge does, as the `zigbee2mqtt` account);
- the gateway account reads every device topic (and the adapters' topics) and writes feedback.
Lines of the password file for users the registry does not know (the Zigbee2MQTT bridge, an
operator's own account) are kept as they are. Both files are written atomically (a temporary
file beside them, then a rename), and writing them again with nothing changed changes no byte.
Mosquitto reads them at start and on SIGHUP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import tempfile
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.schema import Device
from devices.adapters import AdapterTopics
from devices.protocol import Topics
from devices.registration import mosquitto_hash

DEFAULT_GATEWAY_USER = "jinqiao-gateway"
ZIGBEE2MQTT_USER = "zigbee2mqtt"  # the Zigbee2MQTT bridge's own account (its password is yours to set)


@dataclass(frozen=True)
class DeviceGrant:
    device_id: str
    adapter: str
    source: str | None
    password_hash: str | None


@dataclass(frozen=True)
class AuthFiles:
    passwords: str
    acl: str
    accounts: int  # devices that can log in
    without_password: list[str]  # active devices that connect themselves but have no password yet


def verify_hash(password: str, stored: str) -> bool:
    """Does `password` match a Mosquitto $7$ (PBKDF2-SHA512) hash?"""
    try:
        _, kind, iterations, salt, digest = stored.split("$")
        if kind != "7":
            return False
        got = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(iterations))
        return hmac.compare_digest(got, base64.b64decode(digest))
    except (ValueError, TypeError):
        return False


def device_acl(grant: DeviceGrant, topics: Topics, adapter_topics: AdapterTopics) -> list[str]:
    if grant.adapter == "native":
        d = grant.device_id
        return [f"topic write {topics.event(d)}", f"topic write {topics.status(d)}", f"topic read {topics.feedback(d)}"]
    if grant.adapter == "shelly":
        return [
            f"topic readwrite {adapter_topics.shelly}/{grant.source}/#",
            f"topic read {adapter_topics.shelly}/command",
        ]
    if grant.adapter == "tasmota":
        s = grant.source
        return [
            f"topic write stat/{s}/#",
            f"topic write tele/{s}/#",
            f"topic read cmnd/{s}/#",
            "topic read cmnd/tasmotas/#",
        ]
    return []  # zigbee2mqtt: the bridge speaks for its devices


def connects_itself(grant: DeviceGrant) -> bool:
    return grant.adapter in ("native", "shelly", "tasmota")


def render(
    grants: list[DeviceGrant],
    *,
    root: str,
    gateway_user: str,
    gateway_hash: str | None,
    existing_passwords: str = "",
    known_users: AbstractSet[str] = frozenset(),
) -> AuthFiles:
    """The two files' text. `known_users`: every device id ever registered (their stale lines go)."""
    topics, adapter_topics = Topics(root), AdapterTopics()
    grants = sorted(grants, key=lambda g: g.device_id)
    managed = set(known_users) | {g.device_id for g in grants} | {gateway_user}
    kept = []
    old_hashes: dict[str, str] = {}
    for line in existing_passwords.splitlines():
        user, sep, hashed = line.partition(":")
        if not sep:
            continue
        if user in managed:
            old_hashes[user] = hashed
        else:
            kept.append(line)
    lines = []
    if gateway_hash:
        lines.append(f"{gateway_user}:{gateway_hash}")
    elif gateway_user in old_hashes:
        lines.append(f"{gateway_user}:{old_hashes[gateway_user]}")  # set by hand: left alone
    missing, accounts = [], 0
    for g in grants:
        if not connects_itself(g):
            continue
        if g.password_hash:
            lines.append(f"{g.device_id}:{g.password_hash}")
            accounts += 1
        else:
            missing.append(g.device_id)
    acl = [
        "# Written by jinqiao from the registry; edits here are overwritten.",
        "",
        f"user {gateway_user}",
        f"topic read {topics.event_filter}",
        f"topic read {topics.status_filter}",
        f"topic write {root}/v1/dev/+/feedback",
        *[f"topic read {f}" for f in adapter_topics.filters()],
        "",
    ]
    if any(g.adapter == "zigbee2mqtt" for g in grants):
        acl += [f"user {ZIGBEE2MQTT_USER}", f"topic readwrite {adapter_topics.zigbee2mqtt}/#", ""]
    for g in grants:
        rules = device_acl(g, topics, adapter_topics)
        if rules and connects_itself(g):
            acl += [f"user {g.device_id}", *rules, ""]
    return AuthFiles(
        passwords="".join(f"{line}\n" for line in [*lines, *kept]),
        acl="\n".join(acl),
        accounts=accounts,
        without_password=missing,
    )


def write_atomically(path: str | os.PathLike[str], text: str, mode: int = 0o640) -> bool:
    """Replace the file's content at once (never half written); False when it was already that."""
    target = Path(path)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return True


def export_auth(
    sessions: sessionmaker[Session],
    *,
    root: str,
    password_file: str | os.PathLike[str],
    acl_file: str | os.PathLike[str],
    gateway_user: str = DEFAULT_GATEWAY_USER,
    gateway_password: str | None = None,
) -> AuthFiles:
    """Rewrite both files from the registry (active devices only)."""
    with sessions() as s:
        rows = s.execute(select(Device.id, Device.adapter, Device.source, Device.password_hash, Device.active)).all()
    grants = [DeviceGrant(r.id, r.adapter, r.source, r.password_hash) for r in rows if r.active]
    existing = Path(password_file).read_text(encoding="utf-8") if Path(password_file).exists() else ""
    gateway_hash = None
    if gateway_password:
        old = next(
            (line.partition(":")[2] for line in existing.splitlines() if line.startswith(f"{gateway_user}:")), None
        )
        # the same password keeps its hash (and salt), so that a rerun changes nothing
        gateway_hash = old if old and verify_hash(gateway_password, old) else mosquitto_hash(gateway_password)
    files = render(
        grants,
        root=root,
        gateway_user=gateway_user,
        gateway_hash=gateway_hash,
        existing_passwords=existing,
        known_users={r.id for r in rows},
    )
    write_atomically(password_file, files.passwords)
    write_atomically(acl_file, files.acl)
    return files
