"""Server-side purchases against webhook purchases in the embedded ClickHouse: counted once."""

from __future__ import annotations

import base64
import json
from typing import Any

from clickhouse_connect.driver.client import Client

from touchline.config.write_keys import WriteKey
from touchline.enrichment import FullEnricher
from touchline.ingest.queue import ListQueue
from touchline.load.batch import LoadBatch
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue.stripe_events import StripeEvent, translate
from touchline.tracking.api import ApiRequest, TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver
from touchline.warehouse.client import connect

SITE = "site1"


class Keys:
    def lookup(self, key: str) -> WriteKey | None:
        return WriteKey("kid", SITE, "shop.example.com", "", False)


def load(client: Client, bodies: list[str]) -> None:
    batch = LoadBatch(ClickHouseRowSink(client))
    for body in bodies:
        batch.add(body)
    assert batch.flush()[1] == []


def api_call(client: Client, message: dict[str, Any]) -> None:
    queue = ListQueue()
    api = TrackingApi(WriteKeyResolver(Keys()), queue, MessageConverter(ContextEnricher(FullEnricher())))
    auth = {"authorization": "Basic " + base64.b64encode(b"k:").decode()}
    api.handle(ApiRequest("track", json.dumps(message).encode(), auth))
    load(client, queue.bodies)


def order_completed(order_id: str, total: float, **extra: Any) -> dict[str, Any]:
    return {
        "event": "Order Completed",
        "anonymousId": "visitor-1",
        "messageId": f"msg-{order_id}-{total}",
        "timestamp": "2026-11-05T10:00:00Z",
        "properties": {"order_id": order_id, "total": total, "currency": "USD", **extra},
    }


def orders(client: Client) -> list[tuple[str, str, str, str]]:
    rows = client.query(
        "SELECT source, order_id, toString(amount), source_event FROM orders FINAL ORDER BY source, order_id"
    ).result_rows
    return [tuple(map(str, row)) for row in rows]  # type: ignore[misc]


def stripe_payment(intent: str, amount: int) -> list[str]:
    event = StripeEvent.model_validate(
        {
            "id": "evt_1",
            "type": "payment_intent.succeeded",
            "created": 1793872800,
            "data": {
                "object": {
                    "id": intent,
                    "created": 1793872790,
                    "amount": amount,
                    "amount_received": amount,
                    "currency": "usd",
                }
            },
        }
    )
    return translate(SITE, event).bodies()


def test_stripe_order_reported_by_api_and_webhook_counts_once(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    api_call(client, order_completed("pi_123", 49.0))
    assert orders(client) == [("stripe", "pi_123", "49", "Order Completed")]
    load(client, stripe_payment("pi_123", 4900))
    # The webhook's row replaces the API's: one order, the processor's version of it.
    assert orders(client) == [("stripe", "pi_123", "49", "payment_intent.succeeded")]
    api_call(client, order_completed("pi_123", 49.0))  # a late API call does not take over
    assert orders(client) == [("stripe", "pi_123", "49", "payment_intent.succeeded")]


def test_declared_shopify_order_shares_the_webhook_key(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    api_call(client, order_completed("820982911946154508", 20.0, order_source="shopify"))
    assert orders(client) == [("shopify", "820982911946154508", "20", "Order Completed")]


def test_own_orders_are_api_orders_and_a_repeat_replaces(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    api_call(client, order_completed("A-1001", 10.0))
    api_call(client, order_completed("A-1001", 12.5))  # corrected total, new messageId
    assert orders(client) == [("api", "A-1001", "12.5", "Order Completed")]
    api_call(
        client,
        {
            "event": "Order Refunded",
            "userId": "u1",
            "messageId": "r1",
            "timestamp": "2026-11-06T10:00:00Z",
            "properties": {"order_id": "A-1001", "total": 2.5},
        },
    )
    api_call(
        client,
        {
            "event": "Order Refunded",
            "userId": "u1",
            "messageId": "r2",
            "timestamp": "2026-11-06T10:00:00Z",
            "properties": {"order_id": "pi_123", "total": 2.5},
        },
    )
    refunds = client.query("SELECT source, order_id, toString(amount) FROM refunds FINAL").result_rows
    assert refunds == [("api", "A-1001", "2.5")]
