"""The providers' published payloads (tests/payloads, sources in its README) and the few documented
changes that turn a published sample into the state an event describes.

Stripe's OpenAPI fixtures are objects in no particular state (a session `open` and `unpaid` with
`amount_total: null`); `stripe_paid_*` set only the fields that make the object what its event
says (a completed, paid session has an amount), leaving every other field, nullable nulls
included, as Stripe publishes it. Shopify's samples are one order in every topic; the variants
below say what they change. Signatures are made as each provider documents (and, for Stripe,
Polar and Paddle, checked against their own libraries in the tests).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

PAYLOADS = Path(__file__).parent / "payloads"
STRIPE_OLD, STRIPE_NEW = "2020-08-27", "2026-07-29.dahlia"
STRIPE_FILES = {STRIPE_OLD: "fixtures3-2020-08-27.json", STRIPE_NEW: "fixtures3-2026-07-29.dahlia.json"}
LEMONSQUEEZY_SECRET = "ls_signing_secret_4f2a9c"
POLAR_SECRET = "polar_whs_3kX9pQ2vR7tY1uZ8aB4cD6eF0gH5jK"
PADDLE_SECRET = "pdl_ntfset_01hs0t3tw21j988db1pam5xg8m_GrOWLNef+vmtjJYq4mSnHNzvc8uWoJ1I"


def load(relative: str) -> Any:
    return json.loads((PAYLOADS / relative).read_text())


@cache
def _stripe_resources(version: str) -> dict[str, Any]:
    resources: dict[str, Any] = load(f"stripe/{STRIPE_FILES[version]}")["resources"]
    return resources


def stripe_object(version: str, resource: str) -> dict[str, Any]:
    return copy.deepcopy(_stripe_resources(version)[resource])


def stripe_fixture_event(
    version: str, kind: str, obj: dict[str, Any], *, created: int | None = None, livemode: bool = True
) -> dict[str, Any]:
    """Stripe's own `event` fixture carrying `obj`, as the webhook endpoint of that version gets it."""
    event = stripe_object(version, "event")
    event.update(
        id=f"evt_{uuid.uuid4().hex[:24]}",
        type=kind,
        api_version=version,
        created=created if created is not None else int(time.time()) - 60,
        livemode=livemode,
        data={"object": obj},
    )
    return event


def stripe_paid_session(version: str, *, amount: int, currency: str = "usd") -> dict[str, Any]:
    """`checkout.session.completed`: status complete, paid, with its amount (null in the fixture)."""
    session = stripe_object(version, "checkout.session")
    session.update(
        status="complete",
        payment_status="paid",
        amount_total=amount,
        amount_subtotal=amount,
        currency=currency,
        livemode=True,
    )
    return session


def stripe_succeeded_intent(version: str, *, amount: int, currency: str = "usd") -> dict[str, Any]:
    """`payment_intent.succeeded`: status succeeded, `amount_received` = `amount`."""
    intent = stripe_object(version, "payment_intent")
    intent.update(status="succeeded", amount=amount, amount_received=amount, currency=currency)
    return intent


def stripe_paid_invoice(version: str, *, amount: int, payment_intent: str) -> dict[str, Any]:
    """`invoice.paid` of a subscription: status paid, `amount_paid`; the old API names the
    PaymentIntent on the invoice, basil and later do not (not in webhooks)."""
    invoice = stripe_object(version, "invoice")
    invoice.update(status="paid", amount_due=amount, amount_paid=amount, amount_remaining=0, total=amount)
    invoice["subtotal"] = amount
    invoice["billing_reason"] = "subscription_cycle"
    invoice["status_transitions"]["paid_at"] = invoice["created"] + 5
    line = invoice["lines"]["data"][0]
    line["amount"] = amount
    if version == STRIPE_OLD:
        invoice["payment_intent"] = payment_intent
        invoice["paid"] = True
        line["price"]["unit_amount"] = amount
        line["price"]["unit_amount_decimal"] = str(amount)
    else:
        # What basil sends for a priced line (the fixture has it null): the unit price, in minor units.
        line["pricing"] = {
            "type": "price_details",
            "price_details": {"price": "price_1Pro", "product": "prod_Pro"},
            "unit_amount_decimal": str(amount),
        }
    return invoice


def stripe_invoice_payment(*, invoice: str, payment_intent: str, amount: int) -> dict[str, Any]:
    """`invoice_payment.paid` (basil+): Stripe's fixture, paid, linking the two."""
    paid = stripe_object(STRIPE_NEW, "invoice_payment")
    paid.update(
        id="inpay_1Fixture",
        invoice=invoice,
        amount_paid=amount,
        amount_requested=amount,
        currency="usd",
        status="paid",
        payment={"type": "payment_intent", "payment_intent": payment_intent},
    )
    paid["status_transitions"]["paid_at"] = paid["created"] + 1
    return paid


def stripe_refunded_charge(version: str, *, refunded: int, payment_intent: str) -> dict[str, Any]:
    charge = stripe_object(version, "charge")
    charge.update(
        amount_refunded=refunded,
        refunded=refunded == charge["amount"],
        payment_intent=payment_intent,
        captured=True,
    )
    return charge


# ---------------------------------------------------------------------------- Shopify


def shopify(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = load(f"shopify/{name}.json")
    return payload


def shopify_paid_order(**changes: Any) -> dict[str, Any]:
    """The published order sample, paid and live (the sample is a cancelled, voided test order)."""
    order = shopify("orders_create")
    order.update(
        financial_status="paid",
        cancelled_at=None,
        cancel_reason=None,
        test=False,
        processed_at="2021-12-31T19:00:00-05:00",
        updated_at="2021-12-31T19:01:00-05:00",
    )
    order.update(changes)
    return order


def money_set(shop: str, shop_currency: str, presented: str, presentment_currency: str) -> dict[str, Any]:
    return {
        "shop_money": {"amount": shop, "currency_code": shop_currency},
        "presentment_money": {"amount": presented, "currency_code": presentment_currency},
    }


def convert_sets(payload: Any, shop_currency: str, presentment: str, rate: Decimal) -> Any:
    """Every `*_set` of a USD sample re-expressed as Shopify sends it for a shop in `shop_currency`
    presenting in `presentment`: presentment amounts as published, shop amounts at `rate`."""
    if isinstance(payload, list):
        return [convert_sets(item, shop_currency, presentment, rate) for item in payload]
    if not isinstance(payload, dict):
        return payload
    if set(payload) == {"shop_money", "presentment_money"}:
        presented = Decimal(str(payload["presentment_money"]["amount"]))
        shop_amount = (presented * rate).quantize(Decimal("0.01"))
        return money_set(f"{shop_amount:.2f}", shop_currency, f"{presented:.2f}", presentment)
    return {key: convert_sets(value, shop_currency, presentment, rate) for key, value in payload.items()}


def shopify_multicurrency_order(rate: Decimal = Decimal("1.47")) -> dict[str, Any]:
    """A CAD shop selling in EUR: the paid sample with its sets re-expressed (presentment EUR as
    published, shop CAD at `rate`) and its plain fields in the shop currency, as Shopify does."""
    order = convert_sets(shopify_paid_order(), "CAD", "EUR", rate)
    order["currency"], order["presentment_currency"] = "CAD", "EUR"
    for field in (
        "total_price",
        "subtotal_price",
        "total_discounts",
        "total_tax",
        "total_line_items_price",
        "current_total_price",
        "current_subtotal_price",
        "current_total_discounts",
        "current_total_tax",
        "total_outstanding",
    ):
        order[field] = f"{(Decimal(order[field]) * rate).quantize(Decimal('0.01')):.2f}"
    for item in order["line_items"]:
        item["price"] = item["price_set"]["shop_money"]["amount"]
        item["total_discount"] = item["total_discount_set"]["shop_money"]["amount"]
    return order


def shopify_refund_of(order: dict[str, Any], *, currency: str | None, amount: str) -> dict[str, Any]:
    """The published refunds/create sample refunding `amount` of `order`'s first line."""
    refund = shopify("refunds_create")
    refund["order_id"] = order["id"]
    presentment = order.get("presentment_currency") or order["currency"]
    refund = convert_sets(refund, order["currency"], presentment, Decimal(1))
    line = refund["refund_line_items"][0]
    line["line_item_id"] = order["line_items"][0]["id"]
    line["subtotal"] = float(amount)
    line["subtotal_set"] = money_set(amount, order["currency"], amount, presentment)
    transaction = refund["transactions"][0]
    transaction.update(order_id=order["id"], amount=amount, currency=currency)
    return refund


def shopify_headers(body: bytes, topic: str, secret: str, webhook_id: str | None = None) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "jsmith.myshopify.com",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
    }


# ---------------------------------------------------------------------------- the other processors


def lemonsqueezy(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = load(f"lemonsqueezy/{name}.json")
    return payload


def lemonsqueezy_headers(body: bytes, event_name: str, secret: str = LEMONSQUEEZY_SECRET) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Event-Name": event_name,
        "X-Signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest(),
    }


def polar(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = load(f"polar/{name}.json")
    return payload


def polar_headers(
    body: bytes, message_id: str, secret: str = POLAR_SECRET, at: datetime | None = None
) -> dict[str, str]:
    """Signed with the `standardwebhooks` library, keyed the way Polar's SDK keys it."""
    from standardwebhooks.webhooks import Webhook

    moment = at or datetime.now(UTC)
    webhook = Webhook(base64.b64encode(secret.encode()).decode())
    return {
        "Content-Type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": webhook.sign(message_id, moment, body.decode()),
    }


def paddle(kind: str, *, notification_id: str | None = None, **data_changes: Any) -> dict[str, Any]:
    """Paddle's sample entity (from its SDK's fixtures) in the documented notification envelope."""
    data: dict[str, Any] = load(f"paddle/{kind}.data.json")
    data.update(data_changes)
    return {
        "event_id": f"evt_{uuid.uuid4().hex[:26]}",
        "event_type": kind,
        "occurred_at": data.get("updated_at") or data["created_at"],
        "notification_id": notification_id or f"ntf_{uuid.uuid4().hex[:26]}",
        "data": data,
    }


def paddle_headers(body: bytes, secret: str = PADDLE_SECRET, at: int | None = None) -> dict[str, str]:
    stamp = str(at if at is not None else int(time.time()))
    digest = hmac.new(secret.encode(), f"{stamp}:".encode() + body, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "Paddle-Signature": f"ts={stamp};h1={digest}"}
