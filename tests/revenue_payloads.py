"""Stripe and Shopify webhook payloads shaped as the providers document them, and their signatures.

Stripe: event objects per https://docs.stripe.com/api/events/object with the Checkout Session,
PaymentIntent, Invoice, Charge, Refund and Customer objects of the API reference (the fields
Touchline reads, plus the usual neighbours), signed with the stripe library's own
`WebhookSignature.generate_signature_header`. Shopify: the Admin REST order and refund resources
(https://shopify.dev/docs/api/admin-rest/latest/resources/order), signed as
https://shopify.dev/docs/apps/build/webhooks/verify-deliveries describes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

STRIPE_SECRET = "whsec_test_5f3c1e0b8a9d4c2e"
SHOPIFY_SECRET = "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"
CREATED = 1795000000  # 2026-11-17


def stripe_event(
    kind: str,
    obj: dict[str, Any],
    *,
    event_id: str | None = None,
    created: int = CREATED,
    livemode: bool = True,
) -> dict[str, Any]:
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": created,
        "data": {"object": obj},
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }


def stripe_body(event: dict[str, Any]) -> bytes:
    return json.dumps(event, indent=2).encode()


def stripe_signature(body: bytes, secret: str = STRIPE_SECRET, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header, computed by the stripe library's test helper."""
    from stripe import WebhookSignature

    header: str = WebhookSignature.generate_signature_header(
        body.decode(), secret, timestamp=timestamp if timestamp is not None else int(time.time())
    )
    return header


def checkout_session(
    *,
    amount: int,
    currency: str = "usd",
    payment_intent: str | None = "pi_3PaymentIntent0001",
    visitor: str | None = None,
    mode: str = "payment",
    invoice: str | None = None,
    subscription: str | None = None,
    payment_status: str = "paid",
    customer: str | None = "cus_Customer0001",
    email: str = "jenny.rosen@example.com",
) -> dict[str, Any]:
    return {
        "id": f"cs_live_{uuid.uuid4().hex[:20]}",
        "object": "checkout.session",
        "amount_subtotal": amount,
        "amount_total": amount,
        "client_reference_id": visitor,
        "created": CREATED - 60,
        "currency": currency,
        "customer": customer,
        "customer_details": {"email": email, "name": "Jenny Rosen", "phone": None, "tax_exempt": "none"},
        "customer_email": None,
        "expires_at": CREATED + 86400,
        "invoice": invoice,
        "livemode": True,
        "metadata": {},
        "mode": mode,
        "payment_intent": payment_intent,
        "payment_status": payment_status,
        "status": "complete",
        "subscription": subscription,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "url": None,
    }


def payment_intent(
    *,
    pid: str = "pi_3PaymentIntent0001",
    amount: int,
    currency: str = "usd",
    invoice: str | None = None,
    customer: str | None = "cus_Customer0001",
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": pid,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_received": amount,
        "capture_method": "automatic",
        "created": CREATED - 30,
        "currency": currency,
        "customer": customer,
        "description": None,
        "invoice": invoice,
        "latest_charge": "ch_3Charge0001",
        "livemode": True,
        "metadata": metadata or {},
        "payment_method": "pm_1Card",
        "receipt_email": None,
        "status": "succeeded",
    }


def invoice(
    *,
    iid: str = "in_1Invoice0001",
    amount: int,
    currency: str = "usd",
    payment_intent: str | None = None,
    billing_reason: str = "subscription_create",
    subscription: str = "sub_1Subscription01",
    customer: str = "cus_Customer0001",
    email: str = "jenny.rosen@example.com",
    subscription_metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": iid,
        "object": "invoice",
        "amount_due": amount,
        "amount_paid": amount,
        "amount_remaining": 0,
        "billing_reason": billing_reason,
        "created": CREATED - 20,
        "currency": currency,
        "customer": customer,
        "customer_email": email,
        "lines": {
            "object": "list",
            "data": [
                {
                    "id": "il_1Line0001",
                    "object": "line_item",
                    "amount": amount,
                    "currency": currency,
                    "description": "1 x Pro plan",
                    "price": {
                        "id": "price_1Pro",
                        "object": "price",
                        "product": "prod_Pro",
                        "unit_amount": amount,
                    },
                    "quantity": 1,
                }
            ],
            "has_more": False,
        },
        "livemode": True,
        "metadata": {},
        "paid": True,
        "payment_intent": payment_intent,
        "status": "paid",
        "status_transitions": {"finalized_at": CREATED - 20, "paid_at": CREATED - 10},
        "subscription": subscription,
        "subscription_details": {"metadata": subscription_metadata or {}},
        "subtotal": amount,
        "tax": None,
        "total": amount,
        "total_discount_amounts": [],
    }


def charge(
    *,
    cid: str = "ch_3Charge0001",
    amount: int,
    refunded: int,
    currency: str = "usd",
    payment_intent: str | None = "pi_3PaymentIntent0001",
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": refunded,
        "billing_details": {"email": "jenny.rosen@example.com"},
        "captured": True,
        "created": CREATED - 25,
        "currency": currency,
        "customer": "cus_Customer0001",
        "livemode": True,
        "paid": True,
        "payment_intent": payment_intent,
        "refunded": refunded == amount,
        "status": "succeeded",
    }


def refund(
    *,
    rid: str,
    amount: int,
    currency: str = "usd",
    charge_id: str = "ch_3Charge0001",
    payment_intent: str | None = "pi_3PaymentIntent0001",
    status: str = "succeeded",
    created: int = CREATED,
) -> dict[str, Any]:
    return {
        "id": rid,
        "object": "refund",
        "amount": amount,
        "charge": charge_id,
        "created": created,
        "currency": currency,
        "metadata": {},
        "payment_intent": payment_intent,
        "reason": "requested_by_customer",
        "status": status,
    }


def customer(
    *, cid: str = "cus_Customer0001", email: str = "jenny.rosen@example.com", visitor: str | None = None
) -> dict[str, Any]:
    return {
        "id": cid,
        "object": "customer",
        "created": CREATED - 100,
        "email": email,
        "livemode": True,
        "metadata": {"touchline_visitor_id": visitor} if visitor else {},
        "name": "Jenny Rosen",
    }


# ---------------------------------------------------------------------------- Shopify


def shopify_order(
    *,
    order_id: int = 820982911946154508,
    currency: str = "USD",
    total: str = "199.65",
    financial_status: str = "paid",
    visitor: str | None = None,
    updated_at: str = "2026-11-17T10:05:00-05:00",
    refunds: list[dict[str, Any]] | None = None,
    test: bool = False,
    cancelled_at: str | None = None,
) -> dict[str, Any]:
    attributes = [{"name": "gift_wrap", "value": "no"}]
    if visitor:
        attributes.append({"name": "_touchline_visitor_id", "value": visitor})
    return {
        "id": order_id,
        "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "cancelled_at": cancelled_at,
        "cancel_reason": None,
        "cart_token": "68778783ad298f1c80c3bafcddeea02f",
        "checkout_token": "bd5a8aa1ecd019dd3520ff791ee3a24c",
        "contact_email": "jon@example.com",
        "created_at": "2026-11-17T10:00:00-05:00",
        "currency": currency,
        "current_total_price": total,
        "customer": {"id": 115310627314723954, "email": "jon@example.com", "first_name": "John"},
        "discount_codes": [],
        "email": "jon@example.com",
        "financial_status": financial_status,
        "landing_site": "/products/wool-socks?utm_source=newsletter",
        "line_items": [
            {
                "id": 866550311766439020,
                "admin_graphql_api_id": "gid://shopify/LineItem/866550311766439020",
                "discount_allocations": [],
                "name": "Wool socks - Grey",
                "price": total,
                "product_id": 632910392,
                "quantity": 1,
                "sku": "SOCK-GREY",
                "title": "Wool socks",
                "total_discount": "0.00" if currency != "JPY" else "0",
                "variant_id": 808950810,
                "vendor": "Touchline Test Shop",
            }
        ],
        "name": "#1001",
        "note": None,
        "note_attributes": attributes,
        "order_number": 1001,
        "processed_at": "2026-11-17T10:00:00-05:00",
        "referring_site": "https://www.google.com/",
        "refunds": refunds or [],
        "shipping_address": {"country_code": "US", "city": "Ottawa"},
        "source_name": "web",
        "subtotal_price": total,
        "test": test,
        "total_discounts": "0.00",
        "total_price": total,
        "total_shipping_price_set": {
            "shop_money": {"amount": "0.00", "currency_code": currency},
            "presentment_money": {"amount": "0.00", "currency_code": currency},
        },
        "total_tax": "0.00",
        "updated_at": updated_at,
    }


def shopify_refund(
    *,
    refund_id: int = 929361463,
    order_id: int = 820982911946154508,
    amount: str = "41.94",
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "id": refund_id,
        "order_id": order_id,
        "created_at": "2026-11-18T09:00:00-05:00",
        "note": "it broke during shipping",
        "processed_at": "2026-11-18T09:00:00-05:00",
        "restock": True,
        "refund_line_items": [
            {
                "id": 104689539,
                "line_item_id": 866550311766439020,
                "quantity": 1,
                "subtotal": 41.94,
                "total_tax": 0,
            }
        ],
        "transactions": [
            {
                "id": 245135399,
                "order_id": order_id,
                "kind": "refund",
                "gateway": "bogus",
                "status": "success",
                "amount": amount,
                "currency": currency,
                "test": False,
            }
        ],
        "order_adjustments": [],
    }


def shopify_headers(
    body: bytes, topic: str, *, webhook_id: str | None = None, secret: str = SHOPIFY_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Shop-Domain": "touchline-test.myshopify.com",
        "X-Shopify-API-Version": "2026-10",
        "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Shopify-Triggered-At": "2026-11-17T15:05:00.000000Z",
    }
