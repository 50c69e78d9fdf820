"""Attribution metrics: `attributed_conversions:<model>`, `attributed_orders:<model>` and
`attributed_revenue:<model>` from the credits the aggregation wrote (docs/attribution.md).

Conversions are dated by when they happened; a credit's visit dimensions are its touchpoint
session's. Per model and currency, attributed revenue adds up to the period's net order revenue
to the minor unit, `(none)` (conversions without a touchpoint) included. Models are a list others
extend (`register_model`): a model's credits only need to be in `attribution_credits`.
"""

from __future__ import annotations

from typing import Any

from touchline.aggregate.attribution import MODELS
from touchline.query.builtin.money import money_sort, render_money
from touchline.query.compile import MetricContext
from touchline.query.registry import REGISTRY, Metric, MetricRender

ATTRIBUTION_MODELS: list[str] = list(MODELS)


def register_model(name: str) -> None:
    """Make `attributed_*:<name>` queryable (issue 19's data-driven models call this)."""
    if name not in ATTRIBUTION_MODELS:
        ATTRIBUTION_MODELS.append(name)


def models() -> list[str]:
    return list(ATTRIBUTION_MODELS)


def _model(m: MetricContext) -> str:
    return m.params.string(m.argument or "")


def _credits(value: Any, _ctx: MetricRender) -> Any:
    return round(float(value or 0), 9)


REGISTRY.metric(
    Metric(
        "attributed_conversions:",
        "attribution",
        lambda m: m.agg("credits", f"sumIf(c.credit, c.model = {_model(m)})"),
        _credits,
        prefix=True,
        arguments=models,
        description="Conversions (orders and conversion goals) credited under the model.",
        tables=("credits",),
    )
)
REGISTRY.metric(
    Metric(
        "attributed_orders:",
        "attribution",
        lambda m: m.agg("credits", f"sumIf(c.credit, c.model = {_model(m)} AND c.conversion_kind = 'order')"),
        _credits,
        prefix=True,
        arguments=models,
        description="Orders credited under the model.",
        tables=("credits",),
    )
)
REGISTRY.metric(
    Metric(
        "attributed_revenue:",
        "attribution",
        lambda m: m.agg(
            "credits",
            f"sumMapIf(map(c.currency, c.attributed_revenue), "
            f"c.model = {_model(m)} AND c.conversion_kind = 'order')",
        ),
        render_money,
        prefix=True,
        arguments=models,
        sort_key=money_sort,
        description="Net order revenue credited under the model, per currency.",
        tables=("credits",),
    )
)
REGISTRY.metric(
    Metric(
        "attributed_goal_value:",
        "attribution",
        lambda m: m.agg(
            "credits",
            f"sumMapIf(map(c.currency, c.attributed_revenue), "
            f"c.model = {_model(m)} AND c.conversion_kind = 'goal')",
        ),
        render_money,
        prefix=True,
        arguments=models,
        sort_key=money_sort,
        description="Value of conversion goals credited under the model, per currency.",
        tables=("credits",),
    )
)
REGISTRY.metric(
    Metric(
        "converting_visitors",
        "attribution",
        lambda m: m.agg(
            "credits", "uniqExactIf(c.visitor_id, c.model = 'last_touch' AND c.visitor_id != '')"
        ),
        lambda value, _ctx: int(value or 0),
        description="Visitors whose session was the last touch of a conversion.",
        tables=("credits",),
    )
)
