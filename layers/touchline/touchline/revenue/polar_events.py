"""Verified Polar webhooks → orders, line items, refunds and identity links.

Each delivery is `{"type": "order.paid", "timestamp": …, "data": <Order>}`, signed with Standard
Webhooks (https://polar.sh/docs/integrate/webhooks/events). Amounts are integers in cents of the
order's `currency`; `total_amount` (after discounts and tax) is what the buyer paid.

* `order.paid` (and `order.created` / `order.updated`, which carry the same Order): the order,
  keyed by its id; `billing_reason` tells a renewal (`subscription_cycle`) from a first purchase.
* `order.refunded`: the Order with its running `refunded_amount` (net) and `refunded_tax_amount`:
  one `cumulative` refund row per order, their sum, so partial refunds never add up twice.

The visitor comes from the checkout's metadata (`metadata.touchline_visitor_id`), which Polar
copies onto the order; the customer's `external_id` (the merchant's user id) links as `user`.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from touchline.identity.rows import email_sha256
from touchline.revenue.money import from_minor, normalize_currency
from touchline.revenue.rows import OrderLineItemRow, OrderRow, OrderStatus, RefundRow, time_version
from touchline.revenue.translation import Translation, ignored

VISITOR_KEY = "touchline_visitor_id"
ORDER_EVENTS = ("order.created", "order.updated", "order.paid", "order.refunded")
CUSTOMER_TYPE = "polar_customer"
# Same `modified_at`: paid and refunded describe later states than created/updated.
_RANK = {"order.created": 0, "order.updated": 1, "order.paid": 2, "order.refunded": 3}


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Customer(_Obj):
    id: str | None = None
    email: str | None = None
    external_id: str | None = None


class _Item(_Obj):
    id: str
    label: str = ""
    amount: int = 0
    tax_amount: int = 0
    product_price_id: str | None = None


class PolarOrder(_Obj):
    id: str
    created_at: AwareDatetime
    modified_at: AwareDatetime | None = None
    status: str = "pending"
    paid: bool = False
    subtotal_amount: int = 0
    discount_amount: int = 0
    tax_amount: int = 0
    total_amount: int = Field(ge=0)
    refunded_amount: int = 0
    refunded_tax_amount: int = 0
    currency: str
    billing_reason: str | None = None
    customer_id: str | None = None
    product_id: str | None = None
    subscription_id: str | None = None
    metadata: dict[str, Any] | None = None
    customer: _Customer | None = None
    items: list[_Item] = Field(default_factory=list)


class PolarEvent(_Obj):
    type: str
    timestamp: AwareDatetime | None = None
    data: dict[str, Any]


def translate(site_id: str, payload: dict[str, Any]) -> Translation:
    event = PolarEvent.model_validate(payload)
    if event.type not in ORDER_EVENTS:
        return ignored(event.type)
    order = PolarOrder.model_validate(event.data)
    translation = Translation(event.type)
    currency = normalize_currency(order.currency)
    updated = order.modified_at or order.created_at
    version = time_version(updated) * 4 + _RANK[event.type]
    visitor = str((order.metadata or {}).get(VISITOR_KEY) or "")[:128]
    customer = order.customer_id or (order.customer.id if order.customer else None)
    email = order.customer.email if order.customer else None
    email_hash = email_sha256(email) if email else ""
    user = order.customer.external_id if order.customer else None
    translation.add_links(
        site_id,
        "polar",
        updated,
        [
            ("visitor", visitor),
            (CUSTOMER_TYPE, customer or ""),
            ("email_sha256", email_hash),
            ("user", user or ""),
        ],
    )
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="polar",
            order_id=order.id,
            payment_id=order.id,
            source_event=event.type,
            status=_status(order),
            ordered_at=order.created_at,
            currency=currency,
            amount=from_minor(order.total_amount, currency),
            subtotal=from_minor(order.subtotal_amount, currency),
            discount_amount=from_minor(order.discount_amount, currency),
            tax_amount=from_minor(order.tax_amount, currency),
            item_count=len(order.items),
            visitor_id=visitor,
            customer_id_type=CUSTOMER_TYPE if customer else "",
            customer_id=customer or "",
            email_sha256=email_hash,
            is_subscription=int(order.subscription_id is not None),
            renewal=int(order.billing_reason == "subscription_cycle"),
            subscription_id=order.subscription_id or "",
            source_status=order.status[:64],
            version=version,
        ),
    )
    for item in order.items:
        translation.add(
            "order_line_items",
            OrderLineItemRow(
                site_id=site_id,
                source="polar",
                order_id=order.id,
                line_item_id=item.id,
                product_id=order.product_id or "",
                variant_id=item.product_price_id or "",
                product_name=item.label[:1024],
                quantity=1,
                unit_price=from_minor(item.amount, currency),
                line_total=from_minor(item.amount, currency),
                currency=currency,
                version=version,
            ),
        )
    refunded = order.refunded_amount + order.refunded_tax_amount
    if refunded or event.type == "order.refunded":
        translation.add(
            "refunds",
            RefundRow(
                site_id=site_id,
                source="polar",
                refund_id=f"{order.id}:refunded",
                order_id=order.id,
                payment_id=order.id,
                kind="cumulative",
                refunded_at=updated,
                currency=currency,
                amount=from_minor(refunded, currency),
                version=version,
            ),
        )
    return translation


def _status(order: PolarOrder) -> OrderStatus:
    # paid, refunded and partially_refunded orders were paid; refunds are separate rows.
    if order.paid or order.status in ("paid", "refunded", "partially_refunded"):
        return "paid"
    return "voided" if order.status == "void" else "pending"
