"""Every field Stripe documents as nullable, null, on every event type docs/revenue.md lists, at the
2020 and the newest fixture version: still stored (issue 11's first defect was a 400 for one such
null, `total_details.amount_shipping`, and Stripe gives up on a 4xx after three days).

Which fields are nullable is not our guess: it is read from the stripe library's classes, which
Stripe generates from its OpenAPI document (`Optional[...]` there is `nullable: true` in the spec;
the installed library's own API version is newer than the newest published fixtures, and a field
nullable now is one the old versions may send as null too). One field at a time, then all at once.
"""

from __future__ import annotations

import ast
import inspect
import json
from functools import cache
from typing import Any

import pytest
import stripe
from memory_intake import SITE, memory_intake
from provider_samples import (
    STRIPE_NEW,
    STRIPE_OLD,
    stripe_fixture_event,
    stripe_invoice_payment,
    stripe_object,
    stripe_paid_invoice,
    stripe_paid_session,
    stripe_refunded_charge,
    stripe_succeeded_intent,
)
from revenue_payloads import stripe_signature
from stripe.checkout import Session

from touchline.ingest.queue import ListQueue
from touchline.revenue.intake import RevenueIntake

# A session whose amount or currency is null moved no money (setup mode, a free trial): no order,
# by the documented rule "zero-amount sessions and invoices write no order" (docs/revenue.md).
NO_MONEY = {"checkout.session.completed": {"amount_total", "currency"}}
# A customer with neither `email` nor `metadata` names nothing to link its id to (accepted, no row).
NOTHING_TO_LINK = {"customer.created"}


@cache
def nullable(cls: type) -> frozenset[str]:
    """The top-level fields the library types `Optional[...]` (spec: `nullable: true`)."""
    tree = ast.parse(inspect.getsource(inspect.getmodule(cls)))  # type: ignore[arg-type]
    [node] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls.__name__]
    return frozenset(
        statement.target.id
        for statement in node.body
        if isinstance(statement, ast.AnnAssign)
        and isinstance(statement.target, ast.Name)
        and ast.unparse(statement.annotation).startswith("Optional[")
    )


def objects(version: str) -> dict[str, tuple[type, dict[str, Any], str]]:
    """Event type → (the library's class, the fixture in the event's state, the table it fills)."""
    customer = stripe_object(version, "customer")
    customer.update(email="jenny.rosen@example.com", metadata={"touchline_visitor_id": "v-null"})
    found: dict[str, tuple[type, dict[str, Any], str]] = {
        "checkout.session.completed": (Session, stripe_paid_session(version, amount=4999), "orders"),
        "payment_intent.succeeded": (
            stripe.PaymentIntent,
            stripe_succeeded_intent(version, amount=999),
            "orders",
        ),
        "invoice.paid": (
            stripe.Invoice,
            stripe_paid_invoice(version, amount=1000, payment_intent="pi_null"),
            "orders",
        ),
        "charge.refunded": (
            stripe.Charge,
            stripe_refunded_charge(version, refunded=700, payment_intent="pi_null"),
            "refunds",
        ),
        "refund.created": (stripe.Refund, {**stripe_object(version, "refund"), "amount": 700}, "refunds"),
        "customer.created": (stripe.Customer, customer, "identity_links"),
    }
    if version == STRIPE_NEW:
        paid = stripe_invoice_payment(invoice="in_null", payment_intent="pi_null", amount=1000)
        found["invoice_payment.paid"] = (stripe.InvoicePayment, paid, "orders")
    return found


def tables_written(
    revenue: RevenueIntake, queue: ListQueue, version: str, kind: str, obj: dict[str, Any]
) -> set[str]:
    event = stripe_fixture_event(version, kind, obj)
    body = json.dumps(event).encode()
    before = len(queue.bodies)
    answer = revenue.stripe(SITE, body, stripe_signature(body))  # an IntakeError (4xx) fails the test
    assert answer["ok"] is True and "ignored" not in answer, answer
    return {json.loads(envelope)["kind"] for envelope in queue.bodies[before:]}


@pytest.mark.parametrize("version", [STRIPE_OLD, STRIPE_NEW])
def test_every_documented_null_is_still_stored(version: str) -> None:
    queue = ListQueue()
    revenue = memory_intake(queue)
    checked = 0
    for kind, (cls, obj, table) in objects(version).items():
        fields = sorted(nullable(cls) & obj.keys())
        assert fields, (kind, "the library names no nullable field the fixture has")
        for field in fields:
            written = tables_written(revenue, queue, version, kind, {**obj, field: None})
            expected = field not in NO_MONEY.get(kind, set())
            assert (table in written) == expected, (version, kind, field, written)
            checked += 1
        every = {**obj, **{field: None for field in fields if field not in NO_MONEY.get(kind, set())}}
        written = tables_written(revenue, queue, version, kind, every)
        assert (table in written) == (kind not in NOTHING_TO_LINK), (version, kind, "all at once", written)
    assert checked > 100  # the library documents well over a hundred nullable fields on these objects
