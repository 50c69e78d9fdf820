"""Bad input is a 4xx, never a 5xx: the providers' published payloads (tests/payloads), correctly
signed, with one field at a time deleted, nulled or given another JSON type or an out-of-range
value, through the whole intake (signature, JSON, translation, rows, envelopes).

A 5xx would be worse than a lost delivery: the provider retries it for days and then disables the
endpoint. So each mutant must either be stored (its rows valid) or refused with an `IntakeError`
the sender can read; any other exception is a bug. A few hundred mutants per provider by default;
`TOUCHLINE_FUZZ_CASES` raises that (bench-style long runs).
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from memory_intake import SITE, TOKEN, memory_intake
from provider_samples import (
    STRIPE_NEW,
    STRIPE_OLD,
    lemonsqueezy,
    lemonsqueezy_headers,
    paddle,
    paddle_headers,
    polar,
    polar_headers,
    shopify,
    shopify_headers,
    shopify_multicurrency_order,
    shopify_paid_order,
    shopify_refund_of,
    stripe_fixture_event,
    stripe_invoice_payment,
    stripe_object,
    stripe_paid_invoice,
    stripe_paid_session,
    stripe_refunded_charge,
    stripe_succeeded_intent,
)
from revenue_payloads import SHOPIFY_SECRET, stripe_signature

from touchline.ingest.queue import ListQueue
from touchline.load.kinds import envelope_adapter
from touchline.revenue.intake import IntakeError, RevenueIntake

CASES = int(os.environ.get("TOUCHLINE_FUZZ_CASES", "300"))
# What a field may become: gone, null, or any other JSON type, including the edge values that
# break careless parsing (huge and negative numbers, floats for integers, non-numeric strings).
REPLACEMENTS: list[Any] = [None, "", "x", "NaN", "1e400", 0, -1, 10**30, 1.5, True, [], {}, [None], {"a": 1}]
DELETE = object()


# ---------------------------------------------------------------------------- the published payloads


def stripe_events() -> list[dict[str, Any]]:
    events = []
    for version in (STRIPE_OLD, STRIPE_NEW):
        charge = stripe_refunded_charge(version, refunded=700, payment_intent="pi_1")
        refund = {**stripe_object(version, "refund"), "amount": 700}
        customer = {**stripe_object(version, "customer"), "metadata": {"touchline_visitor_id": "v1"}}
        events += [
            stripe_fixture_event(
                version, "checkout.session.completed", stripe_paid_session(version, amount=4999)
            ),
            stripe_fixture_event(
                version, "payment_intent.succeeded", stripe_succeeded_intent(version, amount=999)
            ),
            stripe_fixture_event(
                version, "invoice.paid", stripe_paid_invoice(version, amount=1000, payment_intent="pi_1")
            ),
            stripe_fixture_event(version, "charge.refunded", charge),
            stripe_fixture_event(version, "refund.created", refund),
            stripe_fixture_event(version, "customer.created", customer),
        ]
    paid = stripe_invoice_payment(invoice="in_1", payment_intent="pi_1", amount=1000)
    events.append(stripe_fixture_event(STRIPE_NEW, "invoice_payment.paid", paid))
    return events


def shopify_payloads() -> list[tuple[str, dict[str, Any]]]:
    multi = shopify_multicurrency_order()
    return [
        ("orders/create", shopify("orders_create")),
        ("orders/paid", shopify_paid_order()),
        ("orders/updated", {**multi, "refunds": [shopify_refund_of(multi, currency=None, amount="10.00")]}),
        ("refunds/create", shopify("refunds_create")),
        ("refunds/create", shopify_refund_of(multi, currency="EUR", amount="25.00")),
        ("customers/create", shopify("customers_create")),
    ]


def lemonsqueezy_payloads() -> list[dict[str, Any]]:
    names = [
        "order_created",
        "order_refunded",
        "subscription_payment_success.renewal",
        "subscription_payment_refunded",
    ]
    return [lemonsqueezy(name) for name in names]


def paddle_payloads() -> list[dict[str, Any]]:
    approved = paddle("adjustment.created", status="approved")
    return [paddle("transaction.completed"), paddle("adjustment.created"), approved]


# ---------------------------------------------------------------------------- mutation


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and index under `node`, parents before children."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
    for key, value in items:
        yield (*prefix, key)
        yield from paths(value, (*prefix, key))


def mutate(
    payload: dict[str, Any], rng: random.Random, keep: Callable[[tuple[Any, ...]], bool]
) -> dict[str, Any]:
    mutant = copy.deepcopy(payload)
    path = rng.choice([p for p in paths(mutant) if keep(p)])
    parent = mutant
    for key in path[:-1]:
        parent = parent[key]
    replacement = rng.choice([DELETE, *REPLACEMENTS])
    if replacement is DELETE and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = copy.deepcopy(replacement if replacement is not DELETE else None)
    return mutant


def outcome(call: Callable[[], dict[str, Any]], queue: ListQueue) -> str:
    """`stored`/`ignored`/`4xx`; anything else (a 5xx) fails the test with the exception."""
    before = len(queue.bodies)
    try:
        answer = call()
    except IntakeError as refused:
        assert 400 <= refused.status < 500, refused.body()
        assert len(queue.bodies) == before  # nothing enqueued for a refused delivery
        return "4xx"
    assert answer["ok"] is True
    for body in queue.bodies[before:]:
        envelope_adapter().validate_json(body)  # as the loader reads it: never a poison message
    return "ignored" if "ignored" in answer else "stored"


def run(
    provider: str, payloads: list[Any], send: Callable[[RevenueIntake, Any, int], dict[str, Any]]
) -> dict[str, int]:
    queue = ListQueue()
    revenue = memory_intake(queue)
    seen: dict[str, int] = {}
    for case in range(CASES):
        original = payloads[case % len(payloads)]
        try:
            result = outcome(lambda: send(revenue, original, case), queue)  # noqa: B023 - called at once
        except AssertionError:
            raise
        except Exception as exc:  # the point: name the mutant that broke the intake
            raise AssertionError(f"{provider} mutant {case} raised {exc!r}") from exc
        seen[result] = seen.get(result, 0) + 1
    return seen


def body_of(payload: Any) -> bytes:
    return json.dumps(payload).encode()


# ---------------------------------------------------------------------------- per provider


def test_stripe_mutants_are_stored_or_refused() -> None:
    events = stripe_events()

    def send(revenue: RevenueIntake, event: dict[str, Any], case: int) -> dict[str, Any]:
        rng = random.Random(case)
        mutant = mutate(
            event, rng, keep=lambda p: (p[0] == "data" and len(p) > 2) or p[0] in ("type", "created")
        )
        mutant["id"] = f"evt_fuzz_{case}"
        body = body_of(mutant)
        return revenue.stripe(SITE, body, stripe_signature(body))

    seen = run("stripe", events, send)
    assert seen.get("stored", 0) and seen.get("4xx", 0), seen  # the mutants reach both answers


def test_shopify_mutants_are_stored_or_refused() -> None:
    payloads = shopify_payloads()

    def send(revenue: RevenueIntake, topic_payload: tuple[str, dict[str, Any]], case: int) -> dict[str, Any]:
        topic, payload = topic_payload
        body = body_of(mutate(payload, random.Random(case), keep=lambda p: True))
        headers = {
            k.lower(): v for k, v in shopify_headers(body, topic, SHOPIFY_SECRET, f"wh-{case}").items()
        }
        return revenue.shopify(SITE, body, headers)

    seen = run("shopify", payloads, send)
    assert seen.get("stored", 0) and seen.get("4xx", 0), seen


@pytest.mark.parametrize(
    ("provider", "payloads"),
    [
        ("lemonsqueezy", lemonsqueezy_payloads()),
        ("polar", [polar("order.paid"), polar("order.refunded")]),
        ("paddle", paddle_payloads()),
    ],
)
def test_processor_mutants_are_stored_or_refused(provider: str, payloads: list[dict[str, Any]]) -> None:
    now = datetime.now(UTC)

    def send(revenue: RevenueIntake, payload: dict[str, Any], case: int) -> dict[str, Any]:
        body = body_of(mutate(payload, random.Random(case), keep=lambda p: True))
        if provider == "lemonsqueezy":
            headers = lemonsqueezy_headers(body, str(payload["meta"]["event_name"]))
        elif provider == "polar":
            headers = polar_headers(body, f"msg_fuzz_{case}", at=now)
        else:
            headers = paddle_headers(body)
        return revenue.webhook(provider, SITE, body, {k.lower(): v for k, v in headers.items()})

    seen = run(provider, payloads, send)
    assert seen.get("stored", 0) and seen.get("4xx", 0), seen


def test_payments_api_mutants_are_stored_or_refused() -> None:
    """Our own API, in docs/revenue.md's field names (every documented field present)."""
    documented = {
        "amount": "29.99",
        "currency": "usd",
        "transaction_id": "txn_1",
        "visitor_id": "v1",
        "email": "ada@example.com",
        "customer_id": "cus_1",
        "renewal": False,
        "refunded": False,
        "timestamp": "2026-11-20T10:00:00Z",
    }

    def send(revenue: RevenueIntake, payload: dict[str, Any], case: int) -> dict[str, Any]:
        mutant = mutate(payload, random.Random(case), keep=lambda p: True)
        return revenue.payment(f"Bearer {TOKEN}", body_of(mutant))

    seen = run("api", [documented], send)
    assert seen.get("stored", 0) and seen.get("4xx", 0), seen
