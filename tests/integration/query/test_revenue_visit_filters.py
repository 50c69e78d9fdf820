"""Net revenue (and orders, gross) with a visit filter, on the known world against the
attribution oracle: an order counts when its journey — the sessions attribution credits it with,
within the lookback window before it — has a session matching the filter (docs/query-api.md)."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from query_world import GOALS

from attribution_oracle import attribute, conversions

START, END = "2024-08-12", "2024-09-10"


def _journey_channels(loaded: Any) -> dict[str, set[str]]:
    """Order conversion id → the channels of the sessions the oracle's linear model credits."""
    hits = [h.hit for h in loaded.world.hits]
    found = conversions(hits, loaded.world.oracle_orders(), [], {}, {g: (None, "") for g in GOALS})
    channels: dict[str, set[str]] = defaultdict(set)
    for credit in attribute(loaded.world.sessions, found, {}):
        if credit.model == "linear" and credit.touch_index > 0:
            channels[credit.conversion_id].add(credit.channel)
    return channels


def test_net_revenue_by_a_visit_filter_counts_the_orders_whose_journey_matches(loaded: Any) -> None:
    channels = _journey_channels(loaded)
    orders = [o for o in loaded.world.orders if START <= o.ordered_at.date().isoformat() <= END]
    seen = {c for o in orders for c in channels[f"{o.source}:{o.order_id}"]}
    assert len(seen) >= 3, "the world should have orders after several channels"
    for channel in sorted(seen):
        expected: dict[str, Decimal] = defaultdict(Decimal)
        counts: dict[str, int] = defaultdict(int)
        for o in orders:
            if channel in channels[f"{o.source}:{o.order_id}"]:
                expected[o.currency] += o.amount
                counts[o.currency] += 1
        answer = loaded.run(
            {
                "site_id": "dummy.site",
                "metrics": ["orders", "gross_revenue", "net_revenue"],
                "date_range": [START, END],
                "dimensions": ["revenue:currency"],
                "filters": [["is", "visit:channel", [channel]]],
            }
        )
        got = {r["dimensions"][0]: r["metrics"] for r in answer["results"]}
        assert {c: m[0] for c, m in got.items()} == dict(counts), channel
        assert {c: Decimal(m[2]["amount"]) for c, m in got.items()} == dict(expected), channel
        assert all(m[1] == m[2] for m in got.values())  # no refunds in this world


def test_visit_filters_on_one_session_and_event_filters_stay_refused(loaded: Any) -> None:
    from touchline.query.errors import QueryError

    channel = sorted({c for cs in _journey_channels(loaded).values() for c in cs})[0]
    both = loaded.run(
        {
            "site_id": "dummy.site",
            "metrics": ["orders"],
            "date_range": [START, END],
            "filters": [["is", "visit:channel", [channel]], ["is_not", "visit:channel", [channel]]],
        }
    )
    assert both["results"][0]["metrics"] == [0]  # one session cannot be both
    with pytest.raises(QueryError) as refused:
        loaded.run(
            {
                "site_id": "dummy.site",
                "metrics": ["net_revenue"],
                "date_range": [START, END],
                "filters": [["is", "event:page", ["/"]]],
            }
        )
    assert "cannot be filtered by `event:page`" in refused.value.message


def test_a_refund_counts_under_a_visit_filter_when_its_order_does(loaded: Any) -> None:
    """Refunds count when the order they refund matches (a channel of its journey), not otherwise."""
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.revenue.rows import RefundRow

    channels = _journey_channels(loaded)
    orders = [o for o in loaded.world.orders if START <= o.ordered_at.date().isoformat() <= END]
    refunded_at = timedelta(hours=2)  # after the order, inside the range
    order = next(
        o
        for o in orders
        if channels[f"{o.source}:{o.order_id}"] and (o.ordered_at + refunded_at).date().isoformat() <= END
    )
    journey = channels[f"{order.source}:{order.order_id}"]
    matching = sorted(journey)[0]
    other = next(c for o in orders for c in channels[f"{o.source}:{o.order_id}"] if c not in journey)

    def net(channel: str) -> dict[str, Decimal]:
        answer = loaded.run(
            {
                "site_id": "dummy.site",
                "metrics": ["net_revenue"],
                "date_range": [START, END],
                "dimensions": ["revenue:currency"],
                "filters": [["is", "visit:channel", [channel]]],
            }
        )
        return {r["dimensions"][0]: Decimal(r["metrics"][0]["amount"]) for r in answer["results"]}

    before = {matching: net(matching), other: net(other)}
    refund = RefundRow(
        site_id=loaded.site.site_id,
        source=order.source,
        refund_id="re_visit_filter",
        order_id=order.order_id,
        payment_id=order.order_id,
        refunded_at=order.ordered_at + refunded_at,
        currency=order.currency,
        amount=Decimal("1.25"),
        version=1,
    )
    sink = ClickHouseRowSink(loaded.client)
    sink.insert_rows("refunds", [refund.to_json()], "visit-filter-refund")
    try:
        after = {matching: net(matching), other: net(other)}
    finally:  # the rest of the session reads this world without refunds
        tombstone = refund.model_copy(update={"version": 2, "is_deleted": 1})
        sink.insert_rows("refunds", [tombstone.to_json()], "visit-filter-refund-undone")
    expected = dict(before[matching])
    expected[order.currency] -= Decimal("1.25")
    assert after[matching] == expected
    assert after[other] == before[other]  # a channel not in the refunded order's journey
