"""Lemon Squeezy, Polar and Paddle payloads → rows, and the Stripe fields the published fixtures
showed mishandled (each named in the test)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from provider_samples import (
    STRIPE_NEW,
    STRIPE_OLD,
    lemonsqueezy,
    paddle,
    polar,
    stripe_fixture_event,
    stripe_paid_invoice,
    stripe_paid_session,
)

from touchline.revenue import lemonsqueezy_events, paddle_events, polar_events
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow
from touchline.revenue.stripe_events import StripeEvent, translate
from touchline.revenue.translation import Translation

SITE = "site1"


def tables(translation: Translation) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for table, row in translation.rows:
        grouped.setdefault(table, []).append(row)
    return grouped


def test_lemonsqueezy_order_and_its_cumulative_refund() -> None:
    created = tables(lemonsqueezy_events.translate(SITE, lemonsqueezy("order_created")))
    [order] = created["orders"]
    assert isinstance(order, OrderRow)
    assert (order.source, order.order_id, order.amount, order.tax_amount, order.currency) == (
        "lemonsqueezy",
        "1",
        Decimal("11.99"),
        Decimal("2.00"),
        "USD",
    )
    assert (order.visitor_id, order.customer_id_type, order.customer_id) == (
        "v-ls-1",
        "lemonsqueezy_customer",
        "1",
    )
    assert "refunds" not in created
    [line] = created["order_line_items"]
    assert isinstance(line, OrderLineItemRow) and line.unit_price == Decimal("11.99")
    refunded = tables(lemonsqueezy_events.translate(SITE, lemonsqueezy("order_refunded")))
    [refund] = refunded["refunds"]
    assert isinstance(refund, RefundRow)
    assert (refund.kind, refund.refund_id, refund.amount) == ("cumulative", "1:refunded", Decimal("5.99"))
    assert refunded["orders"][0].version > order.version and refunded["orders"][0].status == "paid"


def test_lemonsqueezy_initial_subscription_invoice_is_acknowledged_not_counted() -> None:
    initial = lemonsqueezy_events.translate(SITE, lemonsqueezy("subscription_payment_success.initial"))
    assert (initial.handled, initial.kind) == (False, "subscription_payment_success:initial")
    [renewal] = tables(
        lemonsqueezy_events.translate(SITE, lemonsqueezy("subscription_payment_success.renewal"))
    )["orders"]
    assert (renewal.order_id, renewal.renewal, renewal.subscription_id) == ("subscription-invoice:2", 1, "1")


def test_polar_refund_is_net_plus_tax_refunded() -> None:
    [order] = tables(polar_events.translate(SITE, polar("order.paid")))["orders"]
    assert (order.amount, order.discount_amount, order.tax_amount) == (
        Decimal("97.20"),
        Decimal(10),
        Decimal("7.20"),
    )
    [refund] = tables(polar_events.translate(SITE, polar("order.refunded")))["refunds"]
    assert (refund.kind, refund.amount) == ("cumulative", Decimal("48.60"))


def test_paddle_refunds_count_only_once_approved_and_credits_are_not_refunds() -> None:
    pending = tables(paddle_events.translate(SITE, paddle("adjustment.created")))["refunds"][0]
    approved = tables(paddle_events.translate(SITE, paddle("adjustment.created", status="approved")))[
        "refunds"
    ][0]
    assert (pending.is_deleted, approved.is_deleted) == (1, 0)
    assert approved.version > pending.version and approved.amount == Decimal("1.00")
    credit = paddle_events.translate(SITE, paddle("adjustment.created", action="credit"))
    assert (credit.handled, credit.kind) == (False, "adjustment.created:credit")
    [order] = tables(paddle_events.translate(SITE, paddle("transaction.completed")))["orders"]
    assert (order.amount, order.tax_amount, order.item_count) == (Decimal("652.15"), Decimal("53.15"), 12)


def test_stripe_2020_checkout_session_has_no_created_field() -> None:
    session = stripe_paid_session(STRIPE_OLD, amount=100)
    assert "created" not in session  # Stripe's 2020-08-27 object: the order was refused before
    event = StripeEvent.model_validate(
        stripe_fixture_event(STRIPE_OLD, "checkout.session.completed", session)
    )
    [order] = tables(translate(SITE, event))["orders"]
    assert order.ordered_at == event.at


def test_stripe_basil_invoice_tax_shipping_and_fractional_unit_prices() -> None:
    invoice = stripe_paid_invoice(STRIPE_NEW, amount=1000, payment_intent="pi_1")
    invoice["total_taxes"] = [{"amount": 170, "tax_behavior": "exclusive"}, {"amount": 30}]
    invoice["amount_shipping"] = 450
    invoice["lines"]["data"][0]["pricing"]["unit_amount_decimal"] = "333.3333333333"
    invoice["lines"]["data"][0]["quantity"] = 3
    out = tables(
        translate(SITE, StripeEvent.model_validate(stripe_fixture_event(STRIPE_NEW, "invoice.paid", invoice)))
    )
    [order], [line] = out["orders"], out["order_line_items"]
    assert (order.tax_amount, order.shipping_amount) == (Decimal("2.00"), Decimal("4.50"))
    assert line.unit_price == Decimal("3.3333")  # rounded half-even to the stored 4 places
