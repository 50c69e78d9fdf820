"""The revenue intake against what the providers publish (tests/payloads, sources in its README):
Stripe's OpenAPI fixtures at 2020-08-27 and 2026-07-29.dahlia, Shopify's webhook samples (and a
multi-currency shop), Lemon Squeezy's, Polar's and Paddle's documented objects.

Every scenario is delivered five times over, in a shuffled order, through the real handler (moto)
and the loader into the embedded ClickHouse; the report's gross/refunds/net per currency must
equal what the payloads say, computed here from the payload fields themselves.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
from provider_samples import (
    LEMONSQUEEZY_SECRET,
    PADDLE_SECRET,
    POLAR_SECRET,
    STRIPE_NEW,
    STRIPE_OLD,
    lemonsqueezy,
    lemonsqueezy_headers,
    paddle,
    paddle_headers,
    polar,
    polar_headers,
    shopify,
    shopify_headers,
    shopify_multicurrency_order,
    shopify_paid_order,
    shopify_refund_of,
    stripe_fixture_event,
    stripe_invoice_payment,
    stripe_object,
    stripe_paid_invoice,
    stripe_paid_session,
    stripe_refunded_charge,
    stripe_succeeded_intent,
)
from revenue_payloads import SHOPIFY_SECRET, STRIPE_SECRET, stripe_body, stripe_signature
from webhook_client import Client, drain, queued

from helpers import TABLE, load_handler_module
from touchline.aws import clients
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.reports import engine_runner
from touchline.reports.revenue import CurrencyRevenue, revenue_report
from touchline.revenue import service
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate

Delivery = Callable[[], tuple[int, dict[str, Any]]]


@pytest.fixture(scope="module")
def shared_database(chdb_path: Path) -> str:
    """One migrated database for the module (a migration per test was most of its time)."""
    url = f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"
    migrate(connect(url))
    return url


@pytest.fixture
def warehouse_url(shared_database: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", shared_database)
    return shared_database


@pytest.fixture
def site(aws: dict[str, str]) -> str:
    dynamodb = boto3.client("dynamodb")
    site_id = SiteStore(dynamodb, TABLE).add("shop.example.com").site_id
    secrets = boto3.client("secretsmanager")
    store = IntegrationStore(dynamodb, TABLE)
    for provider, secret in [
        ("stripe", STRIPE_SECRET),
        ("shopify", SHOPIFY_SECRET),
        ("lemonsqueezy", LEMONSQUEEZY_SECRET),
        ("polar", POLAR_SECRET),
        ("paddle", PADDLE_SECRET),
    ]:
        store.add(site_id, provider, secret, secrets)  # type: ignore[arg-type]
    return site_id


@pytest.fixture
def client(site: str) -> Iterator[Client]:
    clients.secretsmanager.cache_clear()
    service.intake.cache_clear()
    service.deduper.cache_clear()
    yield Client(load_handler_module("webhooks"), site)
    service.intake.cache_clear()
    service.deduper.cache_clear()


def deliver_all(deliveries: list[Delivery], *, seed: int) -> None:
    """Each delivery five times (a provider's retries), all of them in a shuffled order."""
    attempts = [d for d in deliveries for _ in range(5)]
    random.Random(seed).shuffle(attempts)
    for attempt in attempts:
        status, body = attempt()
        assert status == 200, body


def report(warehouse_url: str, site: str) -> dict[str, CurrencyRevenue]:
    return {c.currency: c for c in revenue_report(engine_runner(connect(warehouse_url)), site).currencies}


def rows(warehouse_url: str, site: str, sql: str) -> list[tuple[Any, ...]]:
    """`sql` names `{site:String}`: the module shares one database, each test has its own site."""
    return [tuple(r) for r in connect(warehouse_url).query(sql, parameters={"site": site}).result_rows]


def cents(value: int | str) -> Decimal:
    return Decimal(value) / 100


# ---------------------------------------------------------------------------- Stripe


def stripe_delivery(client: Client, event: dict[str, Any]) -> Delivery:
    return lambda: client.stripe(event)


@pytest.mark.parametrize("version", [STRIPE_OLD, STRIPE_NEW])
def test_stripe_fixtures_every_listed_event_once_to_the_cent(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str, version: str
) -> None:
    """A Checkout payment (session + its PaymentIntent), an asynchronous one, a subscription
    invoice with its PaymentIntent (and, from basil, its invoice_payment), a partial refund told
    three ways, and customer events: every event type docs/revenue.md lists, at both versions."""
    session = stripe_paid_session(version, amount=4999)
    session_intent = stripe_succeeded_intent(version, amount=4999)
    session_intent["id"] = session["payment_intent"]

    pending = stripe_paid_session(version, amount=2500)
    pending.update(id="cs_test_async", payment_intent="pi_async", payment_status="unpaid")
    settled = {**pending, "payment_status": "paid"}

    invoice_intent = stripe_succeeded_intent(version, amount=1000)
    invoice_intent["id"] = "pi_invoice"
    invoice = stripe_paid_invoice(version, amount=1000, payment_intent="pi_invoice")
    if version == STRIPE_OLD:
        invoice_intent["invoice"] = invoice["id"]

    refund = stripe_object(version, "refund")
    refund.update(amount=700, charge="ch_refunded", payment_intent=session["payment_intent"])
    charge = stripe_refunded_charge(version, refunded=700, payment_intent=session["payment_intent"])
    charge["id"] = "ch_refunded"
    customer = stripe_object(version, "customer")
    customer.update(email="jenny.rosen@example.com", metadata={"touchline_visitor_id": "v-stripe"})

    events = [
        stripe_fixture_event(version, "checkout.session.completed", session),
        stripe_fixture_event(version, "payment_intent.succeeded", session_intent),
        stripe_fixture_event(version, "checkout.session.completed", pending),
        stripe_fixture_event(version, "checkout.session.async_payment_succeeded", settled),
        stripe_fixture_event(version, "payment_intent.succeeded", invoice_intent),
        stripe_fixture_event(version, "invoice.paid", invoice),
        stripe_fixture_event(version, "refund.created", {**refund, "status": "pending"}),
        stripe_fixture_event(version, "refund.updated", refund),
        stripe_fixture_event(version, "charge.refunded", charge),
        stripe_fixture_event(version, "customer.created", customer),
        stripe_fixture_event(version, "customer.updated", customer),
    ]
    if version == STRIPE_NEW:
        paid = stripe_invoice_payment(invoice=invoice["id"], payment_intent="pi_invoice", amount=1000)
        events.append(stripe_fixture_event(version, "invoice_payment.paid", paid))
    deliver_all([stripe_delivery(client, event) for event in events], seed=len(version))
    drain(aws, warehouse_url)

    usd = report(warehouse_url, site)["USD"]
    gross = cents(session["amount_total"]) + cents(settled["amount_total"]) + cents(invoice["amount_paid"])
    assert (usd.orders, usd.gross, usd.refunds) == (3, gross, cents(refund["amount"]))
    assert usd.net == gross - cents(700)
    # The invoice line keeps its unit price on both versions (basil: `pricing.unit_amount_decimal`).
    assert rows(
        warehouse_url,
        site,
        "SELECT toString(unit_price) FROM order_line_items FINAL WHERE site_id = {site:String}",
    ) == [("10",)]
    # The session's `total_details.amount_shipping` is null in Stripe's newest fixture (and the
    # whole `total_details` in the 2020 one): stored from `shipping_cost` when that has it, else 0.
    totals = session.get("total_details") or {}
    expected = totals.get("amount_shipping") or (session.get("shipping_cost") or {}).get("amount_total") or 0
    shipping = rows(
        warehouse_url,
        site,
        "SELECT toString(shipping_amount) FROM orders FINAL "
        f"WHERE site_id = {{site:String}} AND order_id = '{session['payment_intent']}'",
    )
    assert [Decimal(s) for (s,) in shipping] == [cents(expected)]


def test_stripe_nullable_fields_null_at_both_versions(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    """Every field the API reference marks nullable that the intake reads, null, at once."""
    nullable = {
        "checkout.session": [
            "customer",
            "customer_details",
            "customer_email",
            "client_reference_id",
            "metadata",
            "invoice",
            "subscription",
            "total_details",
            "shipping_cost",
        ],
        "invoice": [
            "customer_email",
            "subscription",
            "status_transitions",
            "lines",
            "total_discount_amounts",
        ],
        "payment_intent": ["customer", "receipt_email", "invoice", "metadata"],
    }
    deliveries = []
    for version in (STRIPE_OLD, STRIPE_NEW):
        session = stripe_paid_session(version, amount=1500)
        session.update({field: None for field in nullable["checkout.session"]}, id=f"cs_null_{version}")
        session["payment_intent"] = f"pi_null_session_{version[:4]}"
        invoice = stripe_paid_invoice(version, amount=900, payment_intent=f"pi_null_invoice_{version[:4]}")
        invoice.update({field: None for field in nullable["invoice"] if field in invoice})
        invoice["id"] = f"in_null_{version[:4]}"
        intent = stripe_succeeded_intent(version, amount=300)
        intent.update({field: None for field in nullable["payment_intent"] if field in intent})
        intent["id"] = f"pi_null_{version[:4]}"
        for kind, obj in [
            ("checkout.session.completed", session),
            ("invoice.paid", invoice),
            ("payment_intent.succeeded", intent),
        ]:
            event = stripe_fixture_event(version, kind, obj)
            deliveries.append(stripe_delivery(client, event))
    deliver_all(deliveries, seed=7)
    drain(aws, warehouse_url)
    usd = report(warehouse_url, site)["USD"]
    assert (usd.orders, usd.gross) == (6, 2 * (Decimal("15") + Decimal("9") + Decimal("3")))


def test_basil_invoice_and_its_payment_intent_are_one_order_in_either_order(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    """Issue 11's USD 20.00-for-one-USD-10.00-invoice: the PaymentIntent first or last, once."""
    invoice = stripe_paid_invoice(STRIPE_NEW, amount=1000, payment_intent="pi_basil")
    intent = stripe_succeeded_intent(STRIPE_NEW, amount=1000)
    intent["id"] = "pi_basil"
    paid = stripe_invoice_payment(invoice=invoice["id"], payment_intent="pi_basil", amount=1000)
    events = [
        stripe_fixture_event(STRIPE_NEW, "invoice_payment.paid", paid),
        stripe_fixture_event(STRIPE_NEW, "payment_intent.succeeded", intent),
        stripe_fixture_event(STRIPE_NEW, "invoice.paid", invoice),
    ]
    for event in events:  # the link first, then what it links
        assert client.stripe(event)[0] == 200
    drain(aws, warehouse_url)
    usd = report(warehouse_url, site)["USD"]
    assert (usd.orders, usd.gross) == (1, Decimal("10.00"))
    # Without invoice.paid (not subscribed), the invoice_payment alone stands for the invoice.
    alone = stripe_invoice_payment(invoice="in_alone", payment_intent="pi_alone", amount=500)
    lone_intent = {**intent, "id": "pi_alone", "amount": 500, "amount_received": 500}
    assert client.stripe(stripe_fixture_event(STRIPE_NEW, "payment_intent.succeeded", lone_intent))[0] == 200
    assert client.stripe(stripe_fixture_event(STRIPE_NEW, "invoice_payment.paid", alone))[0] == 200
    drain(aws, warehouse_url)
    usd = report(warehouse_url, site)["USD"]
    assert (usd.orders, usd.gross) == (2, Decimal("15.00"))


# ---------------------------------------------------------------------------- Shopify


def shopify_delivery(client: Client, topic: str, payload: dict[str, Any]) -> Delivery:
    body = json.dumps(payload).encode()
    headers = shopify_headers(body, topic, SHOPIFY_SECRET)  # one webhook id per delivery, kept on retries
    return lambda: client.post(f"/webhooks/shopify/{client.site_id}", body, headers)


def test_shopify_published_samples_once_in_one_currency_per_order(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    sample = shopify("orders_create")  # as published: a cancelled, voided test order
    paid = shopify_paid_order()
    cancelled = shopify_paid_order(
        cancelled_at="2021-12-31T19:05:00-05:00", updated_at="2021-12-31T19:05:00-05:00"
    )
    multi = shopify_multicurrency_order()
    multi["id"] = 820982911946154509
    refund_eur = shopify_refund_of(multi, currency="EUR", amount="50.00")
    refund_null = shopify_refund_of(multi, currency=None, amount="25.00")  # the sample's null currency
    refund_null["id"] = 890088186047892320
    deliveries = [
        shopify_delivery(client, "orders/create", sample),
        shopify_delivery(client, "orders/paid", paid),
        shopify_delivery(client, "orders/updated", paid),
        shopify_delivery(client, "orders/cancelled", cancelled),
        shopify_delivery(client, "orders/paid", multi),
        shopify_delivery(client, "refunds/create", refund_eur),
        shopify_delivery(client, "refunds/create", refund_null),
        shopify_delivery(client, "customers/create", shopify("customers_create")),
    ]
    deliver_all(deliveries, seed=11)
    drain(aws, warehouse_url)

    found = report(warehouse_url, site)
    assert set(found) == {"USD", "EUR"}  # never CAD: the order and its refunds in what the buyer paid
    usd, eur = found["USD"], found["EUR"]
    # The paid sample, later cancelled (captured money still counts; a cancelled, refunded order nets 0).
    assert (usd.orders, usd.gross, usd.refunds) == (1, Decimal(paid["total_price"]), Decimal(0))
    presented = Decimal(multi["total_price_set"]["presentment_money"]["amount"])
    assert (eur.orders, eur.gross, eur.refunds) == (1, presented, Decimal("75.00"))
    assert eur.net == presented - Decimal("75.00")
    [(currency, shop_currency, shop_amount)] = rows(
        warehouse_url,
        site,
        "SELECT currency, shop_currency, toString(shop_amount) FROM orders FINAL "
        f"WHERE site_id = {{site:String}} AND order_id = '{multi['id']}'",
    )
    assert (currency, shop_currency, Decimal(shop_amount)) == ("EUR", "CAD", Decimal(multi["total_price"]))
    [(cancelled_flag, discount, shipping)] = rows(
        warehouse_url,
        site,
        "SELECT cancelled, toString(discount_amount), toString(shipping_amount) FROM orders FINAL "
        f"WHERE site_id = {{site:String}} AND order_id = '{paid['id']}'",
    )
    assert (cancelled_flag, Decimal(discount), Decimal(shipping)) == (1, Decimal("20.00"), Decimal("10.00"))
    assert rows(
        warehouse_url, site, "SELECT count() FROM order_line_items FINAL WHERE site_id = {site:String}"
    ) == [(4,)]


def test_shopify_discounts_taxes_gift_cards_and_a_free_order(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    taxed = shopify_paid_order(id=1001)
    taxed["taxes_included"] = False
    taxed["total_tax"], taxed["total_tax_set"] = "23.88", convert_usd("23.88")
    taxed["total_price"], taxed["total_price_set"] = "411.88", convert_usd("411.88")
    gift = shopify_paid_order(id=1002)
    gift["line_items"] = [{**gift["line_items"][0], "gift_card": True, "requires_shipping": False}]
    gift["total_price"], gift["total_price_set"] = "199.00", convert_usd("199.00")
    free = shopify_paid_order(id=1003)  # a 100% discount: paid, 0.00
    free["total_discounts"], free["total_discounts_set"] = "398.00", convert_usd("398.00")
    free["total_price"], free["total_price_set"] = "0.00", convert_usd("0.00")
    free["subtotal_price"], free["subtotal_price_set"] = "0.00", convert_usd("0.00")
    free["discount_codes"] = [{"code": "FREE100", "amount": "398.00", "type": "percentage"}]
    for item in free["line_items"]:
        item["discount_allocations"] = [
            {"amount": "199.00", "amount_set": convert_usd("199.00"), "discount_application_index": 0}
        ]
    deliver_all([shopify_delivery(client, "orders/paid", order) for order in (taxed, gift, free)], seed=3)
    drain(aws, warehouse_url)
    usd = report(warehouse_url, site)["USD"]
    assert (usd.orders, usd.gross) == (3, Decimal("411.88") + Decimal("199.00") + Decimal("0.00"))
    stored = dict(
        rows(
            warehouse_url,
            site,
            "SELECT order_id, toString(amount) FROM orders FINAL WHERE site_id = {site:String}",
        )
    )
    assert Decimal(stored["1003"]) == Decimal(0)
    free_lines = rows(
        warehouse_url,
        site,
        "SELECT toString(discount_amount), toString(line_total) FROM order_line_items FINAL "
        "WHERE site_id = {site:String} AND order_id = '1003'",
    )
    assert [(Decimal(d), Decimal(t)) for d, t in free_lines] == [(Decimal(199), Decimal(0))] * 2
    [(tax,)] = rows(
        warehouse_url,
        site,
        "SELECT toString(tax_amount) FROM orders FINAL WHERE site_id = {site:String} AND order_id = '1001'",
    )
    assert Decimal(tax) == Decimal("23.88")


def convert_usd(amount: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": amount, "currency_code": "USD"},
        "presentment_money": {"amount": amount, "currency_code": "USD"},
    }


def test_shopify_refund_with_no_currency_anywhere_is_kept_until_the_order_names_it(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    order = shopify_multicurrency_order()
    refund = shopify_refund_of(order, currency=None, amount="30.00")
    for line in refund["refund_line_items"]:
        line.pop("subtotal_set")
    refund.pop("total_duties_set")
    assert shopify_delivery(client, "refunds/create", refund)()[0] == 200
    drain(aws, warehouse_url)
    assert rows(
        warehouse_url,
        site,
        "SELECT currency, toString(amount) FROM refunds FINAL WHERE site_id = {site:String}",
    ) == [("XXX", "30")]
    updated = {**order, "refunds": [refund], "financial_status": "partially_refunded"}
    updated["updated_at"] = "2021-12-31T20:00:00-05:00"
    assert shopify_delivery(client, "orders/updated", updated)()[0] == 200
    drain(aws, warehouse_url)
    assert rows(
        warehouse_url,
        site,
        "SELECT currency, toString(amount) FROM refunds FINAL WHERE site_id = {site:String}",
    ) == [("EUR", "30")]
    assert report(warehouse_url, site)["EUR"].refunds == Decimal("30.00")


# ---------------------------------------------------------------------------- Lemon Squeezy, Polar, Paddle


def processor_delivery(client: Client, provider: str, body: bytes, headers: dict[str, str]) -> Delivery:
    return lambda: client.post(f"/webhooks/{provider}/{client.site_id}", body, headers)


def lemonsqueezy_delivery(client: Client, name: str) -> tuple[Delivery, dict[str, Any]]:
    payload = lemonsqueezy(name)
    body = json.dumps(payload).encode()
    headers = lemonsqueezy_headers(body, payload["meta"]["event_name"])
    return processor_delivery(client, "lemonsqueezy", body, headers), payload


def test_lemonsqueezy_documented_payloads(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    names = [
        "order_created",
        "order_refunded",
        "subscription_payment_success.initial",
        "subscription_payment_success.renewal",
        "subscription_payment_refunded",
    ]
    made = {name: lemonsqueezy_delivery(client, name) for name in names}
    deliver_all([delivery for delivery, _ in made.values()], seed=5)
    drain(aws, warehouse_url)
    order = made["order_created"][1]["data"]["attributes"]
    renewal = made["subscription_payment_success.renewal"][1]["data"]["attributes"]
    refunded = made["order_refunded"][1]["data"]["attributes"]["refunded_amount"]
    refunded += made["subscription_payment_refunded"][1]["data"]["attributes"]["refunded_amount"]
    usd = report(warehouse_url, site)["USD"]
    # The initial invoice is the subscription's order_created: not a second order.
    assert (usd.orders, usd.gross, usd.refunds) == (
        2,
        cents(order["total"]) + cents(renewal["total"]),
        cents(refunded),
    )
    assert rows(warehouse_url, site, "SELECT visitor_id FROM orders FINAL WHERE site_id = {site:String}") == [
        ("v-ls-1",),
        ("v-ls-1",),
    ]


def test_polar_documented_payloads(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    deliveries = []
    for name in ("order.paid", "order.refunded"):
        body = json.dumps(polar(name)).encode()
        deliveries.append(processor_delivery(client, "polar", body, polar_headers(body, f"msg_{name}")))
    deliver_all(deliveries, seed=9)
    drain(aws, warehouse_url)
    paid, refunded = polar("order.paid")["data"], polar("order.refunded")["data"]
    usd = report(warehouse_url, site)["USD"]
    refund = cents(refunded["refunded_amount"] + refunded["refunded_tax_amount"])
    assert (usd.orders, usd.gross, usd.refunds, usd.linked_orders) == (
        1,
        cents(paid["total_amount"]),
        refund,
        1,
    )


def test_paddle_documented_payloads(
    client: Client, aws: dict[str, str], warehouse_url: str, site: str
) -> None:
    completed = paddle("transaction.completed", custom_data={"touchline_visitor_id": "v-paddle"})
    adjustment = paddle("adjustment.created", transaction_id=completed["data"]["id"])
    approved = paddle(
        "adjustment.created",
        transaction_id=completed["data"]["id"],
        status="approved",
        updated_at="2024-04-15T09:10:00.000000Z",
    )
    approved["event_type"] = "adjustment.updated"
    deliveries = []
    for notification in (completed, adjustment, approved):
        body = json.dumps(notification).encode()
        deliveries.append(processor_delivery(client, "paddle", body, paddle_headers(body)))
    deliver_all(deliveries, seed=13)
    drain(aws, warehouse_url)
    totals = completed["data"]["details"]["totals"]
    usd = report(warehouse_url, site)["USD"]
    refund = Decimal(adjustment["data"]["totals"]["total"]) / 100
    assert (usd.orders, usd.gross, usd.refunds, usd.linked_orders) == (
        1,
        cents(totals["grand_total"]),
        refund,
        1,
    )
    assert rows(
        warehouse_url, site, "SELECT count() FROM order_line_items FINAL WHERE site_id = {site:String}"
    ) == [(3,)]


# ---------------------------------------------------------------------------- one status per fault


def signed(provider: str, body: bytes) -> dict[str, str]:
    if provider == "stripe":
        return {"Stripe-Signature": stripe_signature(body)}
    if provider == "shopify":
        return shopify_headers(body, "orders/paid", SHOPIFY_SECRET)
    if provider == "lemonsqueezy":
        return lemonsqueezy_headers(body, "order_created")
    if provider == "polar":
        return polar_headers(body, "msg_1")
    return paddle_headers(body)


def forged(provider: str, body: bytes) -> dict[str, str]:
    if provider == "stripe":
        return {"Stripe-Signature": stripe_signature(body, secret="whsec_forged")}
    if provider == "shopify":
        return shopify_headers(body, "orders/paid", "not-the-secret")
    if provider == "lemonsqueezy":
        return lemonsqueezy_headers(body, "order_created", secret="not-the-secret")
    if provider == "polar":
        return polar_headers(body, "msg_1", secret="not-the-secret")
    return paddle_headers(body, secret="pdl_ntfset_forged")


def stale(provider: str, body: bytes) -> dict[str, str] | None:
    from datetime import UTC, datetime

    old = 1_700_000_000
    if provider == "stripe":
        return {"Stripe-Signature": stripe_signature(body, timestamp=old)}
    if provider == "polar":
        return polar_headers(body, "msg_1", at=datetime.fromtimestamp(old, UTC))
    if provider == "paddle":
        return paddle_headers(body, at=old)
    return None  # Shopify and Lemon Squeezy sign no timestamp


PROVIDERS = ["stripe", "shopify", "lemonsqueezy", "polar", "paddle"]


def test_the_same_fault_gets_the_same_status_from_every_provider(client: Client, aws: dict[str, str]) -> None:
    for provider in PROVIDERS:
        check_faults(client, provider)
    assert queued(aws) == 0


def check_faults(client: Client, provider: str) -> None:
    body = stripe_body(stripe_fixture_event(STRIPE_NEW, "payment_intent.succeeded", {"id": "pi_x"}))
    truncated, not_utf8 = b'{"truncated": ', b"\xff\xfe not utf-8"
    path = f"/webhooks/{provider}/{client.site_id}"
    cases: list[tuple[bytes, dict[str, str], int, str]] = [
        (body, {}, 401, "invalid_signature"),
        (body, forged(provider, body), 401, "invalid_signature"),
        (truncated, signed(provider, truncated), 400, "invalid_json"),
        (not_utf8, signed(provider, b"x"), 400, "invalid_json"),
    ]
    if (old := stale(provider, body)) is not None:
        cases.append((body, old, 401, "stale_timestamp"))
    for sent, headers, status, code in cases:
        got, answer = client.post(path, sent, headers)
        assert (got, answer["error"]["code"]) == (status, code), (provider, code, answer)
    got, answer = client.post(f"/webhooks/{provider}/nosuchsite", body, signed(provider, body))
    assert (got, answer["error"]["code"]) == (404, "unknown_site")
