"""Rows of the revenue tables (migrations/0003_revenue.sql), as producers enqueue them.

Every producer builds these from a verified payload and sends them through the events queue; the
loader inserts them. `version` decides which of several rows with the same key survives
(ReplacingMergeTree): see `order_version` and docs/revenue.md for the rule.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row

# Decimal(18, 4): major units, exact for 0-, 2- and 3-decimal currencies.
Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
# klaviyo, hubspot: syncs (docs/syncs.md); the rest: webhooks and the payments API (docs/revenue.md)
Source = Literal["stripe", "shopify", "lemonsqueezy", "polar", "paddle", "api", "klaviyo", "hubspot"]
OrderStatus = Literal["paid", "pending", "voided"]

# Order versions: a paid row beats an unpaid one, then the richer source beats the poorer one
# (for the same payment, a checkout session knows the visitor; a bare payment intent may not),
# then the later event beats the earlier. Packed into one UInt64, event time in the low 44 bits
# (milliseconds, good until the year 2527).
_TIME_BITS = 44
_RANK_BITS = 4


def order_version(at: datetime, *, paid: bool, rank: int = 0) -> int:
    if not 0 <= rank < 1 << _RANK_BITS:
        raise ValueError(f"rank must be in [0, {1 << _RANK_BITS})")
    millis = int(at.timestamp() * 1000)
    return (int(paid) << (_TIME_BITS + _RANK_BITS)) | (rank << _TIME_BITS) | millis


def time_version(at: datetime) -> int:
    """Latest write wins: milliseconds since the epoch."""
    return int(at.timestamp() * 1000)


class OrderRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    source: Source
    order_id: str = Field(min_length=1, max_length=256)
    payment_id: str = Field("", max_length=256)
    source_event: str = Field("", max_length=64)
    status: OrderStatus
    cancelled: int = Field(0, ge=0, le=1)
    is_test: int = Field(0, ge=0, le=1)
    ordered_at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    currency: str = Field(min_length=3, max_length=3)
    # 1: a signed provider event's code that is not in ISO 4217, stored as sent (0014).
    currency_unlisted: int = Field(0, ge=0, le=1)
    amount: Money = Field(ge=0)
    subtotal: Money = Decimal(0)
    discount_amount: Money = Decimal(0)
    tax_amount: Money = Decimal(0)
    shipping_amount: Money = Decimal(0)
    item_count: int = Field(0, ge=0, le=4_294_967_295)
    discount_code: str = Field("", max_length=256)
    visitor_id: str = Field("", max_length=128)
    customer_id_type: str = Field("", max_length=32)
    customer_id: str = Field("", max_length=256)
    email_sha256: str = Field("", max_length=64)
    is_subscription: int = Field(0, ge=0, le=1)
    renewal: int = Field(0, ge=0, le=1)
    subscription_id: str = Field("", max_length=256)
    landing_site: str = Field("", max_length=2048)
    referring_site: str = Field("", max_length=2048)
    shipping_country: str = Field("", max_length=2)
    source_status: str = Field("", max_length=64)
    # Shopify: the shop's currency and total beside the buyer's `currency`/`amount` (0006).
    shop_currency: str = Field("", max_length=3)
    shop_amount: Money = Decimal(0)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)


class OrderLineItemRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    source: Source
    order_id: str = Field(min_length=1, max_length=256)
    line_item_id: str = Field(min_length=1, max_length=256)
    product_id: str = Field("", max_length=256)
    variant_id: str = Field("", max_length=256)
    sku: str = Field("", max_length=256)
    product_name: str = Field("", max_length=1024)
    quantity: int = Field(1, ge=0, le=4_294_967_295)
    unit_price: Money = Decimal(0)
    discount_amount: Money = Decimal(0)
    line_total: Money = Decimal(0)
    currency: str = Field(min_length=3, max_length=3)
    # What the payload says of the product (Shopify `vendor`, Klaviyo `Brand`/`Categories`, the
    # Segment spec's `brand`/`category`): commerce analytics use it where the catalogue is silent.
    brand: str = Field("", max_length=256)
    categories: list[str] = Field(default_factory=list, max_length=32)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)


class RefundRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    source: Source
    refund_id: str = Field(min_length=1, max_length=256)
    order_id: str = Field("", max_length=256)
    payment_id: str = Field(min_length=1, max_length=256)
    kind: Literal["refund", "cumulative"] = "refund"
    refunded_at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    currency: str = Field(min_length=3, max_length=3)
    currency_unlisted: int = Field(0, ge=0, le=1)  # as on orders (0014)
    amount: Money = Field(ge=0)
    reason: str = Field("", max_length=1024)
    is_test: int = Field(0, ge=0, le=1)
    line_item_ids: list[str] = Field(default_factory=list)
    quantities: list[int] = Field(default_factory=list)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)
