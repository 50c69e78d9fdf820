"""Orders from a Stripe webhook, a Shopify webhook and the payments API reach every commerce table
through the real handlers (webhooks → queue → loader → AggregatesFunction)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from revenue_payloads import (
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    checkout_session,
    shopify_headers,
    shopify_order,
    stripe_body,
    stripe_event,
    stripe_signature,
)

from helpers import TABLE, LambdaContextStub, load_handler_module
from touchline.aws import clients
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.tokens import TokenStore
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue import service
from touchline.warehouse.client import connect


class FifteenMinutes(LambdaContextStub):
    def get_remaining_time_in_millis(self) -> int:
        return 900_000


@pytest.fixture
def site(aws: dict[str, str]) -> str:
    dynamodb = boto3.client("dynamodb")
    site_id = SiteStore(dynamodb, TABLE).add("shop.example.com").site_id
    secrets = boto3.client("secretsmanager")
    IntegrationStore(dynamodb, TABLE).add(site_id, "stripe", STRIPE_SECRET, secrets)
    IntegrationStore(dynamodb, TABLE).add(site_id, "shopify", SHOPIFY_SECRET, secrets)
    return site_id


@pytest.fixture
def webhooks(site: str) -> Iterator[ModuleType]:
    clients.secretsmanager.cache_clear()
    service.intake.cache_clear()
    service.deduper.cache_clear()
    yield load_handler_module("webhooks")
    service.intake.cache_clear()
    service.deduper.cache_clear()
    clients.secretsmanager.cache_clear()


def post(app: ModuleType, path: str, body: bytes, headers: dict[str, str]) -> int:
    event = {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "3.18.12.63",
                "userAgent": "test",
            },
            "requestId": "r",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "timeEpoch": 0,
        },
        "body": body.decode(),
        "isBase64Encoded": False,
        "pathParameters": {},
    }
    return int(app.handler(event, LambdaContextStub())["statusCode"])


def drain(aws: dict[str, str], warehouse_url: str) -> None:
    sqs = boto3.client("sqs")
    batch = LoadBatch(ClickHouseRowSink(connect(warehouse_url)))
    while messages := sqs.receive_message(
        QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10
    ).get("Messages", []):
        for message in messages:
            batch.add(message["Body"], key=message["MessageId"])
            sqs.delete_message(
                QueueUrl=aws["TOUCHLINE_EVENTS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )
    batch.flush()


def test_webhooks_and_the_payments_api_fill_the_commerce_tables(
    webhooks: ModuleType, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    session = stripe_event("checkout.session.completed", checkout_session(amount=4999, visitor="v-1"))
    body = stripe_body(session)
    assert (
        post(webhooks, f"/webhooks/stripe/{site}", body, {"Stripe-Signature": stripe_signature(body)}) == 200
    )
    order = json.dumps(shopify_order()).encode()
    assert post(webhooks, f"/webhooks/shopify/{site}", order, shopify_headers(order, "orders/paid")) == 200
    token, _ = TokenStore(boto3.client("dynamodb"), TABLE).create(site)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for number in range(2):
        payment = {
            "amount": 20 + number,
            "currency": "USD",
            "transaction_id": f"tx_{number}",
            "email": "ada@example.com",
        }
        assert post(webhooks, "/api/v1/payments", json.dumps(payment).encode(), auth) == 200
    drain(aws, warehouse_url)

    aggregates = load_handler_module("aggregates")
    result: dict[str, Any] = aggregates.handler({"job": "commerce", "site": site}, LambdaContextStub())
    assert [j["job"] for j in result["commerce"][0]["jobs"]] == [
        "commerce_rollups",
        "commerce_profiles",
        "commerce_products",
        "commerce_baskets",
    ]
    client = connect(warehouse_url)

    def count(table: str) -> int:
        return int(
            client.query(
                f"SELECT count() FROM {table} FINAL WHERE site_id = %(s)s", parameters={"s": site}
            ).result_rows[0][0]
        )

    sources = client.query("SELECT DISTINCT source FROM orders FINAL ORDER BY source").result_rows
    assert [s[0] for s in sources] == ["api", "shopify", "stripe"]
    assert count("customer_profiles") >= 2
    assert count("products_master") >= 1  # the Shopify order's line items
    assert count("account_metrics_daily") >= 1
    assert count("customer_models") >= 1
    # The scheduled path runs the due jobs after the aggregation: nothing is due a second time.
    scheduled = aggregates.handler({}, FifteenMinutes())
    reasons = {j["job"]: j["reason"] for j in scheduled["commerce"][0]["jobs"]}
    assert reasons["commerce_profiles"] == "not due"
