"""The `devices` row a tracking-API call stands for (migrations/0046_devices.sql, docs/devices.md).

Two sources, both of the Segment/Customer.io spec:

* the device semantic events, `Device Created or Updated` and `Device Deleted`: the device in
  `context.device` or, as Customer.io's JavaScript examples send it, in `properties.device`
  (`{token, type}`); the other properties are device attributes (`app_version`, `device_model`,
  `device_os`, as Customer.io's SDKs name them);
* `context.device` on any other call (the mobile SDKs add it to every call), with
  `context.os` and `context.app`.

The device is `context.device.id` when given (the SDKs' stable per-install id), else its push
token; the token is stored only as its sha256. The row is the device as of this call: the
latest call wins in the ReplacingMergeTree (version = the call's time in ms), and a redelivered
call writes the same row again, which collapses.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row
from touchline.identity.resolve import person_id
from touchline.identity.rows import version_of

DEVICE_UPDATED = "device created or updated"
DEVICE_DELETED = "device deleted"
DEVICE_EVENTS = (DEVICE_UPDATED, DEVICE_DELETED)
DEVICE_EVENT_TYPE = "device"  # the events row of a device semantic event: bookkeeping, not a goal
MAX_TEXT = 256
# OS names (context.os.name, Customer.io's device_os) → platform, when device.type is absent.
_PLATFORMS = {"ios": "ios", "ipados": "ios", "iphone os": "ios", "android": "android", "tvos": "tvos"}


class DeviceRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    device_id: str = Field(min_length=1, max_length=MAX_TEXT + 6)
    person_id: str = Field("", max_length=MAX_TEXT + 8)
    user_id: str = Field("", max_length=MAX_TEXT)
    anonymous_id: str = Field("", max_length=MAX_TEXT)
    platform: str = Field("", max_length=32)
    manufacturer: str = Field("", max_length=MAX_TEXT)
    model: str = Field("", max_length=MAX_TEXT)
    os_name: str = Field("", max_length=64)
    os_version: str = Field("", max_length=64)
    app_name: str = Field("", max_length=MAX_TEXT)
    app_version: str = Field("", max_length=64)
    app_build: str = Field("", max_length=64)
    push_token_sha256: str = Field("", max_length=64)
    last_seen: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    deleted: int = Field(0, ge=0, le=1)
    source_event: str = Field("", max_length=32)
    version: int = Field(ge=0)


def is_device_event(name: str) -> bool:
    return name.strip().lower() in DEVICE_EVENTS


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()[:limit]


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def device_row(
    site_id: str,
    *,
    call: str,
    event: str,
    user_id: str,
    anonymous_id: str,
    context: dict[str, Any],
    properties: dict[str, Any],
    at: datetime,
) -> DeviceRow | None:
    """The call's device, or None when it names none (no device id and no token)."""
    device_event = call == "track" and is_device_event(event)
    device = _object(context.get("device"))
    if device_event:
        device = {**_object(properties.get("device")), **device}
    token = _text(device.get("token"), 4096)
    hashed = token_sha256(token) if token else ""
    given_id = _text(device.get("id"))
    device_id = given_id or (f"token:{hashed}" if hashed else "")
    if not device_id:
        return None
    os = _object(context.get("os"))
    app = _object(context.get("app"))
    attributes = properties if device_event else {}
    os_name = _text(os.get("name"), 64) or _text(attributes.get("device_os"), 64)
    platform = _text(device.get("type"), 32).lower() or _PLATFORMS.get(os_name.lower(), os_name.lower())
    deleted = device_event and event.strip().lower() == DEVICE_DELETED
    # Unvalidated construction: every value above is already cut to its column's limit and
    # `at` is the events row's validated time (validation was half a mobile call's cost). The
    # loader still validates the envelope against DeviceRow.
    return DeviceRow.model_construct(
        site_id=site_id,
        device_id=device_id,
        person_id=person_id("user", user_id) if user_id else person_id("visitor", anonymous_id),
        user_id=user_id,
        anonymous_id=anonymous_id,
        platform=platform,
        manufacturer=_text(device.get("manufacturer")),
        model=_text(device.get("model")) or _text(attributes.get("device_model")),
        os_name=os_name,
        os_version=_text(os.get("version"), 64),
        app_name=_text(app.get("name")),
        app_version=_text(app.get("version"), 64) or _text(attributes.get("app_version"), 64),
        app_build=_text(app.get("build"), 64),
        push_token_sha256="" if deleted else hashed,
        last_seen=at,
        deleted=1 if deleted else 0,
        source_event="device_event" if device_event else "context",
        version=version_of(at),
    )
