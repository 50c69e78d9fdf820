"""Issue 13's reproduced 503s, pinned one by one: each input the adversarial pass found answered
"retry" is a 4xx with a JSON error naming the field, on the route it was found on, and nothing
of it is enqueued. (The fuzz in test_fuzz_routes.py draws such values; these never move.)"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from typing import Any

import pytest

from fuzz.inputs import GOOD, Request, World, stripe_signature
from fuzz.stack import FuzzStack
from touchline.warehouse.client import connect

Body = dict[str, Any]


def _deep(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


def _order_completed(body: Body) -> Body:
    return body | {
        "event": "Order Completed",
        "properties": {"order_id": "o-pinned", "total": 10, "products": 5},
    }


def _sent_at(when: str) -> Callable[[Body], Body]:
    return lambda body: body | {"sentAt": when}


def _stripe_created(body: Body) -> Body:
    return body | {"created": 2**63} | {"data": {"object": body["data"]["object"] | {"created": 2**63}}}


# (route, how the good body is bent, a word the error must name)
DEEP = "nested deeper"
PINNED: dict[str, tuple[str, Callable[[Body], Any], str]] = {
    "collector: JSON deeper than the limit": ("POST /api/event", lambda b: b | {"p": _deep(40)}, DEEP),
    "tracking: JSON deeper than the limit": (
        "POST /v1/track",
        lambda b: b | {"properties": _deep(40)},
        DEEP,
    ),
    "payments: JSON deeper than the limit": ("POST /api/v1/payments", lambda b: b | {"x": _deep(40)}, DEEP),
    "stripe: JSON deeper than the limit": (
        "POST /webhooks/stripe/{site_id}",
        lambda b: b | {"x": _deep(40)},
        DEEP,
    ),
    "query: JSON deeper than the limit": ("POST /api/v2/query", lambda b: b | {"filters": _deep(40)}, DEEP),
    "collector: engagement time past UInt32": ("POST /api/event", lambda b: b | {"e": 5_000_000_000}, "e"),
    "tracking: timestamp in year 1": (
        "POST /v1/track",
        lambda b: b | {"timestamp": "0001-01-01T00:00:00Z"},
        "timestamp",
    ),
    "tracking: timestamp in year 9999": (
        "POST /v1/track",
        lambda b: b | {"timestamp": "9999-12-31T23:59:59.999Z"},
        "timestamp",
    ),
    "tracking: sentAt far in the past": ("POST /v1/batch", _sent_at("0001-01-01T00:00:00Z"), "sentAt"),
    "tracking: sentAt far in the future": ("POST /v1/batch", _sent_at("9999-12-31T23:59:59Z"), "sentAt"),
    "tracking: products is a number": ("POST /v1/track", _order_completed, "products"),
    "payments: amount 1e30": ("POST /api/v1/payments", lambda b: b | {"amount": "1e30"}, "amount"),
    "payments: timestamp in year 9999": (
        "POST /api/v1/payments",
        lambda b: b | {"timestamp": "9999-12-31T23:59:59Z"},
        "timestamp",
    ),
    "stripe: signed event created 2**63": ("POST /webhooks/stripe/{site_id}", _stripe_created, "created"),
    # Issue 13 point 6: three letters are not a currency.
    "collector: revenue goal in NAN": (
        "POST /api/event",
        lambda b: b | {"n": "Purchase", "$": {"amount": "10", "currency": "NAN"}},
        "currency",
    ),
    "tracking: order in NAN": (
        "POST /v1/track",
        lambda b: (
            b
            | {
                "event": "Order Completed",
                "properties": {"order_id": "o-nan", "total": 10, "currency": "NAN"},
            }
        ),
        "currency",
    ),
    "tracking: revenue in NAN": (
        "POST /v1/track",
        lambda b: b | {"properties": {"revenue": 9.99, "currency": "NAN"}},
        "currency",
    ),
    "payments: NAN": ("POST /api/v1/payments", lambda b: b | {"currency": "NAN"}, "currency"),
}


def _request(route_key: str, bend: Callable[[Body], Any], world: World) -> Request:
    data, headers, _ = GOOD[route_key](world, 0)
    body = json.dumps(bend(data)).encode()
    target = route_key.split(" ", 1)[1].replace("{site_id}", world.site_id)
    headers = list(headers)
    if route_key.startswith("POST /webhooks/stripe/"):
        headers.append(("stripe-signature", stripe_signature(body, world.stripe_secret)))
    return Request("POST", target, headers, body)


@pytest.mark.parametrize("case", list(PINNED), ids=list(PINNED))
def test_a_pinned_hostile_input_is_a_4xx_naming_the_field(
    case: str, fuzz_stack: tuple[FuzzStack, World]
) -> None:
    stack, world = fuzz_stack
    route_key, bend, field = PINNED[case]
    request = _request(route_key, bend, world)
    queued = len(stack.queue.bodies)
    answer = stack.request(request.method, request.target, request.headers, request.body)
    assert 400 <= answer.status < 500, (answer.status, answer.body[:400])
    assert "json" in answer.headers.get("content-type", "")
    error = answer.json()
    assert isinstance(error, dict) and ({"error", "message"} & set(error)), error
    # The field as a word of the message or of a problem's `field` ("e" is in every sentence).
    assert re.search(rf"(?<![A-Za-z_]){re.escape(field)}(?![A-Za-z_])", json.dumps(error)), error
    assert len(stack.queue.bodies) == queued, "a refused request enqueued something"


def test_a_signed_stripe_event_in_an_unlisted_currency_is_stored_flagged(
    fuzz_stack: tuple[FuzzStack, World],
) -> None:
    """Webhooks: a processor's signed money is never refused or lost for its currency code; it
    is stored with `currency_unlisted = 1` and the answer says which code (docs/revenue.md)."""
    stack, world = fuzz_stack
    data, _, marker = GOOD["POST /webhooks/stripe/{site_id}"](world, 90_001)
    data["data"]["object"]["currency"] = "zzz"
    request = _request("POST /webhooks/stripe/{site_id}", lambda _b: data, world)
    answer = stack.request(request.method, request.target, request.headers, request.body)
    assert answer.status == 200 and answer.json()["unlisted_currencies"] == ["ZZZ"], answer.body
    stack.load()
    rows = (
        connect(os.environ["TOUCHLINE_CLICKHOUSE_URL"])
        .query(
            "SELECT currency, currency_unlisted, amount FROM orders FINAL WHERE order_id = {o:String}",
            parameters={"o": marker.value if marker else ""},
        )
        .result_rows
    )
    assert [(c, int(f), str(a)) for c, f, a in rows] == [("ZZZ", 1, "49.0000")]


@pytest.mark.parametrize("depth", [40, 10_000])
def test_deep_json_to_the_accounts_api_with_a_session_is_a_400(
    depth: int, fuzz_stack: tuple[FuzzStack, World]
) -> None:
    """Powertools' own body parsing (the accounts API validates with it) recursed into a 500 on a
    body 10,000 arrays deep; found once the fuzz reached the handlers with a signed-in owner."""
    stack, world = fuzz_stack
    body = b'{"name": ' + b"[" * depth + b"]" * depth + b"}"
    headers = [("content-type", "application/json"), ("authorization", f"Bearer {world.session}")]
    answer = stack.request("POST", "/api/v1/orgs", headers, body)
    assert answer.status == 400, answer.body[:300]
    assert re.search("deeper|depth", json.dumps(answer.json()))
