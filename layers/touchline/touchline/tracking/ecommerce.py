"""E-commerce semantic events (Segment's V2 e-commerce spec) → revenue rows.

`Order Completed` becomes an `orders` row (+ one `order_line_items` row per product) and
`Order Refunded` a `refunds` row, through the revenue models the webhooks use, so a server-side
purchase counts in attribution exactly like a Stripe or Shopify one. Orders are keyed by the
sender's `order_id`: a redelivered or repeated `Order Completed` for the same order replaces the
earlier row instead of adding to it.

The same purchase may also arrive by webhook. An order whose id is the processor's (Stripe
`pi_…`/`in_…`/`cs_…`/`ch_…`, or any id with `order_source: "stripe" | "shopify"`) is written under
that processor's source, in the key the webhook uses, with a version below every webhook row's:
the webhook's richer row replaces it when both arrive, and it counts on its own when the webhook
never comes. Refunds of such orders are left to the processor's webhooks (a second report of the
same refund would be subtracted twice); `Order Refunded` writes refund rows for `api` orders only.

The other semantic events (`Product Viewed`, `Checkout Started`, `Product Added`, …) stay
`events` rows whose properties keep the product data.

Amounts are major units, as the spec sends them; more decimal places than the currency has
(computed prices such as 33.3333) are rounded half-up to the currency's places rather than
refused: a purchase is never dropped over a rounding artefact.
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from touchline.envelope import Row
from touchline.revenue.money import MAX_AMOUNT, InvalidAmount, exponent, iso_currency
from touchline.revenue.rows import (
    OrderLineItemRow,
    OrderRow,
    RefundRow,
    Source,
    order_version,
    time_version,
)

ORDER_COMPLETED = "Order Completed"
ORDER_REFUNDED = "Order Refunded"
DEFAULT_CURRENCY = "USD"  # the spec's default when `currency` is absent
SOURCE = "api"
PROCESSORS = ("stripe", "shopify")
STRIPE_ID_PREFIXES = ("pi_", "in_", "cs_", "ch_")
# A rank below every Stripe webhook's (1-3): for the same key, the processor's own word wins.
RANK_API = 0

PURCHASE = "purchase"
REFUND = "refund"


class InvalidOrder(ValueError):
    """An order or refund event the revenue tables cannot hold (bad amount, no order id)."""


def event_type_of(event: str) -> str | None:
    """`purchase` / `refund` for the events that move money, else None (a plain `track`)."""
    if event == ORDER_COMPLETED:
        return PURCHASE
    if event == ORDER_REFUNDED:
        return REFUND
    return None


def money(value: Any, currency: str, field: str) -> Decimal:
    """A major-unit amount (number or numeric string), rounded to the currency's places."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise InvalidOrder(f"properties.{field} must be a number")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise InvalidOrder(f"properties.{field} must be a number") from None
    if not amount.is_finite() or abs(amount) > MAX_AMOUNT:
        raise InvalidOrder(f"properties.{field} is out of range")
    return amount.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def currency_of(properties: dict[str, Any]) -> str:
    raw = properties.get("currency") or DEFAULT_CURRENCY
    try:
        return iso_currency(str(raw))
    except InvalidAmount as exc:
        raise InvalidOrder(f"properties.currency: {exc}") from None


def order_total(properties: dict[str, Any], currency: str) -> Decimal | None:
    """What the customer paid: `total`, else `revenue` (+ shipping and tax when given), else `value`."""
    if properties.get("total") is not None:
        return money(properties["total"], currency, "total")
    if properties.get("revenue") is not None:
        amount = money(properties["revenue"], currency, "revenue")
        for extra in ("shipping", "tax"):
            if properties.get(extra) is not None:
                amount += money(properties[extra], currency, extra)
        return amount
    if properties.get("value") is not None:
        return money(properties["value"], currency, "value")
    return None


def order_rows(
    site_id: str,
    properties: dict[str, Any],
    at: datetime,
    *,
    visitor_id: str,
    user_id: str,
    email_hash: str,
) -> list[tuple[str, Row]]:
    """The `orders` row and its line items for one `Order Completed`."""
    order_id = _order_id(properties)
    source = order_source(properties, order_id)
    currency = currency_of(properties)
    total = order_total(properties, currency)
    if total is None:
        raise InvalidOrder("Order Completed needs properties.total (or revenue, or value)")
    if total < 0:
        raise InvalidOrder("properties.total must not be negative")
    version = _version(source, at)
    listed = properties.get("products") or []
    if not isinstance(listed, list):
        raise InvalidOrder(f"properties.products must be a list of products, not {type(listed).__name__}")
    products = [p for p in listed if isinstance(p, dict)]
    items = [_line_item(site_id, source, order_id, i, p, currency, version) for i, p in enumerate(products)]
    order = OrderRow(
        site_id=site_id,
        source=source,
        order_id=order_id,
        # The order id doubles as the payment id: a webhook order recording the same id as its
        # order or payment is the same purchase (docs/tracking-api.md, "Purchases").
        payment_id=order_id,
        source_event=ORDER_COMPLETED,
        status="paid",
        ordered_at=at,
        currency=currency,
        amount=total,
        subtotal=_optional(properties, "subtotal", currency),
        discount_amount=abs(_optional(properties, "discount", currency)),
        tax_amount=_optional(properties, "tax", currency),
        shipping_amount=_optional(properties, "shipping", currency),
        item_count=sum(item.quantity for item in items),
        discount_code=str(properties.get("coupon") or "")[:256],
        visitor_id=visitor_id[:128],
        customer_id_type="user" if user_id else "",
        customer_id=user_id,
        email_sha256=email_hash,
        version=version,
    )
    return [("orders", order), *(("order_line_items", item) for item in items)]


def refund_row(site_id: str, properties: dict[str, Any], at: datetime, message_id: str) -> RefundRow | None:
    """One `Order Refunded` call is one refund of `total` (the whole order when it is the order's
    total, part of it otherwise); the message id keys it, so a redelivery is the same refund.
    None for a processor's order: its webhooks report the refund."""
    order_id = _order_id(properties)
    if order_source(properties, order_id) != SOURCE:
        return None
    currency = currency_of(properties)
    amount = order_total(properties, currency)
    if amount is None:
        raise InvalidOrder("Order Refunded needs properties.total: the amount refunded")
    listed = properties.get("products") or []
    if not isinstance(listed, list):
        raise InvalidOrder(f"properties.products must be a list of products, not {type(listed).__name__}")
    products = [p for p in listed if isinstance(p, dict)]
    return RefundRow(
        site_id=site_id,
        source=SOURCE,
        refund_id=f"{order_id}:{message_id}"[:256],
        order_id=order_id,
        payment_id=order_id,
        refunded_at=at,
        currency=currency,
        amount=abs(amount),
        reason=str(properties.get("reason") or "")[:1024],
        line_item_ids=[_line_id(i, p) for i, p in enumerate(products)],
        quantities=[_quantity(p) for p in products],
        version=time_version(at),
    )


def order_source(properties: dict[str, Any], order_id: str) -> Source:
    declared = str(properties.get("order_source") or "").strip().lower()
    if declared == "stripe" or (not declared and order_id.startswith(STRIPE_ID_PREFIXES)):
        return "stripe"
    if declared == "shopify":
        return "shopify"
    return "api"


def _version(source: str, at: datetime) -> int:
    """Below the webhooks' versions for the same key: Stripe's rank ≥ 1 and Shopify's 4 * ms."""
    if source == "stripe":
        return order_version(at, paid=True, rank=RANK_API)
    return time_version(at)


def _order_id(properties: dict[str, Any]) -> str:
    raw = properties.get("order_id")
    if isinstance(raw, bool) or not isinstance(raw, str | int) or not str(raw).strip():
        raise InvalidOrder("properties.order_id is required (a string): orders are keyed by it")
    return str(raw).strip()[:256]


def _optional(properties: dict[str, Any], field: str, currency: str) -> Decimal:
    value = properties.get(field)
    return Decimal(0) if value is None else money(value, currency, field)


def _line_id(index: int, product: dict[str, Any]) -> str:
    for key in ("product_id", "sku", "id"):
        if product.get(key) not in (None, ""):
            return str(product[key])[:256]
    return str(index)


def _quantity(product: dict[str, Any]) -> int:
    raw = product.get("quantity", 1)
    try:
        quantity = int(raw)
    except (TypeError, ValueError):
        quantity = 1
    return min(max(quantity, 0), 4_294_967_295)


def _line_item(
    site_id: str,
    source: Source,
    order_id: str,
    index: int,
    product: dict[str, Any],
    currency: str,
    version: int,
) -> OrderLineItemRow:
    quantity = _quantity(product)
    price = product.get("price")
    unit = Decimal(0) if price is None else abs(money(price, currency, "products[].price"))
    return OrderLineItemRow(
        site_id=site_id,
        source=source,
        order_id=order_id,
        line_item_id=_line_id(index, product),
        product_id=str(product.get("product_id") or product.get("id") or "")[:256],
        variant_id=str(product.get("variant") or "")[:256],
        sku=str(product.get("sku") or "")[:256],
        product_name=str(product.get("name") or "")[:1024],
        quantity=quantity,
        unit_price=unit,
        line_total=unit * quantity,
        currency=currency,
        brand=str(product.get("brand") or "")[:256],
        categories=[str(product["category"])[:256]] if product.get("category") else [],
        version=version,
    )
