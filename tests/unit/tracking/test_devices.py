"""Device rows from tracking-API calls: one per device and request, the token only hashed."""

from __future__ import annotations

import hashlib
from typing import Any

from .conftest import Harness


def _call(i: int, **context: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "event": "Played",
        "userId": "u1",
        "messageId": f"m{i}",
        "timestamp": f"2026-11-20T10:00:{i:02d}Z",
        "context": {"device": {"id": "d1", "type": "ios", "token": "secret-token"}, **context},
    }


def test_a_batch_from_one_device_enqueues_one_device_row_the_latest(harness: Harness) -> None:
    calls = [_call(i, app={"version": f"1.{i}"}) for i in range(20)]
    assert harness.post("batch", {"batch": calls[::-1]}).accepted == 20
    [row] = harness.rows("devices")
    assert row["app_version"] == "1.19" and row["last_seen"].startswith("2026-11-20T10:00:19")
    assert row["push_token_sha256"] == hashlib.sha256(b"secret-token").hexdigest()
    assert all("secret-token" not in body for body in harness.queue.bodies)


def test_device_events_are_not_goals_and_keep_no_device_in_props(harness: Harness) -> None:
    harness.post(
        "track",
        {
            "event": "Device Created or Updated",
            "userId": "u2",
            "properties": {
                "device": {"token": "tok", "type": "android"},
                "app_version": "3.1",
                "device_model": "Pixel 8",
            },
        },
    )
    [event] = harness.events()
    assert (event.event_type, event.props) == ("device", {"app_version": "3.1", "device_model": "Pixel 8"})
    [row] = harness.rows("devices")
    assert (row["platform"], row["model"], row["app_version"]) == ("android", "Pixel 8", "3.1")
    assert row["person_id"] == "user:u2"


def test_platform_falls_back_to_the_os_name(harness: Harness) -> None:
    harness.post(
        "screen",
        {"anonymousId": "a1", "name": "Home", "context": {"device": {"id": "d9"}, "os": {"name": "Android"}}},
    )
    [row] = harness.rows("devices")
    assert (row["platform"], row["person_id"]) == ("android", "visitor:a1")


def test_a_malformed_device_loses_the_device_row_not_the_call(harness: Harness) -> None:
    calls = [
        {"type": "track", "event": "A", "userId": "u", "context": {"device": "iPhone", "os": 3}},
        {
            "type": "track",
            "event": "B",
            "userId": "u",
            "context": {"device": {"id": ["x"], "token": {"a": 1}}},
        },
    ]
    assert harness.post("batch", {"batch": calls}).accepted == 2
    assert harness.rows("devices") == []
