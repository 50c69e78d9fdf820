"""Verified Shopify webhooks → orders, line items, refunds and identity links.

Every order topic (`orders/create`, `orders/paid`, `orders/updated`, `orders/cancelled`) carries
the whole order, keyed by its numeric id; the latest `updated_at` wins. Amounts are the
buyer's (presentment) currency, the `*_set.presentment_money` values, so an order and its refunds
(whose transactions are in the presentment currency) are in one currency; the shop-currency total
is kept beside it (`shop_currency`, `shop_amount`). The visitor comes from
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


def _amount_text(value: Any) -> Any:
    """Amounts are decimal strings; a few fields arrive as JSON numbers (kept exact via repr)."""
    if isinstance(value, float):
        return repr(value)
    return _text(value)


AmountText = Annotated[str, BeforeValidator(_amount_text)]


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


class _Money(_Obj):
    amount: AmountText = "0"
    currency_code: str | None = None


class _MoneySet(_Obj):
    """Shopify's money pair: the shop's currency and the buyer's (presentment) currency."""

    shop_money: _Money | None = None
    presentment_money: _Money | None = None


class _Allocation(_Obj):
    amount: str = "0"
    amount_set: _MoneySet | None = None


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
    price_set: _MoneySet | None = None
    total_discount: str = "0"
    total_discount_set: _MoneySet | None = None
    gift_card: bool = False
    discount_allocations: list[_Allocation] = Field(default_factory=list)


class _Transaction(_Obj):
    kind: str = ""
    status: str = ""
    amount: AmountText = "0"
    currency: str | None = None  # Shopify's own refunds/create sample sends null
    test: bool = False


class _RefundLine(_Obj):
    line_item_id: Id | None = None
    quantity: int = Field(0, ge=0)
    subtotal_set: _MoneySet | None = None


class _Adjustment(_Obj):
    amount_set: _MoneySet | None = None


class ShopifyRefund(_Obj):
    id: Id
    order_id: Id
    created_at: AwareDatetime
    note: str | None = None
    refund_line_items: list[_RefundLine] = Field(default_factory=list)
    transactions: list[_Transaction] = Field(default_factory=list)
    order_adjustments: list[_Adjustment] = Field(default_factory=list)
    total_duties_set: _MoneySet | None = None

    def listed_currency(self) -> str | None:
        """The buyer's currency as the refund's lines, adjustments or duties state it."""
        sets = [line.subtotal_set for line in self.refund_line_items]
        sets += [adjustment.amount_set for adjustment in self.order_adjustments]
        sets.append(self.total_duties_set)
        for money in sets:
            if money is not None and money.presentment_money and money.presentment_money.currency_code:
                return money.presentment_money.currency_code
        return None


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
    currency: str  # the shop's currency
    presentment_currency: str | None = None  # the buyer's; absent in old payloads (= currency)
    total_price: str
    total_price_set: _MoneySet | None = None
    subtotal_price: str | None = None
    subtotal_price_set: _MoneySet | None = None
    total_tax: str | None = None
    total_tax_set: _MoneySet | None = None
    total_discounts: str | None = None
    total_discounts_set: _MoneySet | None = None
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

    def money(self) -> _OrderMoney:
        return _OrderMoney(
            normalize_currency(self.currency),
            normalize_currency(self.presentment_currency or self.currency),
        )


class _OrderMoney:
    """Reads every amount of one order in the buyer's (presentment) currency.

    A `*_set` gives it directly; a plain string field (or an absent set) is in the shop's currency,
    which is only the buyer's when the two are the same, so otherwise the set is required.
    """

    def __init__(self, shop: str, presentment: str) -> None:
        self.shop = shop
        self.currency = presentment

    def amount(self, money: _MoneySet | None, shop_value: str | None) -> Decimal:
        buyer = money.presentment_money if money is not None else None
        if buyer is not None:
            code = normalize_currency(buyer.currency_code or self.currency)
            if code != self.currency:
                raise ValueError(f"presentment amount in {code}, order presented in {self.currency}")
            return from_major(buyer.amount, self.currency)
        if self.shop != self.currency:
            if shop_value in (None, "", "0", "0.0", "0.00"):
                return Decimal(0)
            raise ValueError(
                f"order presented in {self.currency} (shop currency {self.shop}) without presentment amounts"
            )
        return from_major(shop_value or "0", self.currency)


def translate(site_id: str, topic: str, payload: dict[str, Any]) -> Translation:
    if topic in ORDER_TOPICS:
        return _order(site_id, topic, ShopifyOrder.model_validate(payload))
    if topic == "refunds/create":
        translation = Translation(topic)
        refund = ShopifyRefund.model_validate(payload)
        if row := _refund_row(site_id, refund, order_currency=None, test=False):
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
    money = order.money()
    currency = money.currency
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
    shop_total = order.total_price_set.shop_money if order.total_price_set else None
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
            amount=money.amount(order.total_price_set, order.total_price),
            subtotal=money.amount(order.subtotal_price_set, order.subtotal_price),
            discount_amount=money.amount(order.total_discounts_set, order.total_discounts),
            tax_amount=money.amount(order.total_tax_set, order.total_tax),
            shipping_amount=money.amount(order.total_shipping_price_set, None),
            shop_currency=money.shop,
            shop_amount=from_major(shop_total.amount if shop_total else order.total_price, money.shop),
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
        translation.add("order_line_items", _line_item(site_id, order.id, item, money, version))
    for refund in order.refunds:
        if row := _refund_row(site_id, refund, order_currency=currency, test=order.test):
            translation.add("refunds", row)
    return translation


def _line_item(
    site_id: str, order_id: str, item: _LineItem, money: _OrderMoney, version: int
) -> OrderLineItemRow:
    currency = money.currency
    unit = money.amount(item.price_set, item.price)
    allocated = sum((money.amount(a.amount_set, a.amount) for a in item.discount_allocations), Decimal(0))
    discount = allocated or money.amount(item.total_discount_set, item.total_discount)
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


# How sure a refund row is of its currency: a better-sourced row of the same refund wins.
_FROM_TRANSACTION, _FROM_ORDER, _FROM_LINES, _UNKNOWN = 3, 2, 1, 0
NO_CURRENCY = "XXX"  # ISO 4217's "no currency": a refund whose payload names none (docs/revenue.md)


def _refund_row(
    site_id: str, refund: ShopifyRefund, *, order_currency: str | None, test: bool
) -> RefundRow | None:
    """The money a refund returned: its successful `refund` transactions (restocks alone are 0).

    Currency: the transactions' (the buyer's), else the order's, else what the refund's lines
    state; a refund that names none anywhere is still stored (as `XXX`, the lowest version) so it
    is not lost, and the order's next update, which carries it with the order's currency, replaces it.
    """
    moved = [t for t in refund.transactions if t.kind == "refund" and t.status == "success"]
    if not moved:
        return None
    named = next((t.currency for t in moved if t.currency), None)
    listed = refund.listed_currency()
    found = (
        (named, _FROM_TRANSACTION)
        if named
        else (order_currency, _FROM_ORDER)
        if order_currency
        else (listed, _FROM_LINES)
        if listed
        else (NO_CURRENCY, _UNKNOWN)
    )
    code = normalize_currency(found[0] or NO_CURRENCY)
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
        version=time_version(refund.created_at) * 4 + found[1],
    )
