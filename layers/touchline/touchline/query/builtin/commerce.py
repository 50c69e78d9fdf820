"""Revenue metrics: goal revenue (Plausible's `total_revenue`, `average_revenue`) and orders.

Orders, gross, refunds and net revenue count exactly what `touchline report revenue` counts
(docs/revenue.md): paid, non-test orders by `ordered_at`, refunds by when they happened, per
currency. They can be grouped by time and `revenue:currency` only: an order has no page or visit
of its own (its channel is an attribution question: `attributed_revenue:<model>`). A visit
filter keeps the orders whose journey has a matching session (`CompileContext.where`,
docs/query-api.md#revenue-with-visit-filters).
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.money import money_sort, render_money
from touchline.query.compile import MetricContext
from touchline.query.registry import REGISTRY, Metric, MetricRender

REVENUE_EVENTS = "isNotNull(e.revenue) AND e.currency != ''"


def _total_revenue(m: MetricContext) -> str:
    return m.agg("events", f"sumMapIf(map(e.currency, assumeNotNull(e.revenue)), {REVENUE_EVENTS})")


def _average_revenue(m: MetricContext) -> str:
    sums = m.agg("events", f"sumMapIf(map(e.currency, assumeNotNull(e.revenue)), {REVENUE_EVENTS})")
    counts = m.agg("events", f"sumMapIf(map(e.currency, toUInt64(1)), {REVENUE_EVENTS})")
    return (
        f"mapFromArrays(mapKeys({sums}), arrayMap((v, n) -> v / n, mapValues({sums}), mapValues({counts})))"
    )


REGISTRY.metric(
    Metric(
        "total_revenue",
        "revenue",
        _total_revenue,
        render_money,
        sort_key=money_sort,
        description="Revenue carried by goal events (the tag's revenue), per currency.",
    )
)
REGISTRY.metric(
    Metric(
        "average_revenue",
        "revenue",
        _average_revenue,
        render_money,
        sort_key=money_sort,
        description="Revenue per revenue-carrying goal event, per currency.",
    )
)


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _share(value: Any, _ctx: MetricRender) -> Any:
    return round(float(value or 0), 4)


COMMERCE = ("orders", "refunds")

REGISTRY.metric(
    Metric(
        "orders",
        "commerce",
        lambda m: m.agg("orders", "count()"),
        _int,
        description="Paid orders.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "gross_revenue",
        "commerce",
        lambda m: m.agg("orders", "sumMap(map(o.currency, o.amount))"),
        render_money,
        sort_key=money_sort,
        description="What paid orders charged (tax and shipping included), per currency.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "refunds",
        "commerce",
        lambda m: m.agg("refunds", "sumMap(map(r.currency, r.refunded))"),
        render_money,
        sort_key=money_sort,
        description="Refunded in the period, per currency.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "net_revenue",
        "commerce",
        lambda m: (
            f"mapSubtract({m.agg('orders', 'sumMap(map(o.currency, toDecimal128(o.amount, 4)))')}, "
            f"{m.agg('refunds', 'sumMap(map(r.currency, toDecimal128(r.refunded, 4)))')})"
        ),
        render_money,
        sort_key=money_sort,
        description="Gross revenue minus refunds, per currency.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "linked_orders",
        "commerce",
        lambda m: m.agg("orders", "countIf(o.linked)"),
        _int,
        description="Paid orders linked to a visitor.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "linked_revenue",
        "commerce",
        lambda m: m.agg("orders", "sumMapIf(map(o.currency, o.amount), o.linked)"),
        render_money,
        sort_key=money_sort,
        description="Gross revenue of the orders linked to a visitor, per currency.",
        tables=COMMERCE,
    )
)
REGISTRY.metric(
    Metric(
        "linked_order_share",
        "commerce",
        lambda m: m.agg("orders", "if(count() > 0, round(countIf(o.linked) / count(), 4), 0)"),
        _share,
        description="Share of orders linked to a visitor (0-1).",
        tables=COMMERCE,
    )
)
