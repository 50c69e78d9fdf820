"""One Shopify order seen by three producers — the Shopify webhook, the Shopify Admin sync and
Klaviyo's Placed Order event — counts once, with Shopify's own data winning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes.harness import SITE, SyncHarness
from fakes.klaviyo import Event, FakeKlaviyo, shopify_placed_order
from fakes.shopify import FakeShopify, order
from touchline.load.batch import dedup_token
from touchline.revenue import shopify_events
from touchline.syncs.service import run_sync

AT = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)
ORDER_ID = 4_400_000


def klaviyo_with(record: dict[str, object]) -> FakeKlaviyo:
    fake = FakeKlaviyo(api_key="pk")
    fake.add_metric("PLACED", "Placed Order", "shopify")
    lines = [
        {
            "id": item["id"],
            "product_id": item["product_id"],
            "variant_id": item["variant_id"],
            "sku": item["sku"],
            "title": item["title"],
            "quantity": item["quantity"],
            "price": item["price"],
        }
        for item in record["line_items"]  # type: ignore[attr-defined]
    ]
    fake.add_event(
        Event("ev1", "PLACED", AT + timedelta(seconds=5), shopify_placed_order(ORDER_ID, AT, lines), "prof1")
    )
    return fake


@pytest.mark.parametrize("klaviyo_first", [True, False])
def test_klaviyo_and_shopify_sync_count_the_order_once(harness: SyncHarness, klaviyo_first: bool) -> None:
    record = order(ORDER_ID, AT, lines=3, customer_id=77, email="buyer@example.com")
    record["updated_at"] = (AT + timedelta(minutes=3)).isoformat()
    shopify = FakeShopify(token="t")
    shopify.put("orders", record)
    klaviyo = klaviyo_with(record)
    with shopify.serve(), klaviyo.serve():
        harness.connect("shopify", {"shop_domain": "x.myshopify.com", "admin_token": "t"}, shopify.base_url)
        harness.connect("klaviyo", {"api_key": "pk"}, klaviyo.base_url)
        for provider in ["klaviyo", "shopify"] if klaviyo_first else ["shopify", "klaviyo"]:
            assert run_sync(harness.env, SITE, provider).complete
    rows = harness.rows("SELECT source, source_event, amount, customer_id_type FROM orders FINAL")
    assert rows == [("shopify", "orders/updated", Decimal(record["total_price"]), "shopify_customer")]
    assert harness.scalar("SELECT count() FROM order_line_items FINAL") == 3
    assert harness.scalar("SELECT count() FROM orders") == 2  # both were stored; FINAL keeps Shopify's


def test_klaviyo_stands_in_until_shopify_data_arrives(harness: SyncHarness) -> None:
    record = order(ORDER_ID, AT, lines=2, customer_id=77, email="buyer@example.com")
    klaviyo = klaviyo_with(record)
    with klaviyo.serve():
        harness.connect("klaviyo", {"api_key": "pk"}, klaviyo.base_url)
        run_sync(harness.env, SITE, "klaviyo")
    assert harness.rows("SELECT source, source_event FROM orders FINAL") == [
        ("shopify", "klaviyo:Placed Order")
    ]
    webhook = shopify_events.translate(SITE, "orders/create", record)
    for table in ("orders", "order_line_items"):
        rows = [row.to_json() for name, row in webhook.rows if name == table]
        harness.env.sink.insert_rows(table, rows, dedup_token(rows))
    assert harness.rows("SELECT source, source_event FROM orders FINAL") == [("shopify", "orders/create")]
    assert harness.scalar("SELECT count() FROM order_line_items FINAL") == 2
