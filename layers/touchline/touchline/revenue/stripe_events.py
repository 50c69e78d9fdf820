"""Verified Stripe events → orders, line items, refunds and identity links.

One payment reaches us through several event types (checkout session, payment intent, invoice);
they must write ONE order. The canonical order key, computable from each of them:

* the invoice id (`in_…`) when the payment belongs to an invoice (subscriptions): invoice events,
  checkout sessions with an `invoice`, payment intents and charges with an `invoice` (API versions
  before 2025-03-31.basil, which removed that field);
* else the PaymentIntent id (`pi_…`);
* else the checkout session id (`cs_…`), or the charge id for charges without a payment intent.

Every order row also records its PaymentIntent in `payment_id`, so a payment intent seen alone
under basil (no `invoice` field) is recognised later as the same payment as the invoice that lists
it, and the revenue report counts it once (docs/revenue.md). Which of the rows wins is
`order_version`: paid before unpaid, then session > invoice > payment intent (richer to poorer),
then the latest event. Payload shapes: https://docs.stripe.com/api/events/types.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from touchline.envelope import EARLIEST, LATEST
from touchline.identity.rows import email_sha256
from touchline.revenue.money import STRIPE_EXPONENTS, from_minor_decimal, from_stripe, normalize_currency
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow, order_version, time_version
from touchline.revenue.translation import Translation, ignored

VISITOR_METADATA_KEY = "touchline_visitor_id"
SESSION_EVENTS = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
REFUND_EVENTS = ("refund.created", "refund.updated", "charge.refund.updated")
CUSTOMER_EVENTS = ("customer.created", "customer.updated")
INVOICE_PAYMENT_EVENTS = ("invoice_payment.paid",)
# Which row of one order key wins (docs/revenue.md): the richer source, then the later event.
RANK_SESSION, RANK_INVOICE, RANK_PAYMENT_INTENT, RANK_INVOICE_PAYMENT = 3, 2, 1, 0
# An `invoice_payment.paid` retires the `pi_…` row its PaymentIntent wrote (basil): above every rank.
RANK_MERGED = 15


def _expandable_id(value: Any) -> Any:
    """Expandable fields arrive as an id, an expanded object (`{"id": …}`) or null."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _zero_if_null(value: Any) -> Any:
    """Amounts the API reference marks nullable (`total_details.amount_shipping`, …): null is 0."""
    return 0 if value is None else value


Ref = Annotated[str | None, BeforeValidator(_expandable_id)]
# An amount in minor units that may be null or absent (null and absent both mean none).
Amount = Annotated[int, BeforeValidator(_zero_if_null)]
Metadata = dict[str, str] | None


# Stripe's times are Unix seconds; a signed `created: 2**63` overflowed `datetime` into a 500
# (issue 13). Outside what the warehouse stores (2000-2099) it is a 400 naming the field.
Epoch = Annotated[int, Field(ge=int(EARLIEST.timestamp()), lt=int(LATEST.timestamp()))]


class _Obj(BaseModel):
    model_config = ConfigDict(extra="ignore")


class StripeEvent(_Obj):
    id: str = Field(min_length=1, max_length=255)
    type: str
    created: Epoch
    livemode: bool = True
    data: dict[str, Any]

    @property
    def object(self) -> dict[str, Any]:
        obj = self.data.get("object")
        return obj if isinstance(obj, dict) else {}

    @property
    def at(self) -> datetime:
        return _time(self.created)


class _Details(_Obj):
    email: str | None = None


class _TotalDetails(_Obj):
    amount_discount: Amount = 0
    amount_shipping: Amount = 0  # nullable: Stripe's own fixture sends null
    amount_tax: Amount = 0


class _ShippingCost(_Obj):
    amount_total: Amount = 0


class CheckoutSession(_Obj):
    id: str
    created: Epoch | None = None  # absent before 2022 (not in the 2020-08-27 objects): the event's time
    mode: str = "payment"
    amount_total: int | None = None
    amount_subtotal: int | None = None
    currency: str | None = None
    customer: Ref = None
    customer_email: str | None = None
    customer_details: _Details | None = None
    client_reference_id: str | None = None
    metadata: Metadata = None
    payment_intent: Ref = None
    invoice: Ref = None
    subscription: Ref = None
    payment_status: str = "unpaid"
    total_details: _TotalDetails | None = None
    shipping_cost: _ShippingCost | None = None

    def shipping(self) -> int:
        """Shipping charged: `total_details.amount_shipping`, else `shipping_cost` (both nullable)."""
        totals = self.total_details
        if totals is not None and totals.amount_shipping:
            return totals.amount_shipping
        return self.shipping_cost.amount_total if self.shipping_cost else 0


class PaymentIntent(_Obj):
    id: str
    created: Epoch
    amount: Amount = 0
    amount_received: Amount = 0
    currency: str
    customer: Ref = None
    metadata: Metadata = None
    receipt_email: str | None = None
    invoice: Ref = None  # removed in 2025-03-31.basil


class _Price(_Obj):
    id: str | None = None
    product: Ref = None
    unit_amount: int | None = None
    unit_amount_decimal: str | None = None


class _PriceDetails(_Obj):
    price: Ref = None
    product: Ref = None


class _Pricing(_Obj):
    """From 2025-03-31.basil an invoice line's price lives here, not in `price`."""

    price_details: _PriceDetails | None = None
    unit_amount_decimal: str | None = None


class _InvoiceLine(_Obj):
    id: str
    amount: Amount = 0
    quantity: int | None = None
    description: str | None = None
    price: _Price | None = None
    pricing: _Pricing | None = None

    def unit_amount(self) -> str | int | None:
        """Minor units, possibly fractional (`"1250.5"`): basil's `pricing`, else the old `price`."""
        if self.pricing is not None and self.pricing.unit_amount_decimal is not None:
            return self.pricing.unit_amount_decimal
        if self.price is None:
            return None
        if self.price.unit_amount_decimal is not None:
            return self.price.unit_amount_decimal
        return self.price.unit_amount


class _List(_Obj):
    data: list[dict[str, Any]] = Field(default_factory=list)


class _SubscriptionDetails(_Obj):
    subscription: Ref = None
    metadata: Metadata = None


class _InvoiceParent(_Obj):
    subscription_details: _SubscriptionDetails | None = None


class _StatusTransitions(_Obj):
    paid_at: Epoch | None = None


class _DiscountAmount(_Obj):
    amount: Amount = 0


class Invoice(_Obj):
    id: str
    created: Epoch
    amount_paid: Amount = 0
    amount_shipping: Amount = 0
    subtotal: Amount = 0
    tax: int | None = None  # removed in basil: `total_taxes`
    total_taxes: list[_DiscountAmount] | None = None
    currency: str
    customer: Ref = None
    customer_email: str | None = None
    subscription: Ref = None  # removed in basil: `parent.subscription_details.subscription`
    billing_reason: str | None = None
    payment_intent: Ref = None  # removed in basil: `payments` (not sent in webhooks)
    metadata: Metadata = None
    subscription_details: _SubscriptionDetails | None = None
    parent: _InvoiceParent | None = None
    status_transitions: _StatusTransitions | None = None
    total_discount_amounts: list[_DiscountAmount] | None = None
    lines: _List | None = None
    payments: _List | None = None

    def tax_total(self) -> int:
        if self.tax is not None:
            return self.tax
        return sum(tax.amount for tax in self.total_taxes or ())

    def subscription_id(self) -> str | None:
        details = self.parent.subscription_details if self.parent else None
        return self.subscription or (details.subscription if details else None)

    def subscription_metadata(self) -> dict[str, str]:
        details = self.subscription_details or (self.parent.subscription_details if self.parent else None)
        return (details.metadata if details else None) or {}

    def payment_intent_id(self) -> str | None:
        """Before basil the invoice names its PaymentIntent; from basil its `payments` list does."""
        if self.payment_intent:
            return self.payment_intent
        for entry in self.payments.data if self.payments else []:
            payment = entry.get("payment")
            if isinstance(payment, dict) and (found := _expandable_id(payment.get("payment_intent"))):
                return str(found)
        return None


class Refund(_Obj):
    id: str
    created: Epoch
    amount: Amount
    currency: str
    charge: Ref = None
    payment_intent: Ref = None
    status: str | None = None
    reason: str | None = None


class Charge(_Obj):
    id: str
    created: Epoch
    amount_refunded: Amount = 0
    currency: str
    customer: Ref = None
    payment_intent: Ref = None
    invoice: Ref = None
    refunds: _List | None = None


class Customer(_Obj):
    id: str
    email: str | None = None
    metadata: Metadata = None


class _InvoicePaymentRef(_Obj):
    payment_intent: Ref = None
    charge: Ref = None


class InvoicePayment(_Obj):
    """basil's link between an invoice and the PaymentIntent that paid it (`invoice_payment.paid`)."""

    id: str
    created: Epoch
    invoice: Ref = None
    amount_paid: Amount = 0
    currency: str | None = None
    payment: _InvoicePaymentRef | None = None
    status: str | None = None


def translate(site_id: str, event: StripeEvent) -> Translation:
    """The rows one verified event produces; event types we do not use are `handled=False`."""
    kind = event.type
    if kind in SESSION_EVENTS:
        return _session(site_id, event, CheckoutSession.model_validate(event.object))
    if kind == "payment_intent.succeeded":
        return _payment_intent(site_id, event, PaymentIntent.model_validate(event.object))
    if kind == "invoice.paid":
        return _invoice(site_id, event, Invoice.model_validate(event.object))
    if kind == "charge.refunded":
        return _charge_refunded(site_id, event, Charge.model_validate(event.object))
    if kind in REFUND_EVENTS:
        translation = Translation(kind)
        translation.add("refunds", _refund_row(site_id, event, Refund.model_validate(event.object)))
        return translation
    if kind in CUSTOMER_EVENTS:
        return _customer(site_id, event, Customer.model_validate(event.object))
    if kind in INVOICE_PAYMENT_EVENTS:
        return _invoice_payment(site_id, event, InvoicePayment.model_validate(event.object))
    return ignored(kind)


def _session(site_id: str, event: StripeEvent, session: CheckoutSession) -> Translation:
    translation = Translation(event.type)
    visitor = _visitor(session.metadata) or session.client_reference_id
    email = (session.customer_details.email if session.customer_details else None) or session.customer_email
    _links(translation, site_id, event, visitor, session.customer, email)
    money_moved = session.mode != "setup" and session.payment_status != "no_payment_required"
    if not money_moved or not session.amount_total or not session.currency:
        return translation
    paid = session.payment_status == "paid"
    totals = session.total_details or _TotalDetails()
    currency = normalize_currency(session.currency)
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="stripe",
            order_id=session.invoice or session.payment_intent or session.id,
            payment_id=session.payment_intent or "",
            source_event=event.type,
            status="paid" if paid else "pending",
            is_test=int(not event.livemode),
            ordered_at=_time(session.created) if session.created is not None else event.at,
            currency=currency,
            amount=from_stripe(session.amount_total, currency),
            subtotal=from_stripe(session.amount_subtotal or 0, currency),
            discount_amount=from_stripe(totals.amount_discount, currency),
            tax_amount=from_stripe(totals.amount_tax, currency),
            shipping_amount=from_stripe(session.shipping(), currency),
            is_subscription=int(session.mode == "subscription"),
            subscription_id=session.subscription or "",
            source_status=session.payment_status,
            version=order_version(event.at, paid=paid, rank=RANK_SESSION),
            **_person(visitor, session.customer, email),
        ),
    )
    return translation


def _payment_intent(site_id: str, event: StripeEvent, intent: PaymentIntent) -> Translation:
    translation = Translation(event.type)
    visitor = _visitor(intent.metadata)
    _links(translation, site_id, event, visitor, intent.customer, intent.receipt_email)
    amount = intent.amount_received or intent.amount
    if not amount:
        return translation
    currency = normalize_currency(intent.currency)
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="stripe",
            order_id=intent.invoice or intent.id,
            payment_id=intent.id,
            source_event=event.type,
            status="paid",
            is_test=int(not event.livemode),
            ordered_at=_time(intent.created),
            currency=currency,
            amount=from_stripe(amount, currency),
            is_subscription=int(intent.invoice is not None),
            source_status="succeeded",
            version=order_version(event.at, paid=True, rank=RANK_PAYMENT_INTENT),
            **_person(visitor, intent.customer, intent.receipt_email),
        ),
    )
    return translation


def _invoice(site_id: str, event: StripeEvent, invoice: Invoice) -> Translation:
    translation = Translation(event.type)
    visitor = _visitor(invoice.metadata) or _visitor(invoice.subscription_metadata())
    _links(translation, site_id, event, visitor, invoice.customer, invoice.customer_email)
    if not invoice.amount_paid:  # trials and fully discounted invoices move no money
        return translation
    currency = normalize_currency(invoice.currency)
    subscription = invoice.subscription_id()
    paid_at = invoice.status_transitions.paid_at if invoice.status_transitions else None
    version = order_version(event.at, paid=True, rank=RANK_INVOICE)
    lines = [_InvoiceLine.model_validate(line) for line in (invoice.lines.data if invoice.lines else [])]
    translation.add(
        "orders",
        OrderRow(
            site_id=site_id,
            source="stripe",
            order_id=invoice.id,
            payment_id=invoice.payment_intent_id() or "",
            source_event=event.type,
            status="paid",
            is_test=int(not event.livemode),
            ordered_at=_time(paid_at or invoice.created),
            currency=currency,
            amount=from_stripe(invoice.amount_paid, currency),
            subtotal=from_stripe(invoice.subtotal, currency),
            tax_amount=from_stripe(invoice.tax_total(), currency),
            shipping_amount=from_stripe(invoice.amount_shipping, currency),
            discount_amount=from_stripe(
                sum(d.amount for d in invoice.total_discount_amounts or ()), currency
            ),
            item_count=sum(line.quantity or 1 for line in lines),
            is_subscription=int(subscription is not None),
            renewal=int(invoice.billing_reason == "subscription_cycle"),
            subscription_id=subscription or "",
            source_status=invoice.billing_reason or "",
            version=version,
            **_person(visitor, invoice.customer, invoice.customer_email),
        ),
    )
    for line in lines:
        translation.add("order_line_items", _line_item(site_id, invoice.id, line, currency, version))
    return translation


def _line_item(
    site_id: str, order_id: str, line: _InvoiceLine, currency: str, version: int
) -> OrderLineItemRow:
    details = line.pricing.price_details if line.pricing else None
    product = (line.price.product if line.price else None) or (details.product if details else None)
    price = (line.price.id if line.price else None) or (details.price if details else None)
    unit = line.unit_amount()
    return OrderLineItemRow(
        site_id=site_id,
        source="stripe",
        order_id=order_id,
        line_item_id=line.id,
        product_id=product or "",
        variant_id=price or "",
        product_name=(line.description or "")[:1024],
        quantity=line.quantity or 1,
        unit_price=from_minor_decimal(unit, currency, STRIPE_EXPONENTS) if unit is not None else Decimal(0),
        line_total=from_stripe(line.amount, currency),
        currency=currency,
        version=version,
    )


def _charge_refunded(site_id: str, event: StripeEvent, charge: Charge) -> Translation:
    """The charge's running total refunded, plus each refund when the payload still lists them."""
    translation = Translation(event.type)
    currency = normalize_currency(charge.currency)
    translation.add(
        "refunds",
        RefundRow(
            site_id=site_id,
            source="stripe",
            refund_id=f"{charge.id}:refunded",
            order_id=charge.invoice or charge.payment_intent or charge.id,
            payment_id=charge.id,
            kind="cumulative",
            refunded_at=event.at,
            currency=currency,
            amount=from_stripe(charge.amount_refunded, currency),
            is_test=int(not event.livemode),
            version=time_version(event.at),
        ),
    )
    for listed in charge.refunds.data if charge.refunds else []:
        refund = Refund.model_validate({"charge": charge.id, **listed})
        row = _refund_row(site_id, event, refund, order_id=charge.invoice or charge.payment_intent)
        translation.add("refunds", row)
    return translation


def _refund_row(site_id: str, event: StripeEvent, refund: Refund, order_id: str | None = None) -> RefundRow:
    currency = normalize_currency(refund.currency)
    failed = refund.status in ("failed", "canceled")
    # Same-second events: a refund's later states must win (pending < succeeded < failed).
    state = {"failed": 2, "canceled": 2, "succeeded": 1}.get(refund.status or "", 0)
    return RefundRow(
        site_id=site_id,
        source="stripe",
        refund_id=refund.id,
        order_id=order_id or refund.payment_intent or refund.charge or "",
        payment_id=refund.charge or refund.payment_intent or refund.id,
        refunded_at=_time(refund.created),
        currency=currency,
        amount=from_stripe(refund.amount, currency),
        reason=refund.reason or "",
        is_test=int(not event.livemode),
        version=time_version(event.at) * 4 + state,
        is_deleted=int(failed),
    )


def _invoice_payment(site_id: str, event: StripeEvent, paid: InvoicePayment) -> Translation:
    """basil+: the only payload that says which invoice a PaymentIntent paid.

    Two rows: the invoice's order (the poorest rank, so `invoice.paid` replaces it when it comes,
    and it stands in when that event is not subscribed), and a tombstone over the `pi_…` order its
    `payment_intent.succeeded` wrote, ranked above everything so that key is gone whatever the
    arrival order. One payment, one order.
    """
    translation = Translation(event.type)
    intent = paid.payment.payment_intent if paid.payment else None
    if paid.status not in (None, "paid") or not paid.invoice or not paid.currency:
        return translation
    currency = normalize_currency(paid.currency)
    ordered = _time(paid.created)
    if paid.amount_paid:
        translation.add(
            "orders",
            OrderRow(
                site_id=site_id,
                source="stripe",
                order_id=paid.invoice,
                payment_id=intent or "",
                source_event=event.type,
                status="paid",
                is_test=int(not event.livemode),
                ordered_at=ordered,
                currency=currency,
                amount=from_stripe(paid.amount_paid, currency),
                source_status="paid",
                version=order_version(event.at, paid=True, rank=RANK_INVOICE_PAYMENT),
            ),
        )
    if intent:
        translation.add(
            "orders",
            OrderRow(
                site_id=site_id,
                source="stripe",
                order_id=intent,
                payment_id=intent,
                source_event=event.type,
                status="paid",
                is_test=int(not event.livemode),
                ordered_at=ordered,
                currency=currency,
                amount=Decimal(0),
                source_status=f"paid invoice {paid.invoice}"[:64],
                version=order_version(event.at, paid=True, rank=RANK_MERGED),
                is_deleted=1,
            ),
        )
    return translation


def _customer(site_id: str, event: StripeEvent, customer: Customer) -> Translation:
    translation = Translation(event.type)
    _links(translation, site_id, event, _visitor(customer.metadata), customer.id, customer.email)
    return translation


def _links(
    translation: Translation,
    site_id: str,
    event: StripeEvent,
    visitor: str | None,
    customer: str | None,
    email: str | None,
) -> None:
    translation.add_links(
        site_id,
        "stripe",
        event.at,
        [
            ("visitor", visitor or ""),
            ("stripe_customer", customer or ""),
            ("email_sha256", email_sha256(email) if email else ""),
        ],
    )


def _person(visitor: str | None, customer: str | None, email: str | None) -> dict[str, str]:
    return {
        "visitor_id": (visitor or "")[:128],
        "customer_id_type": "stripe_customer" if customer else "",
        "customer_id": customer or "",
        "email_sha256": email_sha256(email) if email else "",
    }


def _visitor(metadata: dict[str, str] | None) -> str | None:
    return (metadata or {}).get(VISITOR_METADATA_KEY) or None


def _time(epoch_seconds: int) -> datetime:
    return datetime.fromtimestamp(epoch_seconds, UTC)
