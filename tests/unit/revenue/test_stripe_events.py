"""Stripe events → rows: canonical order keys, amounts, versions, refunds, identity links."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from revenue_payloads import (
    charge,
    checkout_session,
    customer,
    invoice,
    payment_intent,
    refund,
    stripe_event,
)

from touchline.identity.rows import IdentityLinkRow, email_sha256
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow
from touchline.revenue.stripe_events import StripeEvent, translate

SITE = "site1"


def rows(kind: str, obj: dict[str, Any], **event: Any) -> dict[str, list[Any]]:
    translation = translate(SITE, StripeEvent.model_validate(stripe_event(kind, obj, **event)))
    grouped: dict[str, list[Any]] = {}
    for table, row in translation.rows:
        grouped.setdefault(table, []).append(row)
    return grouped


def test_checkout_session_is_an_order_keyed_by_its_payment_intent_with_the_visitor() -> None:
    out = rows("checkout.session.completed", checkout_session(amount=4999, visitor="v-123"))
    [order] = out["orders"]
    assert isinstance(order, OrderRow)
    assert (order.order_id, order.payment_id) == ("pi_3PaymentIntent0001", "pi_3PaymentIntent0001")
    assert (order.amount, order.currency, order.status) == (Decimal("49.99"), "USD", "paid")
    assert order.visitor_id == "v-123" and order.customer_id == "cus_Customer0001"
    assert order.email_sha256 == email_sha256("Jenny.Rosen@example.com ")
    links = {(link.from_type, link.to_type) for link in out["identity_links"]}
    assert links == {
        ("email_sha256", "stripe_customer"),
        ("email_sha256", "visitor"),
        ("stripe_customer", "visitor"),
    }


def test_metadata_visitor_wins_over_client_reference_id() -> None:
    session = checkout_session(amount=100, visitor="their-user-42")
    session["metadata"] = {"touchline_visitor_id": "v-real"}
    [order] = rows("checkout.session.completed", session)["orders"]
    assert order.visitor_id == "v-real"


def test_session_payment_intent_and_invoice_of_one_payment_share_one_key() -> None:
    session = rows(
        "checkout.session.completed",
        checkout_session(
            amount=4900,
            payment_intent=None,
            mode="subscription",
            invoice="in_1Invoice0001",
            subscription="sub_1Subscription01",
            visitor="v-1",
        ),
    )["orders"][0]
    paid = rows("invoice.paid", invoice(amount=4900, payment_intent="pi_sub"))["orders"][0]
    intent = rows(
        "payment_intent.succeeded", payment_intent(pid="pi_sub", amount=4900, invoice="in_1Invoice0001")
    )
    assert session.order_id == paid.order_id == intent["orders"][0].order_id == "in_1Invoice0001"
    # The session (visitor known) outranks the invoice, which outranks the bare payment intent.
    assert session.version > paid.version > intent["orders"][0].version
    assert paid.payment_id == "pi_sub" and paid.is_subscription == 1 and paid.renewal == 0


def test_an_unpaid_session_loses_to_any_paid_event_of_the_same_payment() -> None:
    pending = rows("checkout.session.completed", checkout_session(amount=100, payment_status="unpaid"))
    succeeded = rows("payment_intent.succeeded", payment_intent(amount=100), created=1795000000 - 3600)
    assert pending["orders"][0].status == "pending"
    assert succeeded["orders"][0].version > pending["orders"][0].version


def test_renewal_invoice_is_flagged_and_has_line_items() -> None:
    out = rows(
        "invoice.paid",
        invoice(
            iid="in_2",
            amount=4900,
            billing_reason="subscription_cycle",
            subscription_metadata={"touchline_visitor_id": "v-sub"},
        ),
    )
    [order] = out["orders"]
    assert (order.renewal, order.is_subscription, order.visitor_id) == (1, 1, "v-sub")
    [line] = out["order_line_items"]
    assert isinstance(line, OrderLineItemRow)
    assert (line.order_id, line.product_id, line.line_total) == ("in_2", "prod_Pro", Decimal("49.00"))


def test_basil_invoice_names_its_payment_intent_through_payments() -> None:
    paid = invoice(amount=4900)
    del paid["payment_intent"]
    paid["payments"] = {"data": [{"payment": {"type": "payment_intent", "payment_intent": "pi_basil"}}]}
    [order] = rows("invoice.paid", paid)["orders"]
    assert (order.order_id, order.payment_id) == ("in_1Invoice0001", "pi_basil")


def test_zero_decimal_and_three_decimal_currencies() -> None:
    [yen] = rows("payment_intent.succeeded", payment_intent(pid="pi_jpy", amount=1500, currency="jpy"))[
        "orders"
    ]
    [dinar] = rows("payment_intent.succeeded", payment_intent(pid="pi_kwd", amount=12345, currency="kwd"))[
        "orders"
    ]
    assert (yen.amount, yen.currency) == (Decimal(1500), "JPY")
    assert (dinar.amount, dinar.currency) == (Decimal("12.345"), "KWD")


def test_trial_invoice_and_setup_session_write_no_order() -> None:
    assert "orders" not in rows("invoice.paid", invoice(amount=0))
    assert "orders" not in rows("checkout.session.completed", checkout_session(amount=0, mode="setup"))


def test_charge_refunded_is_a_cumulative_refund_on_the_charge() -> None:
    [row] = rows("charge.refunded", charge(amount=5000, refunded=1500))["refunds"]
    assert isinstance(row, RefundRow)
    assert (row.kind, row.payment_id, row.amount, row.order_id) == (
        "cumulative",
        "ch_3Charge0001",
        Decimal("15.00"),
        "pi_3PaymentIntent0001",
    )


def test_refund_created_is_one_refund_and_a_failed_one_is_withdrawn() -> None:
    [created] = rows("refund.created", refund(rid="re_1", amount=1500, status="pending"))["refunds"]
    [failed] = rows("refund.updated", refund(rid="re_1", amount=1500, status="failed"))["refunds"]
    assert (created.kind, created.payment_id, created.amount, created.is_deleted) == (
        "refund",
        "ch_3Charge0001",
        Decimal("15.00"),
        0,
    )
    assert (
        failed.refund_id == created.refund_id and failed.is_deleted == 1 and failed.version > created.version
    )


def test_customer_links_email_and_visitor_to_the_customer() -> None:
    out = rows("customer.updated", customer(visitor="v-9"))
    links = out["identity_links"]
    assert all(isinstance(link, IdentityLinkRow) and link.source == "stripe" for link in links)
    pairs = {(link.from_type, link.from_id, link.to_type, link.to_id) for link in links}
    assert ("stripe_customer", "cus_Customer0001", "visitor", "v-9") in pairs
    assert "orders" not in out


def test_other_event_types_are_ignored() -> None:
    translation = translate(
        SITE, StripeEvent.model_validate(stripe_event("product.created", {"id": "prod_1"}))
    )
    assert not translation.handled and translation.rows == []


def test_test_mode_orders_are_marked() -> None:
    [order] = rows("payment_intent.succeeded", payment_intent(amount=100), livemode=False)["orders"]
    assert order.is_test == 1
