"""Shopify Admin sync against a fake Admin REST API (tests/fakes/shopify.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from fakes.harness import SITE, SyncHarness
from fakes.shopify import FakeShopify, customer, order, product
from touchline.load.batch import dedup_token
from touchline.revenue import shopify_events
from touchline.syncs.deadline import Deadline
from touchline.syncs.service import run_sync
from touchline.syncs.state import Checkpoint

START = datetime(2026, 6, 1, tzinfo=UTC)
TOKEN = "shpat_secret"


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify(token=TOKEN)
    for i in range(600):
        fake.put(
            "orders",
            order(
                4_000_000 + i,
                START + timedelta(minutes=i),
                lines=2,
                customer_id=100 + i % 50,
                email=f"c{i % 50}@example.com",
                refunded="5.00" if i % 100 == 0 else None,
            ),
        )
    fake.put("orders", {**order(3_999_999, START, 1), "closed_at": "2026-06-02T00:00:00+00:00"})
    for i in range(50):
        fake.put("customers", customer(100 + i, START + timedelta(hours=i), f"C{i}@Example.com"))
    for i in range(30):
        fake.put("products", product(700 + i, START))
    with fake.serve():
        yield fake
    # Every request the sync sent is one the provider's published API document accepts.
    assert fake.refusals == [], fake.refusals


def after_requests(fake: FakeShopify, count: int) -> Deadline:
    """A deadline that passes once the fake has answered `count` requests."""
    return Deadline(lambda: 1.0 if len(fake.served) < count else -1.0)


def connect(harness: SyncHarness, fake: FakeShopify, token: str = TOKEN) -> None:
    harness.connect("shopify", {"shop_domain": "example.myshopify.com", "admin_token": token}, fake.base_url)


def expected(fake: FakeShopify) -> tuple[int, Decimal, int, Decimal]:
    orders = fake.records["orders"].values()
    refunds = [r for o in orders for r in o["refunds"]]
    return (
        len(orders),
        sum((Decimal(o["total_price"]) for o in orders), Decimal(0)),
        sum(len(o["line_items"]) for o in orders),
        sum((Decimal(t["amount"]) for r in refunds for t in r["transactions"]), Decimal(0)),
    )


def stored(harness: SyncHarness) -> tuple[int, Decimal, int, Decimal]:
    count, amount = harness.rows("SELECT count(), sum(amount) FROM orders FINAL WHERE source = 'shopify'")[0]
    lines = harness.scalar("SELECT count() FROM order_line_items FINAL WHERE source = 'shopify'")
    refunded = harness.scalar("SELECT sum(amount) FROM refunds FINAL WHERE source = 'shopify'")
    return int(count), Decimal(amount), int(lines), Decimal(refunded)


def test_full_sync_equals_the_fakes_data(harness: SyncHarness, shopify: FakeShopify) -> None:
    connect(harness, shopify)
    report = run_sync(harness.env, SITE, "shopify")
    assert report.complete, report.summary()
    assert stored(harness) == expected(shopify)
    # status=any: the closed order is there too; pages of 250 followed through Link headers.
    assert harness.scalar("SELECT count() FROM orders FINAL WHERE order_id = '3999999'") == 1
    assert any("page_info" in "".join(r.query) for r in shopify.served)
    assert harness.scalar("SELECT count() FROM integration_customers FINAL WHERE source = 'shopify'") == 50
    links = (
        "SELECT count() FROM identity_links FINAL "
        "WHERE to_type = 'shopify_customer' AND from_type = 'email_sha256'"
    )
    assert harness.scalar(links) == 50
    assert harness.rows(
        "SELECT tags, skus, min_price, max_price FROM products FINAL WHERE product_id = '700'"
    ) == [(["new", "sale"], ["P700-0", "P700-1"], Decimal("19.99"), Decimal("24.99"))]
    assert harness.scalar("SELECT count() FROM products FINAL") == 30
    # The bucket header climbed past 80 %: the client paused instead of hitting 429s.
    assert harness.sleeps


def test_incremental_run_fetches_only_changes(harness: SyncHarness, shopify: FakeShopify) -> None:
    connect(harness, shopify)
    run_sync(harness.env, SITE, "shopify")
    later = datetime.now(UTC) + timedelta(minutes=1)
    shopify.touch("orders", 4_000_010, later, financial_status="refunded", total_price="0.00")
    shopify.put("orders", order(5_000_000, later, 3))
    served = len(shopify.served)
    report = run_sync(harness.env, SITE, "shopify")
    assert report.streams["orders"].records == 2
    assert report.streams["customers"].records == 0
    requests = shopify.served[served:]
    assert all(r.arg("updated_at_min") for r in requests if not r.path.endswith("shop.json"))
    assert stored(harness) == expected(shopify)
    assert harness.rows("SELECT source_status, amount FROM orders FINAL WHERE order_id = '4000010'") == [
        ("refunded", Decimal("0"))
    ]


def test_throttling_and_errors_lose_nothing(harness: SyncHarness, shopify: FakeShopify) -> None:
    shopify.faults.rate_limit_every = 4
    shopify.faults.error_every = 5
    connect(harness, shopify)
    assert run_sync(harness.env, SITE, "shopify").complete
    assert stored(harness) == expected(shopify)
    assert 2.0 in harness.sleeps


def test_a_record_changing_mid_pass_is_caught(harness: SyncHarness, shopify: FakeShopify) -> None:
    def change(call: int) -> None:
        if call == 4:  # orders page 2 is next; order 4_000_001 (page 1) changes behind the cursor
            shopify.touch("orders", 4_000_001, datetime.now(UTC), total_price="1.00", financial_status="paid")

    shopify.between_calls = change
    connect(harness, shopify)
    run_sync(harness.env, SITE, "shopify")
    shopify.between_calls = None
    run_sync(harness.env, SITE, "shopify")
    assert stored(harness) == expected(shopify)
    assert harness.scalar("SELECT amount FROM orders FINAL WHERE order_id = '4000001'") == Decimal("1")


def test_out_of_time_mid_pass_resumes_from_the_link_cursor(
    harness: SyncHarness, shopify: FakeShopify
) -> None:
    connect(harness, shopify)
    # Out of time once shop.json and two pages of orders were served.
    report = run_sync(harness.env, SITE, "shopify", deadline=after_requests(shopify, 3))
    assert report.stopped
    state = harness.env.state.load(SITE, "shopify")["orders"]
    assert state.watermark is None and state.position and "page_info" in state.position["cursor"]
    served = len(shopify.served)
    assert run_sync(harness.env, SITE, "shopify").complete
    # Streams never attempted go first now (fair order); the orders pass then resumes, not restarts.
    first = next(r for r in shopify.served[served:] if r.path.endswith("/orders.json"))
    assert first.arg("page_info")
    assert stored(harness) == expected(shopify)


def test_a_stale_cursor_restarts_the_pass(harness: SyncHarness, shopify: FakeShopify) -> None:
    connect(harness, shopify)
    run_sync(harness.env, SITE, "shopify", deadline=after_requests(shopify, 3))
    state = harness.env.state.load(SITE, "shopify")["orders"]
    assert state.position is not None
    expired = re.sub(r"page_info=[^&]+", "page_info=bm90LWpzb24", state.position["cursor"])
    stale = Checkpoint(position={**state.position, "cursor": expired})
    harness.env.state.save(SITE, "shopify", "orders", stale, 0)
    answered = len(shopify.statuses)
    assert run_sync(harness.env, SITE, "shopify").complete
    assert 400 in shopify.statuses[answered:]
    assert stored(harness) == expected(shopify)


def test_webhook_and_sync_count_an_order_once(harness: SyncHarness, shopify: FakeShopify) -> None:
    record = shopify.records["orders"][4_000_005]
    webhook = shopify_events.translate(SITE, "orders/paid", record)
    for table in ("orders", "order_line_items"):
        rows = [row.to_json() for name, row in webhook.rows if name == table]
        harness.env.sink.insert_rows(table, rows, dedup_token(rows))
    connect(harness, shopify)
    run_sync(harness.env, SITE, "shopify")
    assert harness.scalar("SELECT count() FROM orders FINAL WHERE order_id = '4000005'") == 1
    assert harness.scalar("SELECT count() FROM order_line_items FINAL WHERE order_id = '4000005'") == 2
    assert stored(harness) == expected(shopify)


def test_revoked_token_fails_clearly_and_keeps_watermarks(harness: SyncHarness, shopify: FakeShopify) -> None:
    connect(harness, shopify)
    run_sync(harness.env, SITE, "shopify")
    before = harness.env.state.load(SITE, "shopify")
    shopify.token = "shpat_rotated"
    report = run_sync(harness.env, SITE, "shopify")
    assert "HTTP 401" in report.error and "Invalid API key or access token" in report.error
    integration = harness.env.integrations.get(SITE, "shopify")
    assert integration is not None and integration.status == "failing"
    assert harness.env.state.load(SITE, "shopify") == before
