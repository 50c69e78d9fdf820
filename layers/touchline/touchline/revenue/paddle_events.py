"""Verified Paddle Billing notifications → orders, line items, refunds and identity links.

Each delivery is `{"event_id", "event_type", "occurred_at", "notification_id", "data"}`
(https://developer.paddle.com/webhooks/overview). Amounts are strings of the currency's lowest
denomination (`"65215"` USD is 652.15) in the transaction's `currency_code`, the buyer's.

* `transaction.completed` (and `transaction.paid`, the same transaction a moment earlier): the
  order, keyed by the transaction id; `details.totals.grand_total` (after discounts, tax and
  credits) is what the buyer was charged. `origin: subscription_recurring` is a renewal.
* `adjustment.created` / `adjustment.updated` with `action: refund`: one refund per adjustment,
  keyed by its id. Paddle approves refunds after the fact, so a refund counts only while
  `status` is `approved`; a pending, rejected or reversed one is a tombstone that the next update
  replaces. Credits, chargebacks and their reversals are acknowledged, not stored (docs/revenue.md).

The visitor comes from the checkout's custom data (`customData: {touchline_visitor_id}` in Paddle.js),
which the transaction carries as `custom_data`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from touchline.revenue.money import from_minor, from_minor_decimal, normalize_currency
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow, time_version
from touchline.revenue.translation import Translation, ignored

VISITOR_KEY = "touchline_visitor_id"
TRANSACTION_EVENTS = ("transaction.paid", "transaction.completed")
ADJUSTMENT_EVENTS = ("adjustment.created", "adjustment.updated")
CUSTOMER_TYPE = "paddle_customer"
_RANK = {"transaction.paid": 0, "transaction.completed": 1}
# Same `updated_at`: a decided refund beats a pending one.
_ADJUSTMENT_STATE = {"pending_approval": 0, "approved": 1, "rejected": 2, "reversed": 2}


def _minor(value: Any) -> Any:
    """Paddle sends amounts as digit strings; null means none."""
    if value is None:
        return 0
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


Minor = Annotated[int, BeforeValidator(_minor)]


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Totals(_Obj):
    subtotal: Minor = 0
    discount: Minor = 0
    tax: Minor = 0
    total: Minor = 0
    credit: Minor = 0
    grand_total: Minor | None = None
    currency_code: str | None = None


class _Product(_Obj):
    id: str | None = None
    name: str | None = None


class _LineItem(_Obj):
    id: str
    price_id: str | None = None
    quantity: int = Field(1, ge=0)
    totals: _Totals = Field(default_factory=_Totals)
    unit_totals: _Totals | None = None
    product: _Product | None = None


class _Details(_Obj):
    totals: _Totals
    line_items: list[_LineItem] = Field(default_factory=list)


class PaddleTransaction(_Obj):
    id: str
    status: str
    customer_id: str | None = None
    subscription_id: str | None = None
    currency_code: str
    origin: str | None = None
    custom_data: dict[str, Any] | None = None
    details: _Details
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None
    billed_at: AwareDatetime | None = None


class PaddleAdjustment(_Obj):
    id: str
    action: str
    status: str
    transaction_id: str
    currency_code: str
    totals: _Totals
    reason: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime | None = None


class PaddleNotification(_Obj):
    event_id: str = Field(min_length=1)
    event_type: str
    occurred_at: AwareDatetime | None = None
    notification_id: str | None = None
    data: dict[str, Any]

    @property
    def delivery_id(self) -> str:
        """Retries of one notification keep its `notification_id`."""
        return self.notification_id or self.event_id


def translate(site_id: str, payload: dict[str, Any]) -> Translation:
    notification = PaddleNotification.model_validate(payload)
    kind = notification.event_type
    if kind in TRANSACTION_EVENTS:
        return _transaction(site_id, kind, PaddleTransaction.model_validate(notification.data))
    if kind in ADJUSTMENT_EVENTS:
        adjustment = PaddleAdjustment.model_validate(notification.data)
        if adjustment.action != "refund":
            return ignored(f"{kind}:{adjustment.action}")
        return _adjustment(site_id, kind, adjustment)
    return ignored(kind)


def _transaction(site_id: str, kind: str, transaction: PaddleTransaction) -> Translation:
    translation = Translation(kind)
    totals = transaction.details.totals
    currency = normalize_currency(totals.currency_code or transaction.currency_code)
    updated = transaction.updated_at or transaction.created_at
    version = time_version(updated) * 4 + _RANK[kind]
    visitor = str((transaction.custom_data or {}).get(VISITOR_KEY) or "")[:128]
    customer = transaction.customer_id or ""
    translation.add_links(site_id, "paddle", updated, [("visitor", visitor), (CUSTOMER_TYPE, customer)])
    charged = totals.grand_total if totals.grand_total is not None else totals.total - totals.credit
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="paddle",
            order_id=transaction.id,
            payment_id=transaction.id,
            source_event=kind,
            status="paid" if transaction.status in ("paid", "completed") else "pending",
            ordered_at=transaction.billed_at or transaction.created_at,
            currency=currency,
            amount=from_minor(charged, currency),
            subtotal=from_minor(totals.subtotal, currency),
            discount_amount=from_minor(totals.discount, currency),
            tax_amount=from_minor(totals.tax, currency),
            item_count=sum(line.quantity for line in transaction.details.line_items),
            visitor_id=visitor,
            customer_id_type=CUSTOMER_TYPE if customer else "",
            customer_id=customer,
            is_subscription=int(transaction.subscription_id is not None),
            renewal=int(transaction.origin == "subscription_recurring"),
            subscription_id=transaction.subscription_id or "",
            source_status=transaction.status[:64],
            version=version,
        ),
    )
    for line in transaction.details.line_items:
        unit = line.unit_totals.subtotal if line.unit_totals else None
        translation.add(
            "order_line_items",
            OrderLineItemRow(
                site_id=site_id,
                source="paddle",
                order_id=transaction.id,
                line_item_id=line.id,
                product_id=(line.product.id if line.product else None) or "",
                variant_id=line.price_id or "",
                product_name=((line.product.name if line.product else None) or "")[:1024],
                quantity=line.quantity,
                unit_price=from_minor(unit, currency)
                if unit is not None
                else from_minor_decimal(Decimal(line.totals.subtotal) / max(line.quantity, 1), currency),
                discount_amount=from_minor(line.totals.discount, currency),
                line_total=from_minor(line.totals.subtotal - line.totals.discount, currency),
                currency=currency,
                version=version,
            ),
        )
    return translation


def _adjustment(site_id: str, kind: str, adjustment: PaddleAdjustment) -> Translation:
    translation = Translation(kind)
    currency = normalize_currency(adjustment.totals.currency_code or adjustment.currency_code)
    updated = adjustment.updated_at or adjustment.created_at
    translation.add(
        "refunds",
        RefundRow(
            site_id=site_id,
            source="paddle",
            refund_id=adjustment.id,
            order_id=adjustment.transaction_id,
            payment_id=adjustment.transaction_id,
            refunded_at=adjustment.created_at,
            currency=currency,
            amount=from_minor(adjustment.totals.total, currency),
            reason=(adjustment.reason or "")[:1024],
            version=time_version(updated) * 4 + _ADJUSTMENT_STATE.get(adjustment.status, 0),
            is_deleted=int(adjustment.status != "approved"),
        ),
    )
    return translation
