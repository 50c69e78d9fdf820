"""SyncFunction's handler: schedule fan-out → SyncQueue → one run per message; direct runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from fakes.harness import SITE, make_harness
from fakes.klaviyo import FakeKlaviyo, add_orders
from helpers import LambdaContextStub, load_handler_module, sample_event
from touchline.load import service as warehouse
from touchline.syncs import wiring

START = datetime(2026, 4, 1, tzinfo=UTC)


def _clear() -> None:
    for cached in (wiring.settings, wiring.integrations, wiring.environment, wiring.run_queue):
        cached.cache_clear()
    warehouse.reset()


@pytest.fixture
def sync_app(
    aws: dict[str, str], warehouse_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    monkeypatch.setenv("TOUCHLINE_SYNC_RESERVE_SECONDS", "5")  # the stub context has 30 s left
    _clear()
    yield load_handler_module("sync")
    _clear()


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(api_key="pk_handler")
    fake.add_metric("PLACED", "Placed Order", "shopify")
    add_orders(fake, 250, start=START)
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts.
    assert fake.refusals == [], fake.refusals


def _queued() -> list[dict[str, Any]]:
    sqs = boto3.client("sqs")
    url = sqs.get_queue_url(QueueName="touchline-SyncQueue")["QueueUrl"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [
        {
            "messageId": m["MessageId"],
            "receiptHandle": m["ReceiptHandle"],
            "body": m["Body"],
            "attributes": {},
            "messageAttributes": {},
            "md5OfBody": m["MD5OfBody"],
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchline-SyncQueue",
            "awsRegion": "us-east-1",
        }
        for m in messages
    ]


def test_no_integrations_nothing_queued(sync_app: ModuleType) -> None:
    assert sync_app.handler(sample_event("sync_fan_out.json"), LambdaContextStub()) == {"queued": 0}
    assert sync_app.handler({}, LambdaContextStub()) == {"queued": 0}  # a ScheduleV2 without Input
    assert _queued() == []


def test_fan_out_then_queued_run(sync_app: ModuleType, klaviyo: FakeKlaviyo, warehouse_url: str) -> None:
    harness = make_harness(warehouse_url)
    harness.connect("klaviyo", {"api_key": "pk_handler"}, klaviyo.base_url)
    assert sync_app.handler({"action": "fan_out"}, LambdaContextStub()) == {"queued": 1}
    records = _queued()
    assert [json.loads(r["body"]) for r in records] == [{"site_id": SITE, "provider": "klaviyo"}]
    response = sync_app.handler({"Records": records}, LambdaContextStub())
    assert response == {"batchItemFailures": []}
    assert harness.scalar("SELECT count() FROM orders FINAL") == 250
    integration = harness.env.integrations.get(SITE, "klaviyo")
    assert integration is not None and integration.status == "ok"
    assert integration.last_run["streams"]["placed_order:PLACED"]["records"] == 250


def test_a_queued_run_of_a_disconnected_integration_is_dropped(sync_app: ModuleType) -> None:
    """Removed between the fan-out and the run: nothing to retry, no dead letter."""
    assert sync_app.handler(sample_event("sync_queued_run.json"), LambdaContextStub()) == {
        "batchItemFailures": []
    }


def test_a_bad_message_fails_alone(sync_app: ModuleType) -> None:
    record = {
        "messageId": "m1",
        "receiptHandle": "r",
        "body": '{"site_id": "x"}',
        "attributes": {},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchline-SyncQueue",
        "awsRegion": "us-east-1",
    }
    with pytest.raises(Exception, match="failed processing"):  # the only record: the batch is retried
        sync_app.handler({"Records": [record]}, LambdaContextStub())


def test_direct_run_with_since_and_a_time_slice(
    sync_app: ModuleType, klaviyo: FakeKlaviyo, warehouse_url: str
) -> None:
    harness = make_harness(warehouse_url)
    harness.connect("klaviyo", {"api_key": "pk_handler"}, klaviyo.base_url)
    event = {
        "action": "run",
        "site_id": SITE,
        "provider": "klaviyo",
        "since": "2026-04-01",
        "max_seconds": 20,
    }
    summary = sync_app.handler(event, LambdaContextStub())
    assert summary["complete"] and summary["streams"]["placed_order:PLACED"]["records"] == 250
    state = harness.env.state.load(SITE, "klaviyo")["placed_order:PLACED"]
    assert state.watermark == START + timedelta(minutes=249)
    with pytest.raises(ValidationError):
        sync_app.handler({"action": "run", "site_id": SITE, "provider": "stripe"}, LambdaContextStub())
