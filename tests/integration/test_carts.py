"""Carts, wishlists and reviews end to end in process: tracking API → loader → `cart_events`,
`wishlist_events`, `product_reviews` → `shopping_carts` and the query API's cart metrics, fed
with the published examples of Segment's e-commerce spec v2 (tests/payloads/specs) and checked
against a small oracle of the abandonment rule (docs/carts.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tracking_pipeline import RECEIVED, SPECS, Pipeline

from touchline.commerce.run import PRODUCTS, CommerceRunner
from touchline.config.watermarks import MemoryWatermarks

EXAMPLES: dict[str, dict[str, Any]] = {
    step["event"]: step["properties"]
    for step in json.loads((SPECS / "segment-ecommerce-carts.json").read_text())
}


def call(user: str, event: str, properties: dict[str, Any], at: datetime, message_id: str) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": event,
        "properties": properties,
        "messageId": message_id,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
    }


def test_the_published_examples_fill_one_cart_a_wishlist_and_a_review(pipeline: Pipeline) -> None:
    cart = "skdjsidjsdkdj29j"
    at = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    steps = ["Product Added", "Product Removed", "Product Added", "Cart Viewed"]
    calls = [
        call("u1", event, {**EXAMPLES[event], "cart_id": cart}, at + timedelta(minutes=i), f"m{i}")
        for i, event in enumerate(steps)
    ]
    calls += [
        call("u1", event, EXAMPLES[event], at + timedelta(minutes=10 + i), f"n{i}")
        for i, event in enumerate(["Product Added to Wishlist", "Product Reviewed"])
    ]
    assert pipeline.send(calls)["accepted"] == 6
    assert pipeline.send(calls)["accepted"] == 6  # an SDK retry: the same messageIds
    pipeline.deliver()
    lines = pipeline.sql(
        "SELECT action, snapshot, product_id, quantity, price FROM cart_events FINAL "
        "WHERE site_id = {site:String} ORDER BY at, line"
    )
    assert lines == [
        ("added", 0, "507f1f77bcf86cd799439011", 1, Decimal("18.99")),
        ("removed", 0, "507f1f77bcf86cd799439011", -1, Decimal("18.99")),
        ("added", 0, "507f1f77bcf86cd799439011", 1, Decimal("18.99")),
        # Cart Viewed lists the cart without quantities: one of each, at the listed price
        ("viewed", 1, "507f1f77bcf86cd799439011", 1, Decimal("19")),
        ("viewed", 1, "505bd76785ebb509fc183733", 1, Decimal("3")),
    ]
    state = pipeline.sql(
        "SELECT cart_id, visitor_id, currency, value, items, products, calls FROM shopping_carts "
        "WHERE site_id = {site:String}"
    )
    assert state == [(cart, "u1", "USD", Decimal("22"), 2, 2, 4)]
    assert pipeline.sql(
        "SELECT wishlist_id, wishlist_name, action, product_id, price FROM wishlist_events FINAL "
        "WHERE site_id = {site:String}"
    ) == [("skdjsidjsdkdj29j", "Loved Games", "added", "507f1f77bcf86cd799439011", Decimal("18.99"))]
    assert pipeline.sql(
        "SELECT product_id, review_id, rating, rated, review_body FROM product_reviews FINAL "
        "WHERE site_id = {site:String}"
    ) == [("507f1f77bcf86cd799439011", "kdfjrj39fj39jf3", 5.0, 1, "I love this product")]
    # the calls are still events: the cart steps are custom events as before
    assert pipeline.query(metrics=["events"]) == [{"metrics": [6], "dimensions": []}]


# ----------------------------------------------------------------------------- the oracle


@dataclass
class Cart:
    """One shopper's cart as the scenario sends it: (minutes before RECEIVED, event, product lines)."""

    cart_id: str
    user: str
    currency: str
    steps: list[tuple[int, str, list[tuple[str, int, str]]]]
    # Orders: (minutes before RECEIVED, order_id, names the cart?)
    orders: list[tuple[int, str, bool]] = field(default_factory=list)
    checkout_order: str = ""


def oracle(cart: Cart, abandon_hours: float) -> tuple[str, Decimal]:
    """The documented rule, written out directly: status as of RECEIVED and the cart's value."""
    quantities: dict[str, int] = {}
    prices: dict[str, Decimal] = {}
    for _, event, lines in cart.steps:
        for product, quantity, price in lines:
            change = -quantity if event == "Product Removed" else quantity
            quantities[product] = quantities.get(product, 0) + change
            prices[product] = Decimal(price)
    value = sum((prices[p] * max(0, q) for p, q in quantities.items()), Decimal(0))
    last = RECEIVED - timedelta(minutes=min(m for m, _, _ in cart.steps))
    first = RECEIVED - timedelta(minutes=max(m for m, _, _ in cart.steps))
    abandon_at = last + timedelta(hours=abandon_hours)
    linked = [
        RECEIVED - timedelta(minutes=m)
        for m, order, names in cart.orders
        if names or order == cart.checkout_order
    ]
    by_person = [
        RECEIVED - timedelta(minutes=m)
        for m, _, _ in cart.orders
        if first <= RECEIVED - timedelta(minutes=m) < abandon_at + timedelta(days=7)
    ]
    completion = min(linked) if linked else min(by_person) if by_person else None
    if completion is not None:
        return ("converted" if completion < abandon_at else "recovered"), value
    return ("abandoned" if abandon_at <= RECEIVED else "open"), value


HOUR = 60
CARTS = [
    # ordered within the day, by an Order Completed naming the cart
    Cart(
        "cA",
        "u1",
        "USD",
        [(50 * HOUR, "Product Added", [("p1", 2, "10.00")])],
        [(49 * HOUR + 30, "oA", True)],
    ),
    # abandoned 27 h, then ordered: the order is the one its Checkout Started named
    Cart(
        "cB",
        "u2",
        "USD",
        [(75 * HOUR, "Product Added", [("p2", 1, "5.50")]), (74 * HOUR + 55, "Checkout Started", [])],
        [(48 * HOUR, "oB", False)],
        checkout_order="oB",
    ),
    # abandoned 36 h, then the same person's order that names no cart
    Cart(
        "cC", "u3", "USD", [(100 * HOUR, "Product Added", [("p1", 1, "10.00")])], [(64 * HOUR, "oC", False)]
    ),
    # three added, one removed, never ordered
    Cart(
        "cD",
        "u4",
        "USD",
        [
            (36 * HOUR, "Product Added", [("p3", 3, "2.25")]),
            (35 * HOUR + 50, "Product Removed", [("p3", 1, "2.25")]),
        ],
    ),
    # six hours idle: still open
    Cart("cE", "u5", "USD", [(6 * HOUR, "Product Added", [("p1", 1, "10.00")])]),
    # a euro cart, abandoned
    Cart("cF", "u6", "EUR", [(120 * HOUR, "Product Added", [("p4", 1, "7.00")])]),
    # the person ordered 10 days after abandoning: too late to count as a recovery
    Cart(
        "cG",
        "u7",
        "USD",
        [(19 * 24 * HOUR, "Product Added", [("p1", 1, "10.00")])],
        [(8 * 24 * HOUR, "oG", False)],
    ),
]


def scenario_calls(carts: list[Cart]) -> list[dict[str, Any]]:
    calls = []
    for cart in carts:
        for i, (minutes, event, lines) in enumerate(cart.steps):
            at = RECEIVED - timedelta(minutes=minutes)
            base: dict[str, Any] = {"cart_id": cart.cart_id, "currency": cart.currency}
            if event == "Checkout Started":
                calls.append(
                    call(
                        cart.user, event, {**base, "order_id": cart.checkout_order}, at, f"{cart.cart_id}{i}"
                    )
                )
                continue
            for j, (product, quantity, price) in enumerate(lines):
                properties = {**base, "product_id": product, "quantity": quantity, "price": float(price)}
                calls.append(call(cart.user, event, properties, at, f"{cart.cart_id}{i}.{j}"))
        for minutes, order_id, names_cart in cart.orders:
            properties = {"order_id": order_id, "total": 1, "currency": cart.currency}
            if names_cart:
                properties["cart_id"] = cart.cart_id
            at = RECEIVED - timedelta(minutes=minutes)
            calls.append(call(cart.user, "Order Completed", properties, at, f"order-{order_id}"))
    return calls


CART_METRICS = [
    "carts",
    "open_carts",
    "abandoned_carts",
    "recovered_carts",
    "completed_carts",
    "cart_abandonment_rate",
    "cart_recovery_rate",
]


def expected(abandon_hours: float, carts: list[Cart]) -> list[Any]:
    statuses = [oracle(c, abandon_hours)[0] for c in carts]
    abandoned = sum(s in ("abandoned", "recovered") for s in statuses)
    recovered = statuses.count("recovered")
    decided = sum(s != "open" for s in statuses)
    return [
        len(statuses),
        statuses.count("open"),
        abandoned,
        recovered,
        sum(s in ("converted", "recovered") for s in statuses),
        round(abandoned / decided, 4) if decided else None,
        round(recovered / abandoned, 4) if abandoned else None,
    ]


def test_abandonment_recovery_and_values_match_the_oracle(pipeline: Pipeline) -> None:
    assert pipeline.send(scenario_calls(CARTS))["accepted"] == len(scenario_calls(CARTS))
    pipeline.deliver()
    for hours in (24.0, 48.0):
        settings = {"cart_abandon_hours": hours}
        assert pipeline.query(site_settings=settings, metrics=CART_METRICS) == [
            {"metrics": expected(hours, CARTS), "dimensions": []}
        ]
        by_cart = pipeline.query(
            site_settings=settings, metrics=["carts"], dimensions=["cart:id", "cart:status"]
        )
        assert {tuple(r["dimensions"]) for r in by_cart} == {(c.cart_id, oracle(c, hours)[0]) for c in CARTS}
    # 24 h: the rule's figures, spelled out once
    assert expected(24.0, CARTS) == [7, 1, 5, 2, 3, 0.8333, 0.4]
    values = pipeline.query(
        metrics=["cart_value", "abandoned_cart_value", "recovered_cart_value"],
        dimensions=["revenue:currency"],
    )
    money = {r["dimensions"][0]: [m and m["amount"] for m in r["metrics"]] for r in values}
    sums: dict[tuple[str, str], Decimal] = {}
    for cart in CARTS:
        status, value = oracle(cart, 24.0)
        kinds = {"all", status} | ({"abandoned"} if status in ("abandoned", "recovered") else set())
        for kind in kinds:
            sums[cart.currency, kind] = sums.get((cart.currency, kind), Decimal(0)) + value
    for currency in ("USD", "EUR"):
        want = [sums.get((currency, kind)) for kind in ("all", "abandoned", "recovered")]
        assert money[currency] == [None if w is None else f"{w:.2f}" for w in want]
    assert money["USD"] == ["60.00", "30.00", "15.50"]
    completed_by = pipeline.query(metrics=["completed_carts"], dimensions=["cart:completed_by"])
    assert {r["dimensions"][0]: r["metrics"][0] for r in completed_by} == {"cart": 2, "person": 1, "none": 0}


def test_reviews_per_product_in_the_query_api_and_products_master(pipeline: Pipeline) -> None:
    at = datetime(2026, 11, 19, 9, 0, tzinfo=UTC)
    review = EXAMPLES["Product Reviewed"]
    calls = [
        call("u1", "Product Reviewed", review, at, "r1"),
        # the same review edited: its review_id makes it one review, the later rating wins
        call("u1", "Product Reviewed", {**review, "rating": "4"}, at + timedelta(hours=1), "r2"),
        call("u2", "Product Reviewed", {**review, "review_id": "other", "rating": 2}, at, "r3"),
        call("u3", "Product Reviewed", {**review, "review_id": "norating", "rating": "great"}, at, "r4"),
        call("u3", "Product Reviewed", {"product_id": "p9", "review_id": "x", "rating": 5}, at, "r5"),
        call("u1", "Order Completed", {**EXAMPLES["Order Completed"]}, at, "o1"),
    ]
    assert pipeline.send(calls)["accepted"] == 6
    pipeline.deliver()
    rows = pipeline.query(metrics=["reviews", "average_rating"], dimensions=["product:id"])
    assert {r["dimensions"][0]: r["metrics"] for r in rows} == {
        "507f1f77bcf86cd799439011": [3, 3.0],  # (4 + 2) / 2: the unrated review counts, unrated
        "p9": [1, 5.0],
    }
    CommerceRunner(pipeline.client, MemoryWatermarks()).run(pipeline.site, jobs=(PRODUCTS,), as_of=at.date())
    assert pipeline.sql(
        "SELECT product_id, review_count, rating_count, average_rating FROM products_master FINAL "
        "WHERE site_id = {site:String} ORDER BY product_id"
    ) == [("505bd76785ebb509fc183733", 0, 0, None), ("507f1f77bcf86cd799439011", 3, 2, 3.0)]
    products = pipeline.query(
        metrics=["product_reviews", "product_average_rating"], dimensions=["product:id"]
    )
    assert {r["dimensions"][0]: r["metrics"] for r in products}["507f1f77bcf86cd799439011"] == [3, 3.0]
