"""GDPR deletion holds: after `touchline people delete`, new events carrying the deleted person's
user id, email or visitor id are not stored again (collector, tracking API), and their orders are
kept without the personal columns (webhooks); `people unsuppress` lifts it. Handlers run as
their template roles (the `aws` fixture), which read the suppression partition."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from helpers import TABLE, LambdaContextStub, load_handler_module, sample_event
from touchline.config.sites import SiteStore
from touchline.config.suppressions import SuppressionStore
from touchline.config.tokens import TokenStore
from touchline.config.write_keys import WriteKeyStore
from touchline.envelope import unpack
from touchline.identity.rows import email_sha256
from touchline.ingest import service as collector_service
from touchline.revenue import service as revenue_service
from touchline.tracking import service as tracking_service
from touchline_dev.cli.main import main

EMAIL = "ada@example.com"
DELETED_VISITOR = "Zk3vQ1x9_a-B7cD2eF4gHw"  # the sample identify event's tag visitor id


@pytest.fixture
def site(aws: dict[str, str], warehouse_url: str) -> Iterator[str]:
    for cached in (collector_service.collector, tracking_service.tracking_api, revenue_service.intake):
        cached.cache_clear()
    site_id = SiteStore(boto3.client("dynamodb"), TABLE).add("shop.example.com").site_id
    yield site_id
    for cached in (collector_service.collector, tracking_service.tracking_api, revenue_service.intake):
        cached.cache_clear()


def _queued(aws: dict[str, str]) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    found = []
    while messages := sqs.receive_message(
        QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10
    ).get("Messages"):
        found += [json.loads(e) for m in messages for e in unpack(m["Body"])]
        sqs.delete_message_batch(
            QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"],
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    return found


def _delete_person(site_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["people", "delete", "--site", site_id, "--user-id", "u1"]) == 0
    assert json.loads(capsys.readouterr().out)["suppressed"] >= 1
    # what `people delete` found for u1 besides the id itself: their email and tag visitor id
    SuppressionStore(boto3.client("dynamodb"), TABLE).add(
        site_id, {("email_sha256", email_sha256(EMAIL)), ("id", DELETED_VISITOR)}, "user:u1"
    )


def test_the_collector_stores_no_new_event_of_a_deleted_person(
    site: str, aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app = load_handler_module("collector")
    _delete_person(site, capsys)
    response = app.handler(sample_event("collector_identify.json"), LambdaContextStub())
    assert response["statusCode"] == 202
    assert response["headers"]["X-Touchline-Dropped"] == "suppressed"
    assert _queued(aws) == []
    other = sample_event("collector_pageview.json")  # someone else: stored as usual
    assert app.handler(other, LambdaContextStub())["statusCode"] == 202
    assert [e["kind"] for e in _queued(aws)] == ["events"]


def test_the_tracking_api_drops_a_deleted_persons_messages_until_unsuppressed(
    site: str, aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    key, _ = WriteKeyStore(boto3.client("dynamodb"), TABLE).create(site, "shop.example.com")
    app = load_handler_module("tracking_api")
    _delete_person(site, capsys)
    batch = {
        "batch": [
            {"type": "track", "event": "Login", "userId": "u1", "messageId": "m1"},
            {"type": "identify", "anonymousId": "a9", "traits": {"email": EMAIL}, "messageId": "m2"},
            {"type": "track", "event": "Login", "userId": "u2", "messageId": "m3"},
        ]
    }
    event = sample_event("tracking_api_batch.json")
    event["body"] = json.dumps(batch)
    event["isBase64Encoded"] = False
    event["headers"]["authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
    event["headers"].pop("content-encoding", None)
    answer = json.loads(app.handler(event, LambdaContextStub())["body"])
    assert (answer["accepted"], answer["dropped"]) == (1, 2)
    stored = [e["row"] for e in _queued(aws) if e["kind"] == "events"]
    assert [r.get("user_id") for r in stored] == ["u2"]

    assert main(["people", "unsuppress", "--site", site, "--user-id", "u1"]) == 0
    assert json.loads(capsys.readouterr().out)["unsuppressed"] >= 3
    tracking_service.tracking_api.cache_clear()  # a warm container sees it within the cache time
    answer = json.loads(load_handler_module("tracking_api").handler(event, LambdaContextStub())["body"])
    assert answer["accepted"] == 3


def test_a_deleted_persons_order_is_kept_without_personal_columns(
    site: str, aws: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    token, _ = TokenStore(boto3.client("dynamodb"), TABLE).create(site)
    app = load_handler_module("webhooks")
    _delete_person(site, capsys)
    payment = {
        "transaction_id": "ord-77",
        "amount": "19.99",
        "currency": "EUR",
        "email": EMAIL,
        "visitor_id": DELETED_VISITOR,
        "timestamp": "2026-11-20T10:00:00Z",
    }
    event = {
        "version": "2.0",
        "routeKey": "POST /api/v1/payments",
        "rawPath": "/api/v1/payments",
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "authorization": f"Bearer {token}"},
        "requestContext": {
            "http": {"method": "POST", "path": "/api/v1/payments", "sourceIp": "203.0.113.9"},
            "requestId": "r1",
            "stage": "$default",
        },
        "body": json.dumps(payment),
        "isBase64Encoded": False,
    }
    assert app.handler(event, LambdaContextStub())["statusCode"] == 200
    queued = _queued(aws)
    [order] = [e["row"] for e in queued if e["kind"] == "orders"]
    assert order["order_id"] == "ord-77" and order["amount"] == "19.99"
    assert not order.get("visitor_id") and not order.get("email_sha256")
    assert not [e for e in queued if e["kind"] == "identity_links"]
