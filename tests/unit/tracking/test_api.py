"""The tracking API pipeline on Segment-shaped requests: auth, bodies, limits, per-message rejections."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest

from touchline.tracking.api import ApiError
from touchline.tracking.messages import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES

from .conftest import KEY, SITE, Harness, basic


def track(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"type": "track", "event": "Signed Up", "userId": f"u{i}", "messageId": f"m{i}", **extra}


def test_basic_bearer_and_body_write_keys_are_accepted(harness: Harness) -> None:
    harness.post("track", track(1))
    harness.post("track", track(2), {"authorization": f"Bearer {KEY}"})
    harness.post("track", {**track(3), "writeKey": KEY}, {})
    assert [e.user_id for e in harness.events()] == ["u1", "u2", "u3"]
    assert {e.site_id for e in harness.events()} == {SITE}


@pytest.mark.parametrize(
    "headers",
    [
        basic("wrong"),
        {"authorization": "Bearer wrong"},
        {},
        {"authorization": "Basic %%%not-base64"},
    ],
)
def test_wrong_or_missing_key_is_401_and_nothing_is_enqueued(
    harness: Harness, headers: dict[str, str]
) -> None:
    with pytest.raises(ApiError) as caught:
        harness.post("batch", {"batch": [track(1)]}, headers)
    assert caught.value.status == 401
    assert caught.value.body()["error"]["code"] == "unauthorized"  # type: ignore[index]
    assert caught.value.body()["code"] == "unauthorized"
    assert harness.queue.bodies == []


def test_revoked_key_is_refused(harness: Harness) -> None:
    harness.post("track", track(1))
    harness.keys.revoked = True
    with pytest.raises(ApiError) as caught:
        harness.post("track", track(2))
    assert caught.value.status == 401
    assert len(harness.events()) == 1


def test_gzip_body(harness: Harness) -> None:
    body = gzip.compress(json.dumps({"batch": [track(1), track(2)]}).encode())
    result = harness.post("batch", body, {**basic(KEY), "content-encoding": "gzip"})
    assert result.accepted == 2 and len(harness.events()) == 2


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (b"{not json", {}, 400, "invalid_json"),
        (b"[1, 2]", {}, 400, "invalid_json"),
        (b"", {}, 400, "invalid_json"),
        (b"not gzip at all", {"content-encoding": "gzip"}, 400, "invalid_gzip"),
        (b"{}", {"content-encoding": "br"}, 415, "unsupported_encoding"),
        (b'{"batch": {}}', {}, 400, "invalid_batch"),
    ],
)
def test_bad_bodies(harness: Harness, body: bytes, headers: dict[str, str], status: int, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        harness.post("batch", body, {**basic(KEY), **headers})
    assert (caught.value.status, caught.value.code) == (status, code)
    assert harness.queue.bodies == []


def test_single_call_over_32_kb_is_400(harness: Harness) -> None:
    big = track(1, properties={"blob": "x" * MAX_MESSAGE_BYTES})
    with pytest.raises(ApiError) as caught:
        harness.post("track", big)
    assert (caught.value.status, caught.value.code) == (400, "request_too_large")


def test_batch_over_500_kb_is_400_even_gzipped(harness: Harness) -> None:
    messages = [track(i, properties={"blob": "y" * 20_000}) for i in range(30)]
    body = gzip.compress(json.dumps({"batch": messages}).encode())
    assert len(body) < MAX_BATCH_BYTES < len(gzip.decompress(body))
    with pytest.raises(ApiError) as caught:
        harness.post("batch", body, {**basic(KEY), "content-encoding": "gzip"})
    assert (caught.value.status, caught.value.code) == (400, "request_too_large")
    assert harness.queue.bodies == []


def test_a_large_message_in_a_batch_is_rejected_alone(harness: Harness) -> None:
    batch = [track(1), track(2, properties={"blob": "z" * MAX_MESSAGE_BYTES}), track(3)]
    result = harness.post("batch", {"batch": batch})
    assert result.accepted == 2
    assert [(r["index"], r["code"], r["messageId"]) for r in result.rejected] == [
        (1, "message_too_large", "m2")
    ]
    assert [e.user_id for e in harness.events()] == ["u1", "u3"]


def test_invalid_messages_are_reported_and_good_ones_kept(harness: Harness) -> None:
    batch = [
        track(1),
        {"type": "track", "event": "No One", "messageId": "x1"},
        {"type": "track", "userId": "u9", "messageId": "x2"},
        {"type": "launch", "userId": "u9", "messageId": "x3"},
        {"type": "alias", "userId": "u9", "messageId": "x4"},
        "not an object",
    ]
    result = harness.post("batch", {"batch": batch})
    assert result.accepted == 1
    codes = {r["index"]: r["code"] for r in result.rejected}
    assert codes == {
        1: "no_user_anon_id",
        2: "invalid_message",
        3: "invalid_message",
        4: "invalid_message",
        5: "invalid_message",
    }
    assert all(r["message"] for r in result.rejected)


def test_a_request_with_no_valid_message_is_400(harness: Harness) -> None:
    with pytest.raises(ApiError) as caught:
        harness.post("identify", {"traits": {"plan": "pro"}})
    assert (caught.value.status, caught.value.code) == (400, "no_user_anon_id")
    assert harness.queue.bodies == []


def test_the_path_decides_the_call_type(harness: Harness) -> None:
    harness.post("page", {"type": "track", "anonymousId": "a1", "properties": {"url": "https://x.io/p"}})
    [event] = harness.events()
    assert event.event_type == "pageview"


def test_more_than_2500_messages_rejects_the_excess(harness: Harness) -> None:
    batch = [{"type": "track", "event": "e", "anonymousId": "a", "messageId": str(i)} for i in range(2502)]
    result = harness.post("batch", {"batch": batch})
    assert result.accepted == 2500
    assert [(r["index"], r["code"]) for r in result.rejected] == [
        (2500, "too_many_messages"),
        (2501, "too_many_messages"),
    ]


def test_redelivered_batch_has_the_same_event_ids(harness: Harness) -> None:
    batch = {"batch": [track(1), track(2), {"type": "page", "anonymousId": "a", "name": "Home"}]}
    harness.post("batch", batch)
    first = [e.event_id for e in harness.events()]
    harness.queue.bodies.clear()
    harness.post("batch", batch)
    assert [e.event_id for e in harness.events()] == first
    assert len(set(first)) == 3


def test_the_same_message_id_on_another_site_is_another_event(make_harness: Any) -> None:
    from touchline.tracking.ids import event_id

    assert event_id("s1", "m1") != event_id("s2", "m1")
    assert event_id("s1", "m1") == event_id("s1", "m1")


def test_duplicates_within_a_batch_are_sent_once(harness: Harness) -> None:
    result = harness.post("batch", {"batch": [track(1), track(1)]})
    assert result.accepted == 2
    assert len(harness.events()) == 1


def test_batch_context_and_sent_at_apply_to_every_message(harness: Harness) -> None:
    body = {
        "batch": [
            {**track(1), "timestamp": "2026-11-20T11:59:50Z"},
            {**track(2), "context": {"ip": "81.2.69.160"}},
        ],
        "sentAt": "2026-11-20T12:00:00Z",
        "context": {"ip": "8.8.8.8", "page": {"url": "https://shop.example.com/a?utm_source=news"}},
    }
    harness.post("batch", body)
    first, second = harness.events()
    assert first.timestamp.isoformat() == "2026-11-20T11:59:50+00:00"
    assert first.utm_source == "news" and first.pathname == "/a"
    assert (first.country, second.country) == ("US", "GB")


def test_a_batch_sent_at_corrects_every_message_but_a_messages_own_wins(harness: Harness) -> None:
    # The sender's clock runs two hours slow: its batch sentAt says 10:00 at our 12:00.
    body = {
        "batch": [
            {**track(1), "timestamp": "2026-11-20T09:59:00Z"},
            {**track(2), "timestamp": "2026-11-20T11:59:00Z", "sentAt": "2026-11-20T12:00:00Z"},
        ],
        "sentAt": "2026-11-20T10:00:00+00:00",
    }
    harness.post("batch", body)
    skewed, own = harness.events()
    assert skewed.timestamp.isoformat() == "2026-11-20T11:59:00+00:00"
    assert own.timestamp.isoformat() == "2026-11-20T11:59:00+00:00"


def test_a_batch_sent_at_that_is_no_time_is_a_400_and_nothing_is_sent(harness: Harness) -> None:
    with pytest.raises(ApiError) as caught:
        harness.post("batch", {"batch": [track(1)], "sentAt": "yesterday"})
    assert (caught.value.status, caught.value.code) == (400, "invalid_batch")
    assert harness.queue.bodies == []


def test_basic_auth_password_is_ignored() -> None:
    from touchline.tracking.api import key_from_authorization

    header = "Basic " + base64.b64encode(f"{KEY}:anything".encode()).decode()
    assert key_from_authorization(header) == KEY
    assert key_from_authorization("Basic " + base64.b64encode(b":").decode()) is None
    assert key_from_authorization("Digest abc") is None


def test_the_handler_does_not_import_the_warehouse_client() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    code = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('app', 'functions/tracking_api/app.py')\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print([n for n in ('clickhouse_connect', 'chdb', 'stripe', 'boto3') if n in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
