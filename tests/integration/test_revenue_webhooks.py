"""The webhooks handler end to end in one process: moto (config table, Secrets Manager, SQS,
Powertools idempotency records), then the loader's batch into the embedded ClickHouse, then the
revenue report. Payloads are signed as the providers sign them (revenue_payloads)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from types import ModuleType
from typing import Any

import boto3
import pytest
from revenue_payloads import (
    SHOPIFY_SECRET,
    STRIPE_SECRET,
    charge,
    checkout_session,
    customer,
    invoice,
    payment_intent,
    refund,
    shopify_headers,
    shopify_order,
    shopify_refund,
    stripe_body,
    stripe_event,
    stripe_signature,
)
from webhook_client import Client, drain, queued, scalar

from helpers import TABLE, load_handler_module
from touchline.aws import clients
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.tokens import TokenStore
from touchline.reports import engine_runner
from touchline.reports.revenue import revenue_report
from touchline.revenue import service
from touchline.warehouse.client import connect


@pytest.fixture
def site(aws: dict[str, str]) -> str:
    dynamodb = boto3.client("dynamodb")
    site_id = SiteStore(dynamodb, TABLE).add("shop.example.com").site_id
    secrets = boto3.client("secretsmanager")
    IntegrationStore(dynamodb, TABLE).add(site_id, "stripe", STRIPE_SECRET, secrets)
    IntegrationStore(dynamodb, TABLE).add(site_id, "shopify", SHOPIFY_SECRET, secrets)
    return site_id


@pytest.fixture
def app(site: str) -> Iterator[ModuleType]:
    clients.secretsmanager.cache_clear()
    service.intake.cache_clear()
    service.deduper.cache_clear()
    yield load_handler_module("webhooks")
    service.intake.cache_clear()
    service.deduper.cache_clear()
    clients.secretsmanager.cache_clear()


@pytest.fixture
def client(app: ModuleType, site: str) -> Client:
    return Client(app, site)


def test_three_event_types_and_five_redeliveries_count_once(
    client: Client, aws: dict[str, str], warehouse_url: str
) -> None:
    session = stripe_event("checkout.session.completed", checkout_session(amount=4999, visitor="v-1"))
    intent = stripe_event("payment_intent.succeeded", payment_intent(amount=4999))
    charged = stripe_event("charge.succeeded", charge(amount=4999, refunded=0))
    for event in (session, intent, charged):
        status, body = client.stripe(event)
        assert status == 200 and body["ok"], body
    for _ in range(5):
        status, body = client.stripe(session)
        assert (status, body.get("duplicate")) == (200, True)
    drain(aws, warehouse_url)
    assert scalar(warehouse_url, "SELECT count() FROM orders FINAL") == 1
    assert scalar(warehouse_url, "SELECT toString(sum(amount)) FROM orders FINAL") == "49.99"
    # The session's row won (it has the visitor), whatever order the rows were inserted in.
    assert scalar(warehouse_url, "SELECT visitor_id FROM orders FINAL") == "v-1"


def test_subscription_through_session_invoice_and_payment_intent_counts_once(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    events = [
        stripe_event(
            "payment_intent.succeeded", payment_intent(pid="pi_sub", amount=4900, invoice="in_1Invoice0001")
        ),
        stripe_event("invoice.paid", invoice(amount=4900, payment_intent="pi_sub")),
        stripe_event(
            "checkout.session.completed",
            checkout_session(
                amount=4900,
                payment_intent=None,
                mode="subscription",
                invoice="in_1Invoice0001",
                subscription="sub_1Subscription01",
                visitor="v-sub",
            ),
        ),
    ]
    for event in events:
        assert client.stripe(event)[0] == 200
    drain(aws, warehouse_url)
    report = revenue_report(engine_runner(connect(warehouse_url)), site)
    [usd] = report.currencies
    assert (usd.orders, usd.gross, usd.linked_orders) == (1, Decimal("49.00"), 1)


def test_basil_payment_intent_without_invoice_is_not_counted_twice(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    paid = invoice(amount=4900)
    del paid["payment_intent"]
    paid["payments"] = {"data": [{"payment": {"type": "payment_intent", "payment_intent": "pi_basil"}}]}
    assert (
        client.stripe(stripe_event("payment_intent.succeeded", payment_intent(pid="pi_basil", amount=4900)))[
            0
        ]
        == 200
    )
    assert client.stripe(stripe_event("invoice.paid", paid))[0] == 200
    drain(aws, warehouse_url)
    assert scalar(warehouse_url, "SELECT count() FROM orders FINAL") == 2  # both rows are kept…
    [usd] = revenue_report(engine_runner(connect(warehouse_url)), site).currencies
    assert (usd.orders, usd.gross) == (1, Decimal("49.00"))  # …and counted once


def test_amounts_to_the_cent_in_three_currencies_and_a_partial_refund(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    for pid, amount, currency in [("pi_usd", 1999, "usd"), ("pi_jpy", 1500, "jpy"), ("pi_kwd", 12345, "kwd")]:
        event = stripe_event(
            "payment_intent.succeeded", payment_intent(pid=pid, amount=amount, currency=currency)
        )
        assert client.stripe(event)[0] == 200
    # A partial refund of the USD payment, reported both as refund.created and charge.refunded.
    partial = refund(rid="re_1", amount=500, charge_id="ch_usd", payment_intent="pi_usd")
    assert client.stripe(stripe_event("refund.created", partial))[0] == 200
    refunded_charge = charge(cid="ch_usd", amount=1999, refunded=500, payment_intent="pi_usd")
    assert client.stripe(stripe_event("charge.refunded", refunded_charge))[0] == 200
    drain(aws, warehouse_url)
    rows = (
        connect(warehouse_url)
        .query("SELECT currency, toString(amount) FROM orders FINAL ORDER BY currency")
        .result_rows
    )
    assert [(c, Decimal(a)) for c, a in rows] == [
        ("JPY", Decimal(1500)),
        ("KWD", Decimal("12.345")),
        ("USD", Decimal("19.99")),
    ]
    report = {c.currency: c for c in revenue_report(engine_runner(connect(warehouse_url)), site).currencies}
    assert (report["USD"].gross, report["USD"].refunds, report["USD"].net) == (
        Decimal("19.99"),
        Decimal("5.00"),
        Decimal("14.99"),
    )
    assert (report["JPY"].net, report["KWD"].net) == (Decimal(1500), Decimal("12.345"))
    assert (
        json.loads(revenue_report(engine_runner(connect(warehouse_url)), site).to_json())["currencies"][1][
            "gross"
        ]
        == "12.345"
    )


@pytest.mark.parametrize(
    ("headers_for", "status", "code"),
    [
        (
            lambda body: {"Stripe-Signature": stripe_signature(body, secret="whsec_forged")},
            401,
            "invalid_signature",
        ),
        (lambda body: {}, 401, "invalid_signature"),
        (
            lambda body: {"Stripe-Signature": stripe_signature(body, timestamp=1_700_000_000)},
            401,
            "stale_timestamp",
        ),
        (lambda body: {"Stripe-Signature": "t=1,v1=deadbeef"}, 401, "invalid_signature"),
    ],
)
def test_bad_stripe_deliveries_store_nothing(
    client: Client, aws: dict[str, str], headers_for: Any, status: int, code: str
) -> None:
    body = stripe_body(stripe_event("payment_intent.succeeded", payment_intent(amount=100)))
    got, answer = client.post(f"/webhooks/stripe/{client.site_id}", body, headers_for(body))
    assert (got, answer["error"]["code"]) == (status, code)
    assert queued(aws) == 0


def test_signed_body_that_is_not_json_unknown_site_and_no_integration(
    client: Client, aws: dict[str, str]
) -> None:
    body = b"this is not json"
    got, answer = client.post(
        f"/webhooks/stripe/{client.site_id}", body, {"Stripe-Signature": stripe_signature(body)}
    )
    assert (got, answer["error"]["code"]) == (400, "invalid_json")
    good = stripe_body(stripe_event("payment_intent.succeeded", payment_intent(amount=100)))
    got, answer = client.post(
        "/webhooks/stripe/nosuchsite", good, {"Stripe-Signature": stripe_signature(good)}
    )
    assert (got, answer["error"]["code"]) == (404, "unknown_site")
    other = SiteStore(boto3.client("dynamodb"), TABLE).add("other.example.com").site_id
    got, answer = client.post(f"/webhooks/stripe/{other}", good, {"Stripe-Signature": stripe_signature(good)})
    assert (got, answer["error"]["code"]) == (404, "integration_not_configured")
    assert queued(aws) == 0


def test_other_stripe_event_types_are_acknowledged_and_ignored(client: Client, aws: dict[str, str]) -> None:
    status, body = client.stripe(stripe_event("product.created", {"id": "prod_1", "object": "product"}))
    assert (status, body) == (200, {"ok": True, "ignored": "product.created"})
    assert queued(aws) == 0


def test_shopify_order_refund_and_redelivery(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    assert (
        client.shopify(
            "orders/create", shopify_order(financial_status="pending", updated_at="2026-11-17T10:00:00-05:00")
        )[0]
        == 200
    )
    answers = [
        client.shopify("orders/paid", shopify_order(visitor="v-shop"), webhook_id="wh-1") for _ in range(5)
    ]
    assert [status for status, _ in answers] == [200] * 5
    assert [body.get("duplicate", False) for _, body in answers] == [False, True, True, True, True]
    assert client.shopify("refunds/create", shopify_refund())[0] == 200
    order_after_refund = shopify_order(
        visitor="v-shop",
        financial_status="partially_refunded",
        updated_at="2026-11-18T09:00:01-05:00",
        refunds=[shopify_refund()],
    )
    assert client.shopify("orders/updated", order_after_refund)[0] == 200
    drain(aws, warehouse_url)
    assert scalar(warehouse_url, "SELECT count() FROM orders FINAL") == 1
    assert scalar(warehouse_url, "SELECT count() FROM order_line_items FINAL") == 1
    assert scalar(warehouse_url, "SELECT visitor_id FROM orders FINAL") == "v-shop"
    [usd] = revenue_report(engine_runner(connect(warehouse_url)), site).currencies
    assert (usd.orders, usd.gross, usd.refunds, usd.net) == (
        1,
        Decimal("199.65"),
        Decimal("41.94"),
        Decimal("157.71"),
    )


def test_forged_shopify_webhook_stores_nothing(client: Client, aws: dict[str, str]) -> None:
    body = json.dumps(shopify_order()).encode()
    headers = shopify_headers(body, "orders/paid", secret="not-the-app-secret")
    got, answer = client.post(f"/webhooks/shopify/{client.site_id}", body, headers)
    assert (got, answer["error"]["code"]) == (401, "invalid_signature")
    assert queued(aws) == 0


def test_payments_api_token_idempotency_and_unattributed_orders(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    token, _ = TokenStore(boto3.client("dynamodb"), TABLE).create(site)
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    paid = json.dumps(
        {"amount": 29.99, "currency": "EUR", "transaction_id": "tx_1", "visitor_id": "v-api"}
    ).encode()
    unlinked = json.dumps({"amount": "10.00", "currency": "EUR", "transaction_id": "tx_2"}).encode()
    for _ in range(3):
        assert client.post("/api/v1/payments", paid, auth)[0] == 200
    assert client.post("/api/v1/payments", unlinked, auth)[0] == 200
    refunded = json.dumps(
        {"amount": "10.00", "currency": "EUR", "transaction_id": "tx_2", "refunded": True}
    ).encode()
    assert client.post("/api/v1/payments", refunded, auth)[0] == 200
    status, answer = client.post("/api/v1/payments", paid, {"Authorization": "Bearer tl_wrong"})
    assert (status, answer["error"]["code"]) == (401, "unauthorized")
    # Issue 13: a revoked token is refused (this test's cache time is 0), and stores nothing.
    revoked, record = TokenStore(boto3.client("dynamodb"), TABLE).create(site)
    revoked_auth = {**auth, "Authorization": f"Bearer {revoked}"}
    assert client.post("/api/v1/payments", unlinked, revoked_auth)[0] == 200
    TokenStore(boto3.client("dynamodb"), TABLE).revoke(record.token_id)
    late = json.dumps({"amount": "5.00", "currency": "EUR", "transaction_id": "tx_late"}).encode()
    status, answer = client.post("/api/v1/payments", late, revoked_auth)
    assert (status, answer["error"]["code"]) == (401, "unauthorized")
    status, answer = client.post(
        "/api/v1/payments", b'{"amount": 1.5, "currency": "JPY", "transaction_id": "x"}', auth
    )
    assert (status, answer["error"]["code"]) == (400, "invalid_payment")
    drain(aws, warehouse_url)
    [eur] = revenue_report(engine_runner(connect(warehouse_url)), site).currencies
    assert (eur.orders, eur.gross, eur.refunds, eur.net) == (
        2,
        Decimal("39.99"),
        Decimal("10.00"),
        Decimal("29.99"),
    )
    assert (eur.linked_orders, eur.unattributed_orders, eur.linked_revenue) == (1, 1, Decimal("29.99"))


def test_order_linked_through_identity_links_counts_as_linked(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    """No visitor on the payment, but the customer was linked to a visitor earlier (customer.created
    with the visitor in its metadata): two hops, visitor ↔ customer ↔ email."""
    assert client.stripe(stripe_event("customer.created", customer(visitor="v-known")))[0] == 200
    session = checkout_session(amount=2500, customer=None, email="Jenny.Rosen@example.com")
    assert client.stripe(stripe_event("checkout.session.completed", session))[0] == 200
    drain(aws, warehouse_url)
    assert scalar(warehouse_url, "SELECT visitor_id FROM orders FINAL") == ""
    [usd] = revenue_report(engine_runner(connect(warehouse_url)), site).currencies
    assert (usd.orders, usd.linked_orders) == (1, 1)
