"""Orders from the newer processors' webhooks (Lemon Squeezy, Polar, Paddle Billing, with their
published payloads) reach the commerce tables: their customers' profiles net of refunds, and
Paddle's line items as products. Stripe, Shopify and the payments API:
tests/integration/test_commerce_handler.py; the syncs: tests/integration/syncs/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from provider_samples import (
    LEMONSQUEEZY_SECRET,
    PADDLE_SECRET,
    POLAR_SECRET,
    lemonsqueezy,
    lemonsqueezy_headers,
    paddle,
    paddle_headers,
    polar,
    polar_headers,
)
from webhook_client import Client, drain

from helpers import TABLE, load_handler_module
from touchline.aws import clients
from touchline.commerce.service import commerce_now
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.revenue import service
from touchline.warehouse.client import connect


@pytest.fixture
def client(aws: dict[str, str]) -> Iterator[Client]:
    dynamodb = boto3.client("dynamodb")
    site_id = SiteStore(dynamodb, TABLE).add("shop.example.com").site_id
    store = IntegrationStore(dynamodb, TABLE)
    for provider, secret in (
        ("lemonsqueezy", LEMONSQUEEZY_SECRET),
        ("polar", POLAR_SECRET),
        ("paddle", PADDLE_SECRET),
    ):
        store.add(site_id, provider, secret, boto3.client("secretsmanager"))  # type: ignore[arg-type]
    clients.secretsmanager.cache_clear()
    service.intake.cache_clear()
    service.deduper.cache_clear()
    yield Client(load_handler_module("webhooks"), site_id)
    service.intake.cache_clear()
    service.deduper.cache_clear()


def test_processor_orders_fill_profiles_and_products(
    client: Client, aws: dict[str, str], warehouse_url: str
) -> None:
    site = client.site_id
    deliveries: list[tuple[str, bytes, dict[str, str]]] = []
    for name in ("order_created", "order_refunded"):
        payload = lemonsqueezy(name)
        body = json.dumps(payload).encode()
        deliveries.append(("lemonsqueezy", body, lemonsqueezy_headers(body, payload["meta"]["event_name"])))
    for name in ("order.paid", "order.refunded"):
        body = json.dumps(polar(name)).encode()
        deliveries.append(("polar", body, polar_headers(body, f"msg_{name}")))
    completed = paddle("transaction.completed", custom_data={"touchline_visitor_id": "v-paddle"})
    adjustment = paddle("adjustment.created", transaction_id=completed["data"]["id"], status="approved")
    for notification in (completed, adjustment):
        body = json.dumps(notification).encode()
        deliveries.append(("paddle", body, paddle_headers(body)))
    for provider, body, headers in deliveries:
        status, answer = client.post(f"/webhooks/{provider}/{site}", body, headers)
        assert status == 200, answer
    drain(aws, warehouse_url)

    result = commerce_now(connect(warehouse_url), boto3.client("dynamodb"), TABLE, site, full=True)
    assert all(job["ran"] for job in result["commerce"][0]["jobs"])
    warehouse = connect(warehouse_url)

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in warehouse.query(sql, parameters={"site": site}).result_rows]

    assert rows("SELECT DISTINCT source FROM orders FINAL ORDER BY source") == [
        ("lemonsqueezy",),
        ("paddle",),
        ("polar",),
    ]
    # What each customer paid and got back equals the revenue report's rule (one order per
    # payment, refunds capped at the order): the profiles add up to the site's net revenue.
    net = rows(
        "SELECT currency, count(), sum(amount), sum(refunded) FROM ("
        "  SELECT o.currency AS currency, o.amount AS amount,"
        "         least(o.amount, ifNull(r.refunded, 0)) AS refunded"
        "  FROM (SELECT * FROM orders FINAL WHERE site_id = %(site)s AND status = 'paid') AS o"
        "  LEFT JOIN (SELECT source, order_id, max(amount) AS refunded FROM refunds FINAL"
        "             WHERE site_id = %(site)s GROUP BY source, order_id) AS r"
        "      ON r.source = o.source AND r.order_id = o.order_id)"
        " GROUP BY currency ORDER BY currency"
    )
    profiles = rows(
        "SELECT currency, sum(total_orders), sum(total_revenue), sum(total_refunds) "
        "FROM customer_profiles FINAL WHERE site_id = %(site)s GROUP BY currency ORDER BY currency"
    )
    assert profiles == net
    assert sum(r[3] for r in profiles) > Decimal(0)  # the three refunds are in
    # Paddle's three line items are products (the others send none).
    assert rows("SELECT count() FROM order_line_items FINAL WHERE source = 'paddle'") == [(3,)]
    products = rows(
        "SELECT sum(quantity_sold_total), sum(revenue_total) FROM products_master FINAL "
        "WHERE site_id = %(site)s"
    )
    lines = rows("SELECT sum(quantity), sum(line_total) FROM order_line_items FINAL WHERE site_id = %(site)s")
    assert products == lines
    assert rows("SELECT count() FROM account_metrics_daily FINAL WHERE site_id = %(site)s")[0][0] >= 1
