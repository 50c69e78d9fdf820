"""Verified Shopify webhooks → orders, line items, refunds and identity links.

Every order topic (`orders/create`, `orders/paid`, `orders/updated`, `orders/cancelled`) carries
the whole order, keyed by its numeric id; the latest `updated_at` wins. The visitor comes from
the order's `note_attributes`, where the storefront tag copies its visitor id into a cart
attribute (`touchline_visitor_id`, or `_touchline_visitor_id`, which Shopify hides at checkout).
Refunds are keyed by their own id, whether they arrive through `refunds/create` or inside an
order, so both paths count once. Payload shapes: https://shopify.dev/docs/api/webhooks (order and
refund resources of the Admin REST API); signature: https://shopify.dev/docs/apps/build/webhooks/verify-deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from touchline.identity.rows import email_sha256
from touchline.revenue.money import from_major, normalize_currency
from touchline.revenue.rows import OrderLineItemRow, OrderRow, OrderStatus, RefundRow, time_version
from touchline.revenue.translation import Translation, ignored

VISITOR_ATTRIBUTES = ("touchline_visitor_id", "_touchline_visitor_id")
ORDER_TOPICS = ("orders/create", "orders/paid", "orders/updated", "orders/cancelled")
CUSTOMER_TOPICS = ("customers/create", "customers/update")
# Money was captured: the order counts in gross revenue (refunds are subtracted separately).
CAPTURED = ("paid", "partially_paid", "partially_refunded", "refunded")
# Same `updated_at` in two topics: the later stage of the order wins.
_TOPIC_RANK = {"orders/create": 0, "orders/updated": 1, "orders/paid": 2, "orders/cancelled": 3}


def signature_matches(body: bytes, header: str | None, secret: str) -> bool:
    """`X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body, compared in constant time."""
    if not header:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, header.strip().encode())


def _text(value: Any) -> Any:
    """Shopify ids are integers; we store every id as a string."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


Id = Annotated[str, BeforeValidator(_text)]


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Attribute(_Obj):
    name: str = ""
    value: Any = None


class _Customer(_Obj):
    id: Id
    email: str | None = None
    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class _Allocation(_Obj):
    amount: str = "0"


class _LineItem(_Obj):
    id: Id
    product_id: Id | None = None
    variant_id: Id | None = None
    sku: str | None = None
    title: str | None = None
    name: str | None = None
    vendor: str | None = None
    quantity: int = Field(1, ge=0)
    price: str = "0"
    total_discount: str = "0"
    discount_allocations: list[_Allocation] = Field(default_factory=list)


class _Transaction(_Obj):
    kind: str = ""
    status: str = ""
    amount: str = "0"
    currency: str | None = None
    test: bool = False


class _RefundLine(_Obj):
    line_item_id: Id | None = None
    quantity: int = Field(0, ge=0)


class ShopifyRefund(_Obj):
    id: Id
    order_id: Id
    created_at: AwareDatetime
    note: str | None = None
    refund_line_items: list[_RefundLine] = Field(default_factory=list)
    transactions: list[_Transaction] = Field(default_factory=list)


class _Money(_Obj):
    amount: str = "0"


class _MoneySet(_Obj):
    shop_money: _Money = Field(default_factory=_Money)


class _Address(_Obj):
    country_code: str | None = None


class _DiscountCode(_Obj):
    code: str = ""


class ShopifyOrder(_Obj):
    id: Id
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    processed_at: AwareDatetime | None = None
    cancelled_at: AwareDatetime | None = None
    currency: str
    total_price: str
    subtotal_price: str | None = None
    total_tax: str | None = None
    total_discounts: str | None = None
    total_shipping_price_set: _MoneySet | None = None
    financial_status: str | None = None
    test: bool = False
    email: str | None = None
    contact_email: str | None = None
    customer: _Customer | None = None
    note_attributes: list[_Attribute] = Field(default_factory=list)
    landing_site: str | None = None
    referring_site: str | None = None
    discount_codes: list[_DiscountCode] = Field(default_factory=list)
    shipping_address: _Address | None = None
    line_items: list[_LineItem] = Field(default_factory=list)
    refunds: list[ShopifyRefund] = Field(default_factory=list)

    def visitor_id(self) -> str | None:
        for attribute in self.note_attributes:
            if attribute.name in VISITOR_ATTRIBUTES and attribute.value:
                return str(attribute.value)[:128]
        return None


def translate(site_id: str, topic: str, payload: dict[str, Any]) -> Translation:
    if topic in ORDER_TOPICS:
        return _order(site_id, topic, ShopifyOrder.model_validate(payload))
    if topic == "refunds/create":
        translation = Translation(topic)
        refund = ShopifyRefund.model_validate(payload)
        if row := _refund_row(site_id, refund, currency=None, test=False):
            translation.add("refunds", row)
        return translation
    if topic in CUSTOMER_TOPICS:
        customer = _Customer.model_validate(payload)
        translation = Translation(topic)
        translation.add_links(
            site_id,
            "shopify",
            customer.updated_at or customer.created_at or datetime.now(UTC),
            [
                ("shopify_customer", customer.id),
                ("email_sha256", email_sha256(customer.email) if customer.email else ""),
            ],
        )
        return translation
    return ignored(topic)


def _order(site_id: str, topic: str, order: ShopifyOrder) -> Translation:
    translation = Translation(topic)
    currency = normalize_currency(order.currency)
    updated = order.updated_at or order.created_at
    version = time_version(updated) * 4 + _TOPIC_RANK[topic]
    visitor = order.visitor_id()
    email = order.email or order.contact_email or (order.customer.email if order.customer else None)
    customer = order.customer.id if order.customer else None
    email_hash = email_sha256(email) if email else ""
    translation.add_links(
        site_id,
        "shopify",
        updated,
        [("visitor", visitor or ""), ("shopify_customer", customer or ""), ("email_sha256", email_hash)],
    )
    status: OrderStatus = (
        "paid"
        if order.financial_status in CAPTURED
        else "voided"
        if order.financial_status == "voided"
        else "pending"
    )
    shipping = order.total_shipping_price_set.shop_money.amount if order.total_shipping_price_set else "0"
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="shopify",
            order_id=order.id,
            payment_id=order.id,
            source_event=topic,
            status=status,
            cancelled=int(order.cancelled_at is not None),
            is_test=int(order.test),
            ordered_at=order.processed_at or order.created_at,
            currency=currency,
            amount=from_major(order.total_price, currency),
            subtotal=from_major(order.subtotal_price or "0", currency),
            discount_amount=from_major(order.total_discounts or "0", currency),
            tax_amount=from_major(order.total_tax or "0", currency),
            shipping_amount=from_major(shipping, currency),
            item_count=sum(item.quantity for item in order.line_items),
            discount_code=",".join(code.code for code in order.discount_codes)[:256],
            visitor_id=visitor or "",
            customer_id_type="shopify_customer" if customer else "",
            customer_id=customer or "",
            email_sha256=email_hash,
            landing_site=(order.landing_site or "")[:2048],
            referring_site=(order.referring_site or "")[:2048],
            shipping_country=(order.shipping_address.country_code or "")[:2]
            if order.shipping_address
            else "",
            source_status=order.financial_status or "",
            version=version,
        ),
    )
    for item in order.line_items:
        translation.add("order_line_items", _line_item(site_id, order.id, item, currency, version))
    for refund in order.refunds:
        if row := _refund_row(site_id, refund, currency=currency, test=order.test):
            translation.add("refunds", row)
    return translation


def _line_item(site_id: str, order_id: str, item: _LineItem, currency: str, version: int) -> OrderLineItemRow:
    unit = from_major(item.price, currency)
    allocated = sum((from_major(a.amount, currency) for a in item.discount_allocations), Decimal(0))
    discount = allocated or from_major(item.total_discount, currency)
    return OrderLineItemRow(
        site_id=site_id,
        source="shopify",
        order_id=order_id,
        line_item_id=item.id,
        product_id=item.product_id or "",
        variant_id=item.variant_id or "",
        sku=item.sku or "",
        product_name=(item.name or item.title or "")[:1024],
        quantity=item.quantity,
        unit_price=unit,
        discount_amount=discount,
        line_total=unit * item.quantity - discount,
        currency=currency,
        brand=(item.vendor or "")[:256],
        version=version,
    )


def _refund_row(site_id: str, refund: ShopifyRefund, *, currency: str | None, test: bool) -> RefundRow | None:
    """The money a refund returned: its successful `refund` transactions (restocks alone are 0)."""
    moved = [t for t in refund.transactions if t.kind == "refund" and t.status == "success"]
    code = next((t.currency for t in moved if t.currency), None) or currency
    if not moved or code is None:
        return None
    code = normalize_currency(code)
    lines = [line for line in refund.refund_line_items if line.line_item_id]
    return RefundRow(
        site_id=site_id,
        source="shopify",
        refund_id=refund.id,
        order_id=refund.order_id,
        payment_id=refund.order_id,
        refunded_at=refund.created_at,
        currency=code,
        amount=sum((from_major(t.amount, code) for t in moved), Decimal(0)),
        reason=(refund.note or "")[:1024],
        is_test=int(test or any(t.test for t in moved)),
        line_item_ids=[line.line_item_id or "" for line in lines],
        quantities=[line.quantity for line in lines],
        version=time_version(refund.created_at),
    )
