"""Verified Lemon Squeezy webhooks → orders, line items, refunds and identity links.

Each delivery is `{"meta": {"event_name", "custom_data", "test_mode"}, "data": <JSON:API resource>}`
(https://docs.lemonsqueezy.com/help/webhooks/webhook-requests). Amounts are integers in the
currency's minor unit (`total: 1199` USD is 11.99), in the currency the buyer paid (`currency`;
the `*_usd` twins are Lemon Squeezy's conversion, not stored).

* `order_created`, `order_refunded`: the Order object, keyed by its id. `order_refunded` carries
  the order's running `refunded_amount`: a `cumulative` refund row (one per order, the latest
  total wins), so a second partial refund replaces the first total instead of adding to it.
* `subscription_payment_success`, `subscription_payment_refunded`: the Subscription invoice
  object, keyed `subscription-invoice:<id>`. The first payment of a subscription
  (`billing_reason: initial`) is also an `order_created` order, so that invoice is acknowledged
  and not counted twice (docs/revenue.md lists it as ignored).

The visitor comes from the checkout's custom data (`checkout_data.custom.touchline_visitor_id`),
which Lemon Squeezy repeats in every order and subscription event's `meta.custom_data`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from touchline.identity.rows import email_sha256
from touchline.revenue.money import from_minor, normalize_currency
from touchline.revenue.rows import OrderLineItemRow, OrderRow, OrderStatus, RefundRow, time_version
from touchline.revenue.translation import Translation, ignored

VISITOR_KEY = "touchline_visitor_id"
ORDER_EVENTS = ("order_created", "order_refunded")
INVOICE_EVENTS = ("subscription_payment_success", "subscription_payment_refunded")
CUSTOMER_TYPE = "lemonsqueezy_customer"
# Same `updated_at`: the refund event describes the later state of the order.
_RANK = {"order_created": 0, "subscription_payment_success": 0, "order_refunded": 1}
_RANK["subscription_payment_refunded"] = 1


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _zero_if_null(value: Any) -> Any:
    return 0 if value is None else value


Id = Annotated[str, BeforeValidator(_text)]
Minor = Annotated[int, BeforeValidator(_zero_if_null)]


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Meta(_Obj):
    event_name: str
    test_mode: bool = False
    custom_data: dict[str, Any] | None = None

    def visitor(self) -> str | None:
        value = (self.custom_data or {}).get(VISITOR_KEY)
        return str(value)[:128] if value else None


class _FirstItem(_Obj):
    id: Id | None = None
    product_id: Id | None = None
    variant_id: Id | None = None
    product_name: str | None = None
    variant_name: str | None = None
    price: Minor = 0
    quantity: int | None = Field(None, ge=0)


class _OrderAttributes(_Obj):
    customer_id: Id | None = None
    user_email: str | None = None
    currency: str
    status: str
    subtotal: Minor = 0
    discount_total: Minor = 0
    tax: Minor = 0
    total: Minor = 0
    refunded_amount: Minor = 0
    refunded_at: AwareDatetime | None = None
    first_order_item: _FirstItem | None = None
    test_mode: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None


class _InvoiceAttributes(_OrderAttributes):
    subscription_id: Id | None = None
    billing_reason: str | None = None


class _Resource(_Obj):
    type: str
    id: Id
    attributes: dict[str, Any]


class LemonSqueezyEvent(_Obj):
    meta: _Meta
    data: _Resource


def delivery_id(event: LemonSqueezyEvent, body_hash: str) -> str:
    """Lemon Squeezy names no delivery: a retry repeats the body byte for byte."""
    return f"{event.meta.event_name}:{event.data.type}:{event.data.id}:{body_hash}"


def translate(site_id: str, payload: dict[str, Any]) -> Translation:
    event = LemonSqueezyEvent.model_validate(payload)
    kind = event.meta.event_name
    if kind in ORDER_EVENTS and event.data.type == "orders":
        attributes = _OrderAttributes.model_validate(event.data.attributes)
        return _payment(site_id, event, event.data.id, attributes, subscription=None)
    if kind in INVOICE_EVENTS and event.data.type == "subscription-invoices":
        invoice = _InvoiceAttributes.model_validate(event.data.attributes)
        if invoice.billing_reason == "initial":
            return ignored(f"{kind}:initial")  # the subscription's first order_created counts it
        return _payment(
            site_id, event, f"subscription-invoice:{event.data.id}", invoice, subscription=invoice
        )
    return ignored(kind)


def _payment(
    site_id: str,
    event: LemonSqueezyEvent,
    order_id: str,
    attributes: _OrderAttributes,
    subscription: _InvoiceAttributes | None,
) -> Translation:
    kind = event.meta.event_name
    translation = Translation(kind)
    currency = normalize_currency(attributes.currency)
    updated = attributes.updated_at or attributes.created_at
    version = time_version(updated) * 4 + _RANK[kind]
    visitor = event.meta.visitor()
    customer = attributes.customer_id
    email_hash = email_sha256(attributes.user_email) if attributes.user_email else ""
    test = int(event.meta.test_mode or attributes.test_mode)
    _links(translation, site_id, updated, visitor, customer, email_hash)
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="lemonsqueezy",
            order_id=order_id,
            payment_id=order_id,
            source_event=kind,
            status=_status(attributes.status),
            is_test=test,
            ordered_at=attributes.created_at,
            currency=currency,
            amount=from_minor(attributes.total, currency),
            subtotal=from_minor(attributes.subtotal, currency),
            discount_amount=from_minor(attributes.discount_total, currency),
            tax_amount=from_minor(attributes.tax, currency),
            item_count=_item_count(attributes),
            visitor_id=visitor or "",
            customer_id_type=CUSTOMER_TYPE if customer else "",
            customer_id=customer or "",
            email_sha256=email_hash,
            is_subscription=int(subscription is not None),
            renewal=int(subscription is not None and subscription.billing_reason == "renewal"),
            subscription_id=(subscription.subscription_id or "") if subscription else "",
            source_status=attributes.status[:64],
            version=version,
        ),
    )
    item = attributes.first_order_item
    if item is not None and item.id:
        quantity = item.quantity if item.quantity is not None else 1
        translation.add(
            "order_line_items",
            OrderLineItemRow(
                site_id=site_id,
                source="lemonsqueezy",
                order_id=order_id,
                line_item_id=item.id,
                product_id=item.product_id or "",
                variant_id=item.variant_id or "",
                product_name=" - ".join(n for n in (item.product_name, item.variant_name) if n)[:1024],
                quantity=quantity,
                unit_price=from_minor(item.price, currency),
                line_total=from_minor(item.price * quantity, currency),
                currency=currency,
                version=version,
            ),
        )
    refunded = attributes.refunded_amount
    if refunded or kind in ("order_refunded", "subscription_payment_refunded"):
        translation.add(
            "refunds",
            RefundRow(
                site_id=site_id,
                source="lemonsqueezy",
                refund_id=f"{order_id}:refunded",
                order_id=order_id,
                payment_id=order_id,
                kind="cumulative",
                refunded_at=attributes.refunded_at or updated,
                currency=currency,
                amount=from_minor(refunded, currency),
                is_test=test,
                version=version,
            ),
        )
    return translation


def _status(status: str) -> OrderStatus:
    # Money was captured for paid, refunded and partially refunded orders; refunds are separate rows.
    if status in ("paid", "refunded", "partial_refund"):
        return "paid"
    return "voided" if status in ("void", "failed", "fraudulent") else "pending"


def _item_count(attributes: _OrderAttributes) -> int:
    item = attributes.first_order_item
    if item is None:
        return 0
    return item.quantity if item.quantity is not None else 1


def _links(
    translation: Translation,
    site_id: str,
    at: datetime,
    visitor: str | None,
    customer: str | None,
    email_hash: str,
) -> None:
    translation.add_links(
        site_id,
        "lemonsqueezy",
        at,
        [("visitor", visitor or ""), (CUSTOMER_TYPE, customer or ""), ("email_sha256", email_hash)],
    )
