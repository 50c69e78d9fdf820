"""`POST /api/v1/payments`: one payment from any processor, in DataFast's field names.

`transaction_id` is the order's key, so re-posting a payment replaces it (latest post wins) and
never adds a second order; `refunded: true` records the whole amount as refunded, a later post
with `refunded: false` withdraws that. Amounts are major units (`29.99`), never floats inside.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from touchline.envelope import EARLIEST, LATEST
from touchline.identity.rows import email_sha256
from touchline.revenue.money import InvalidAmount, from_major, iso_currency
from touchline.revenue.rows import OrderRow, RefundRow, time_version
from touchline.revenue.translation import Translation


class PaymentIn(BaseModel):
    """The request body; unknown fields (DataFast's `name`, …) are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    amount: Decimal
    currency: str
    transaction_id: str = Field(min_length=1, max_length=256)
    visitor_id: str | None = Field(
        None,
        max_length=128,
        validation_alias=AliasChoices("visitor_id", "touchline_visitor_id", "datafast_visitor_id"),
    )
    email: str | None = Field(None, max_length=320)
    customer_id: str | None = Field(None, max_length=256)
    renewal: bool = False
    refunded: bool = False
    timestamp: datetime | None = None

    @model_validator(mode="before")
    @classmethod
    def _exact_amount(cls, data: Any) -> Any:
        """Amount by the currency's decimal places, from the JSON text (never through a float)."""
        if isinstance(data, dict) and "amount" in data and isinstance(data.get("currency"), str):
            try:
                data = {**data, "amount": from_major(data["amount"], data["currency"])}
            except InvalidAmount as exc:
                raise ValueError(str(exc)) from None
        return data

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        try:
            return iso_currency(value)
        except InvalidAmount as exc:
            raise ValueError(str(exc)) from None

    @field_validator("amount")
    @classmethod
    def _not_negative(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("amount must not be negative; send refunded: true for a refund")
        return value

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        if not EARLIEST <= value < LATEST:
            raise ValueError("timestamp is out of range")
        return value


def translate(site_id: str, payment: PaymentIn, received_at: datetime) -> Translation:
    translation = Translation("payment")
    at = payment.timestamp or received_at
    version = time_version(received_at)
    email_hash = email_sha256(payment.email) if payment.email else ""
    translation.add_links(
        site_id,
        "api",
        at,
        [
            ("visitor", payment.visitor_id or ""),
            ("user", payment.customer_id or ""),
            ("email_sha256", email_hash),
        ],
    )
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="api",
            order_id=payment.transaction_id,
            payment_id=payment.transaction_id,
            source_event="payment",
            status="paid",
            ordered_at=at,
            currency=payment.currency,
            amount=payment.amount,
            visitor_id=payment.visitor_id or "",
            customer_id_type="user" if payment.customer_id else "",
            customer_id=payment.customer_id or "",
            email_sha256=email_hash,
            renewal=int(payment.renewal),
            is_subscription=int(payment.renewal),
            version=version,
        ),
    )
    translation.add(
        "refunds",
        RefundRow(
            site_id=site_id,
            source="api",
            refund_id=payment.transaction_id,
            order_id=payment.transaction_id,
            payment_id=payment.transaction_id,
            kind="cumulative",
            refunded_at=received_at if payment.refunded else at,
            currency=payment.currency,
            amount=payment.amount,
            version=version,
            # Not refunded: a tombstone, so a payment posted as refunded can be corrected.
            is_deleted=int(not payment.refunded),
        ),
    )
    return translation
