"""TrackingApiFunction on API Gateway v2 events, with the write key store and SQS in moto."""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest

from helpers import TABLE, LambdaContextStub, load_handler_module, sample_event
from touchline.config.sites import SiteStore
from touchline.config.write_keys import WriteKeyStore, key_hash
from touchline.envelope import unpack
from touchline.tracking import service


@pytest.fixture
def api(aws: dict[str, str]) -> Iterator[tuple[ModuleType, str, str]]:
    service.tracking_api.cache_clear()
    ddb = boto3.client("dynamodb")
    site = SiteStore(ddb, TABLE).add("shop.example.com")
    key, _ = WriteKeyStore(ddb, TABLE).create(site.site_id, site.domain)
    yield load_handler_module("tracking_api"), key, site.site_id
    service.tracking_api.cache_clear()


def http_event(path: str, body: bytes, headers: dict[str, str], binary: bool = False) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", **headers},
        "requestContext": {
            "http": {"method": "POST", "path": path, "sourceIp": "203.0.113.9", "protocol": "HTTP/1.1"},
            "requestId": "r1",
            "routeKey": f"POST {path}",
            "stage": "$default",
        },
        "body": base64.b64encode(body).decode() if binary else body.decode(),
        "isBase64Encoded": binary,
    }


def invoke(app: ModuleType, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    response = app.handler(event, LambdaContextStub())
    return response["statusCode"], json.loads(response["body"])


def auth(key: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def queued(aws: dict[str, str]) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
        if not got.get("Messages"):
            return found
        found.extend(json.loads(e) for m in got["Messages"] for e in unpack(m["Body"]))


def test_batch_lands_on_the_queue(api: tuple[ModuleType, str, str], aws: dict[str, str]) -> None:
    app, key, site_id = api
    batch = {
        "batch": [
            {"type": "track", "event": f"E{i}", "anonymousId": f"a{i}", "messageId": f"m{i}"}
            for i in range(25)
        ]
    }
    status, body = invoke(
        app,
        http_event(
            "/v1/batch",
            gzip.compress(json.dumps(batch).encode()),
            {**auth(key), "content-encoding": "gzip"},
            binary=True,
        ),
    )
    assert (status, body) == (200, {"success": True, "accepted": 25})
    envelopes = queued(aws)
    assert sorted(e["row"]["name"] for e in envelopes) == sorted(f"E{i}" for i in range(25))
    assert {e["row"]["site_id"] for e in envelopes} == {site_id}


def test_wrong_key_is_401_json_and_nothing_is_queued(
    api: tuple[ModuleType, str, str], aws: dict[str, str]
) -> None:
    app, _, _ = api
    event = http_event("/v1/track", b'{"event":"x","userId":"u"}', auth("tlwk_wrong"))
    status, body = invoke(app, event)
    assert status == 401
    assert body["error"]["code"] == body["code"] == "unauthorized"
    assert queued(aws) == []


def test_revoked_key_is_refused(api: tuple[ModuleType, str, str], aws: dict[str, str]) -> None:
    app, key, _ = api
    store = WriteKeyStore(boto3.client("dynamodb"), TABLE)
    [record] = store.keys()
    assert record.key_id == key_hash(key)[:12]
    store.revoke(record.key_id)
    status, _ = invoke(app, http_event("/v1/track", b'{"event":"x","userId":"u"}', auth(key)))
    assert status == 401
    assert queued(aws) == []


def test_key_is_stored_only_as_a_hash(api: tuple[ModuleType, str, str]) -> None:
    _, key, _ = api
    items = boto3.client("dynamodb").scan(TableName=TABLE)["Items"]
    assert key not in json.dumps(items)
    assert any(item["pk"]["S"] == f"WRITEKEY#{key_hash(key)}" for item in items)


def test_invalid_json_is_400(api: tuple[ModuleType, str, str], aws: dict[str, str]) -> None:
    app, key, _ = api
    status, body = invoke(app, http_event("/v1/identify", b"{nope", auth(key)))
    assert (status, body["error"]["code"]) == (400, "invalid_json")
    assert queued(aws) == []


def test_queue_failure_is_503(
    api: tuple[ModuleType, str, str], aws: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, key, _ = api
    monkeypatch.setenv("TOUCHLINE_EVENTS_QUEUE_URL", aws["TOUCHLINE_EVENTS_QUEUE_URL"] + "-missing")
    service.tracking_api.cache_clear()
    status, body = invoke(app, http_event("/v1/track", b'{"event":"x","userId":"u"}', auth(key)))
    assert status == 503 and body["error"]["code"] == "unavailable"


def test_sample_event_is_accepted(api: tuple[ModuleType, str, str], aws: dict[str, str]) -> None:
    app, key, _ = api
    event = sample_event("tracking_api_batch.json")
    event["headers"]["authorization"] = auth(key)["authorization"]
    status, body = invoke(app, event)
    assert (status, body) == (200, {"success": True, "accepted": 3})
    kinds = sorted(e["kind"] for e in queued(aws))
    # identify: anonymousId ↔ userId and email ↔ userId; the order's one product: one line item.
    assert kinds == [
        "events",
        "events",
        "events",
        "identity_links",
        "identity_links",
        "order_line_items",
        "orders",
        "people",
    ]
