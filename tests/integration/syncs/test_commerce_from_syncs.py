"""Orders synced from Klaviyo (Shopify-origin and API-integration Placed Order), HubSpot won deals
and the Shopify Admin API reach every commerce table, with Klaviyo's campaign and flow statistics
in the daily rollups and the Shopify catalogue's vendor and type on the products (docs/commerce.md).
The webhooks and the payments API are tests/integration/test_commerce_handler.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from fakes.harness import SITE, SyncHarness
from fakes.hubspot import FakeHubSpot
from fakes.klaviyo import Campaign, Event, FakeKlaviyo, add_orders, api_placed_order
from fakes.shopify import FakeShopify, customer, order, product
from helpers import TABLE
from touchline.commerce.service import commerce_now
from touchline.syncs.service import run_sync

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=60)
KLAVIYO_ORDERS = 48  # twelve profiles, four orders each
SHOPIFY_ORDERS = 10
WON_DEALS = 6


@pytest.fixture
def klaviyo() -> Iterator[FakeKlaviyo]:
    fake = FakeKlaviyo(api_key="pk_live_secret")
    fake.add_metric("PLACED", "Placed Order", "shopify")
    fake.add_metric("APIORD", "Placed Order", "api")
    add_orders(fake, KLAVIYO_ORDERS, start=START, step=timedelta(hours=26), profiles=12, lines_per_order=2)
    for i in range(12):
        fake.add_profile(f"prof{i}", f"buyer{i}@example.com", START, first_name=f"B{i}")
    item = {"ProductID": "mug", "SKU": "MUG", "ProductName": "Mug", "Quantity": 2, "ItemPrice": 12.5}
    fake.add_event(
        Event("api1", "APIORD", NOW - timedelta(days=2), api_placed_order("A-1", 25.0, [item]), "prof1")
    )
    stats = {"recipients": 1000, "delivered": 980, "opens_unique": 400, "conversion_value": 1234.5}
    fake.tags = {"T1": "autumn", "T2": "sale"}
    fake.campaigns["C1"] = Campaign(
        "C1",
        "Autumn sale",
        "email",
        NOW - timedelta(days=3),
        {"M1": {"name": "Autumn", "stats": stats}},
        tag_ids=["T1", "T2"],
    )
    for day in range(3):
        fake.flow_days.append(
            {
                "flow_id": "F1",
                "flow_message_id": "FM1",
                "flow_name": "Welcome",
                "flow_message_name": "Email 1",
                "send_channel": "email",
                "date": (NOW - timedelta(days=day)).date(),
                "stats": {"recipients": 10, "conversion_value": 5.0},
            }
        )
    with fake.serve():
        yield fake


@pytest.fixture
def hubspot() -> Iterator[FakeHubSpot]:
    fake = FakeHubSpot(token="pat-na1-secret")
    for i in range(WON_DEALS + 2):
        fake.put("contacts", str(1000 + i), START, email=f"lead{i}@example.org", firstname=f"L{i}")
        fake.put(
            "deals",
            str(500 + i),
            START + timedelta(hours=i),
            dealname=f"Deal {i}",
            amount=f"{100 + i}.50",
            deal_currency_code="EUR",
            closedate=(NOW - timedelta(days=10 + i)).strftime("%Y-%m-%dT12:00:00.000Z"),
            dealstage="closedwon" if i < WON_DEALS else "closedlost",
            pipeline="default",
        )
        fake.deal_contacts[str(500 + i)] = [1000 + i]
    with fake.serve():
        yield fake


@pytest.fixture
def shopify() -> Iterator[FakeShopify]:
    fake = FakeShopify(token="shpat_secret")
    for i in range(SHOPIFY_ORDERS):
        at = NOW - timedelta(days=20 - i)
        fake.put(
            "orders",
            order(4_000_000 + i, at, lines=2, customer_id=100 + i % 4, email=f"c{i % 4}@example.com"),
        )
    for i in range(4):
        fake.put("customers", customer(100 + i, START, f"c{i}@example.com"))
    for i in range(2):
        fake.put("products", product(700 + i, START))
    with fake.serve():
        yield fake


def test_synced_orders_and_statistics_fill_every_commerce_table(
    harness: SyncHarness, klaviyo: FakeKlaviyo, hubspot: FakeHubSpot, shopify: FakeShopify
) -> None:
    harness.connect("klaviyo", {"api_key": "pk_live_secret"}, klaviyo.base_url)
    harness.connect("hubspot", {"access_token": "pat-na1-secret"}, hubspot.base_url, deals_as_orders=True)
    harness.connect(
        "shopify", {"shop_domain": "example.myshopify.com", "admin_token": "shpat_secret"}, shopify.base_url
    )
    for provider in ("klaviyo", "hubspot", "shopify"):
        assert run_sync(harness.env, SITE, provider).complete, provider

    result = commerce_now(harness.clickhouse, boto3.client("dynamodb"), TABLE, SITE, full=True)
    assert all(job["ran"] for job in result["commerce"][0]["jobs"])

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return harness.rows(sql.replace("{site}", f"'{SITE}'"))

    assert rows("SELECT source, count() FROM orders FINAL GROUP BY source ORDER BY source") == [
        ("hubspot", WON_DEALS),
        ("klaviyo", 1),
        ("shopify", KLAVIYO_ORDERS + SHOPIFY_ORDERS),
    ]
    # Every synced order is some customer's: profiles add up to the orders, per currency.
    profiles = rows(
        "SELECT currency, sum(total_orders), sum(total_revenue), count() FROM customer_profiles FINAL "
        "WHERE site_id = {site} GROUP BY currency ORDER BY currency"
    )
    orders = rows(
        "SELECT currency, count(), sum(amount) FROM orders FINAL WHERE site_id = {site} "
        "GROUP BY currency ORDER BY currency"
    )
    assert [p[:3] for p in profiles] == orders
    assert profiles[0][3] == WON_DEALS  # one profile per HubSpot contact with a won deal
    # Klaviyo's profiles are people: prof1 has four Shopify-origin orders and the API one.
    assert rows("SELECT max(total_orders) FROM customer_profiles FINAL WHERE currency = 'USD'") == [(5,)]
    assert rows("SELECT status FROM customer_models FINAL ORDER BY currency") == [
        ("too_few_customers",),
        ("too_few_customers",),
    ]

    # Products: the catalogue's vendor and type where it knows the product; Klaviyo's API item.
    catalogued = rows(
        "SELECT brand, category, product_name FROM products_master FINAL WHERE product_id = '700'"
    )
    assert catalogued == [("Acme", "Mugs", "Product 700")]
    sold = rows(
        "SELECT sum(quantity) FROM order_line_items FINAL WHERE site_id = {site} AND product_id = '700'"
    )
    assert rows("SELECT quantity_sold_total FROM products_master FINAL WHERE product_id = '700'") == sold
    assert rows(
        "SELECT quantity_sold_total, revenue_total FROM products_master FINAL WHERE product_id = 'mug'"
    ) == [(2, Decimal("25"))]
    assert rows("SELECT count() FROM product_relationships FINAL WHERE site_id = {site}")[0][0] > 0

    # Klaviyo's statistics: the campaign on its send day, flows and campaigns on the USD row.
    sent = (NOW - timedelta(days=3)).date()
    assert rows(
        "SELECT date, send_channel, total_campaigns, total_recipients, total_revenue, top_tags, "
        "tag_performance FROM campaign_daily_aggregates FINAL WHERE site_id = {site}"
    ) == [
        (
            sent,
            "email",
            1,
            1000,
            Decimal("1234.5"),
            ["autumn", "sale"],
            {"autumn": Decimal("1234.5"), "sale": Decimal("1234.5")},
        )
    ]
    usd = rows(
        "SELECT sum(campaign_revenue), sum(flow_revenue), sum(total_emails_sent), sum(total_orders) "
        "FROM account_metrics_daily FINAL WHERE site_id = {site} AND currency = 'USD'"
    )
    assert usd == [(Decimal("1234.5"), Decimal("15"), 1030, KLAVIYO_ORDERS + SHOPIFY_ORDERS + 1)]
    eur = rows(
        "SELECT sum(total_orders), sum(total_revenue), sum(total_emails_sent) "
        "FROM account_metrics_daily FINAL WHERE site_id = {site} AND currency = 'EUR'"
    )
    assert eur == [(WON_DEALS, sum(Decimal(f"{100 + i}.50") for i in range(WON_DEALS)), 0)]
