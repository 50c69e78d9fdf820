"""Converting paths: each conversion's touchpoints in order, as `conversion:path`
("Paid Search → Email → Direct"), with `path_conversions` and `path_revenue`.

A path is read from the `linear` model's credits, the one model that keeps a row for every
touchpoint (docs/attribution.md: single-touch models keep only the credited one); a conversion
without touchpoints has the path `(none)`. Conversions are dated by when they happened, like the
attribution metrics, and revenue stays per currency (`revenue:currency` groups or filters it).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from touchline.query.builtin.money import money_sort, render_money
from touchline.query.builtin.tables import range_clause, site_clause
from touchline.query.compile import CompileContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender

ARROW = " → "
# The model whose credits list every touchpoint of a conversion.
PATH_MODEL = "linear"


class PathsTable:
    """One row per conversion: its path of channels, its revenue and currency."""

    name = "paths"
    alias = "p"
    time_column = "p.at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        model = ctx.params.string(PATH_MODEL)
        arrow = ctx.params.string(ARROW)
        inner = f"""
            SELECT conversion_id, min(converted_at) AS at, any(currency) AS currency,
                   any(revenue) AS revenue, any(conversion_kind) AS conversion_kind,
                   arrayStringConcat(arrayMap(t -> t.2, arraySort(groupArray((touch_index, channel)))),
                                     {arrow}) AS path
            FROM attribution_credits FINAL
            WHERE {site_clause(ctx)} AND model = {model} AND {range_clause(ctx, "converted_at")}
            GROUP BY conversion_id"""
        return f"FROM ({inner}) AS p WHERE {where}"


def _count(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


REGISTRY.table(PathsTable())
REGISTRY.dimension(
    Dimension(
        "conversion:path",
        "attribution",
        {"paths": "p.path"},
        description="A conversion's touchpoint channels in order, joined by ' → '; '(none)' without any.",
    )
)
# Currencies group and filter paths too (revenue is never added across them).
_currency = REGISTRY.dimensions["revenue:currency"]
REGISTRY.dimension(replace(_currency, columns={**_currency.columns, "paths": "p.currency"}))
REGISTRY.metric(
    Metric(
        "path_conversions",
        "attribution",
        lambda m: m.agg("paths", "count()"),
        _count,
        description="Conversions (orders and conversion goals) whose touchpoints took this path.",
        tables=("paths",),
    )
)
REGISTRY.metric(
    Metric(
        "path_revenue",
        "attribution",
        lambda m: m.agg("paths", "sumMap(map(p.currency, p.revenue))"),
        render_money,
        sort_key=money_sort,
        description="Net revenue of the conversions that took this path, per currency.",
        tables=("paths",),
    )
)
