"""Shopify topics and the payments API → rows; Shopify's HMAC."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import TypeVar

import pytest
from pydantic import ValidationError
from revenue_payloads import SHOPIFY_SECRET, shopify_headers, shopify_order, shopify_refund

from touchline.envelope import Row
from touchline.identity.rows import IdentityLinkRow
from touchline.revenue import payments_api, shopify_events
from touchline.revenue.rows import OrderRow, RefundRow
from touchline.revenue.translation import Translation

SITE = "site1"
RowT = TypeVar("RowT", bound=Row)


def only(translation: Translation, table: str, model: type[RowT]) -> list[RowT]:
    found = [row for name, row in translation.rows if name == table]
    assert all(isinstance(row, model) for row in found)
    return [row for row in found if isinstance(row, model)]


NOW = datetime(2026, 11, 20, tzinfo=UTC)


def test_hmac_is_checked_on_the_raw_body() -> None:
    body = json.dumps(shopify_order()).encode()
    header = shopify_headers(body, "orders/create")["X-Shopify-Hmac-Sha256"]
    assert shopify_events.signature_matches(body, header, SHOPIFY_SECRET)
    assert not shopify_events.signature_matches(body + b" ", header, SHOPIFY_SECRET)
    assert not shopify_events.signature_matches(body, header, "another-secret")
    assert not shopify_events.signature_matches(body, None, SHOPIFY_SECRET)


def test_order_with_visitor_attribute_line_items_and_sites() -> None:
    translation = shopify_events.translate(SITE, "orders/paid", shopify_order(visitor="v-shop"))
    [order] = only(translation, "orders", OrderRow)
    assert order.order_id == "820982911946154508" and order.source == "shopify"
    assert (order.amount, order.currency, order.status) == (Decimal("199.65"), "USD", "paid")
    assert order.visitor_id == "v-shop"
    assert order.landing_site.startswith("/products/wool-socks")
    assert order.referring_site == "https://www.google.com/"
    assert translation.count("order_line_items") == 1
    assert translation.count("identity_links") == 3


def test_later_topics_of_the_same_update_win_and_pending_orders_are_not_paid() -> None:
    created = shopify_events.translate(SITE, "orders/create", shopify_order(financial_status="pending"))
    paid = shopify_events.translate(SITE, "orders/paid", shopify_order())
    [a] = only(created, "orders", OrderRow)
    [b] = only(paid, "orders", OrderRow)
    assert a.status == "pending" and b.status == "paid"
    assert b.version > a.version


def test_refund_counts_the_same_through_its_topic_and_inside_the_order() -> None:
    alone = shopify_events.translate(SITE, "refunds/create", shopify_refund())
    inside = shopify_events.translate(SITE, "orders/updated", shopify_order(refunds=[shopify_refund()]))
    [r1] = only(alone, "refunds", RefundRow)
    [r2] = only(inside, "refunds", RefundRow)
    assert r1 == r2
    assert (r1.refund_id, r1.payment_id, r1.amount) == ("929361463", "820982911946154508", Decimal("41.94"))


def test_jpy_order_amounts() -> None:
    translation = shopify_events.translate(SITE, "orders/create", shopify_order(currency="JPY", total="1500"))
    [order] = only(translation, "orders", OrderRow)
    assert (order.amount, order.currency) == (Decimal(1500), "JPY")


def test_customer_topic_links_email_and_customer() -> None:
    translation = shopify_events.translate(
        SITE, "customers/update", {"id": 1, "email": "a@example.com", "updated_at": "2026-11-17T10:00:00Z"}
    )
    [link] = only(translation, "identity_links", IdentityLinkRow)
    assert {link.from_type, link.to_type} == {"email_sha256", "shopify_customer"}
    assert translation.rows == [("identity_links", link)]


def test_payment_api_fields_and_refund() -> None:
    payment = payments_api.PaymentIn.model_validate(
        {
            "amount": 29.99,
            "currency": "usd",
            "transaction_id": "tx_1",
            "datafast_visitor_id": "v-api",
            "email": "a@example.com",
            "customer_id": "u1",
            "renewal": True,
            "refunded": True,
            "timestamp": "2026-11-19T12:00:00Z",
            "name": "ignored",
        }
    )
    translation = payments_api.translate(SITE, payment, NOW)
    [order] = only(translation, "orders", OrderRow)
    [refund] = only(translation, "refunds", RefundRow)
    assert (order.amount, order.currency, order.visitor_id, order.renewal) == (
        Decimal("29.99"),
        "USD",
        "v-api",
        1,
    )
    assert (refund.kind, refund.amount, refund.is_deleted) == ("cumulative", Decimal("29.99"), 0)


@pytest.mark.parametrize(
    "body",
    [
        {"amount": "1.5", "currency": "JPY", "transaction_id": "t"},
        {"amount": -5, "currency": "USD", "transaction_id": "t"},
        {"amount": 5, "currency": "DOLLARS", "transaction_id": "t"},
        {"amount": 5, "currency": "USD"},
    ],
)
def test_payment_api_refuses_bad_payments(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        payments_api.PaymentIn.model_validate(body)
