"""Devices end to end in process: tracking API → envelopes → loader handler → `devices` → query API.

Fed with the spec's published examples (tests/payloads/specs): Segment's common-fields message
(a mobile `context.device` with a push token) and Customer.io's `Device Created or Updated` /
`Device Deleted` semantic events; every envelope is delivered three times, as SQS may.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from tracking_pipeline import DOMAIN, SPECS, Pipeline, sha256_hex

from touchline.identity.gdpr import delete, export, find_subject
from touchline.warehouse.sql import ClientSql


def segment_example(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = json.loads((SPECS / "segment-common-fields.json").read_text())
    message = {**copy.deepcopy(message), "event": "Article Read", **changes}
    return message


def test_segment_context_device_is_a_device_with_a_hashed_token(pipeline: Pipeline) -> None:
    example = segment_example()
    token = example["context"]["device"]["token"]
    assert pipeline.send([example])["accepted"] == 1
    pipeline.deliver()
    [device] = pipeline.devices()
    assert {k: device[k] for k in ("device_id", "person_id", "user_id", "anonymous_id", "platform")} == {
        "device_id": "B5372DB0-C21E-11E4-8DFC-AA07A5B093DB",
        "person_id": "user:97980cfea0067",
        "user_id": "97980cfea0067",
        "anonymous_id": "507f191e810c19729de860ea",
        "platform": "ios",
    }
    assert (device["manufacturer"], device["model"], device["os_name"], device["os_version"]) == (
        "Apple",
        "iPhone7,2",
        "iPhone OS",
        "8.1.3",
    )
    assert (device["app_name"], device["app_version"], device["app_build"]) == (
        "InitechGlobal",
        "545",
        "3.0.1.545",
    )
    assert device["push_token_sha256"] == sha256_hex(token) and device["deleted"] == 0
    # The call's time as the events row has it (clock-skew corrected from sentAt).
    [[event_time]] = pipeline.sql("SELECT timestamp FROM events FINAL WHERE site_id = {site:String}")
    assert device["last_seen"] == event_time
    # The raw token is stored nowhere: not on the device, not in the event's properties.
    for table in ("devices", "events"):
        [[hits]] = pipeline.sql(
            f"SELECT count() FROM {table} WHERE site_id = {{site:String}}"
            " AND position(toString(tuple(*)), {t:String}) > 0",
            t=token,
        )
        assert hits == 0, table
    # Redelivered three times, still one row even before FINAL merges (insert dedup or same key).
    assert pipeline.sql("SELECT count() FROM devices FINAL WHERE site_id = {site:String}") == [(1,)]


def test_customerio_device_events_register_then_delete(pipeline: Pipeline) -> None:
    created, deleted = json.loads((SPECS / "customerio-device-events.json").read_text())
    assert pipeline.send([created])["accepted"] == 1
    pipeline.deliver()
    [device] = pipeline.devices()
    assert device["device_id"] == f"token:{sha256_hex('string')}"
    assert (device["platform"], device["push_token_sha256"], device["deleted"]) == (
        "ios",
        sha256_hex("string"),
        0,
    )
    assert device["source_event"] == "device_event"
    [event] = pipeline.sql("SELECT event_type, props FROM events FINAL WHERE site_id = {site:String}")
    assert event == ("device", {})  # bookkeeping, not a goal; the device object is not copied
    assert pipeline.query(metrics=["people_with_push_token"]) == [{"metrics": [1], "dimensions": []}]

    assert pipeline.send([deleted])["accepted"] == 1
    pipeline.deliver()
    [device] = pipeline.devices()
    assert (device["deleted"], device["push_token_sha256"]) == (1, "")
    assert pipeline.query(metrics=["devices", "people_with_push_token", "deleted_devices"]) == [
        {"metrics": [0, 0, 1], "dimensions": []}
    ]


def test_the_latest_call_wins_whatever_the_arrival_order(pipeline: Pipeline) -> None:
    device = {"id": "dev-1", "type": "android", "token": "tok-new"}
    base = {"type": "track", "event": "Played", "userId": "u1"}
    newer = {**base, "messageId": "m2", "timestamp": "2026-11-20T10:00:00Z"}
    newer["context"] = {"device": device, "app": {"version": "2.0"}}
    older = {**base, "messageId": "m1", "timestamp": "2026-11-19T10:00:00Z"}
    older["context"] = {"device": {**device, "token": "tok-old"}, "app": {"version": "1.0"}}
    pipeline.send([newer])
    pipeline.deliver()
    pipeline.send([older])
    pipeline.deliver()
    [row] = pipeline.devices()
    assert (row["app_version"], row["push_token_sha256"]) == ("2.0", sha256_hex("tok-new"))


def test_active_devices_per_platform_and_people_with_a_push_token(pipeline: Pipeline) -> None:
    def call(user: str, device_id: str, platform: str, token: str | None, day: int) -> dict[str, Any]:
        device = {"id": device_id, "type": platform, **({"token": token} if token else {})}
        return {
            "type": "screen",
            "name": "Home",
            "userId": user,
            "messageId": f"{device_id}-{day}",
            "timestamp": f"2026-11-{day:02d}T09:00:00Z",
            "context": {"device": device, "os": {"name": "iOS" if platform == "ios" else "Android"}},
        }

    calls = [
        call("ann", "a-phone", "ios", "t1", 18),
        call("ann", "a-phone", "ios", "t1", 19),  # the same device again: one device
        call("ann", "a-tablet", "ios", None, 19),
        call("bob", "b-phone", "android", "t2", 19),
        call("cat", "c-phone", "android", None, 19),
        call("dan", "d-phone", "android", "t3", 2),  # not active in the last 7 days
    ]
    result = pipeline.send(calls)
    assert result["accepted"] == 6
    pipeline.deliver()
    per_platform = pipeline.query(
        metrics=["devices", "push_devices"], dimensions=["device:platform"], date_range="7d"
    )
    assert sorted((r["dimensions"][0], *r["metrics"]) for r in per_platform) == [
        ("android", 2, 1),
        ("ios", 2, 1),
    ]
    everyone = pipeline.query(metrics=["device_people", "people_with_push_token"])
    assert everyone == [{"metrics": [4, 3], "dimensions": []}]
    tokens = pipeline.query(
        metrics=["devices"],
        dimensions=["device:has_push_token"],
        filters=[["is", "device:platform", ["ios"]]],
    )
    assert sorted((r["dimensions"][0], r["metrics"][0]) for r in tokens) == [("false", 1), ("true", 1)]


def test_calls_without_a_device_make_no_device_rows(pipeline: Pipeline) -> None:
    web = {
        "type": "page",
        "anonymousId": "web-1",
        "messageId": "w1",
        "context": {"page": {"url": f"https://{DOMAIN}/"}},
    }
    empty = {"type": "track", "event": "Device Created or Updated", "userId": "u", "messageId": "w2"}
    assert pipeline.send([web, empty])["accepted"] == 2
    pipeline.deliver()
    assert pipeline.devices() == []


def test_people_export_and_delete_cover_their_devices(pipeline: Pipeline) -> None:
    def screen(user: str, anonymous: str, device_id: str) -> dict[str, Any]:
        device = {"id": device_id, "type": "ios", "token": f"tok-{device_id}"}
        return {
            "type": "screen",
            "name": "Home",
            "userId": user,
            "anonymousId": anonymous,
            "context": {"device": device},
        }

    assert (
        pipeline.send([screen("erase-me", "anon-e", "e-phone"), screen("keep-me", "anon-k", "k-phone")])[
            "accepted"
        ]
        == 2
    )
    pipeline.deliver()
    sql = ClientSql(pipeline.client)
    subject = find_subject(sql, pipeline.site, user_id="erase-me")
    exported = export(sql, subject)["tables"]["devices"]
    assert [d["device_id"] for d in exported] == ["e-phone"]
    assert delete(sql, subject)["devices"] == 1
    assert [d["device_id"] for d in pipeline.devices()] == ["k-phone"]
