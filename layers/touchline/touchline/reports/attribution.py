"""The attribution report: conversions and revenue credited to channels, sources or campaigns.

Reads `attribution_credits FINAL` (written by the scheduled aggregation), conversions dated by
when they happened. For each model the credited revenue of a currency adds up exactly to the net
revenue of the period's orders in that currency, `(none)` included. The JSON form is the
contract the HTTP API serves (docs/attribution.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from touchline.aggregate.attribution import MODELS
from touchline.reports import QueryRunner, render_table, sql_datetime, sql_string
from touchline.reports.revenue import money

DIMENSIONS = {"channel": "channel", "source": "source", "campaign": "campaign"}


@dataclass
class AttributionRow:
    value: str
    conversions: float = 0.0
    orders: float = 0.0
    revenue: dict[str, Decimal] = field(default_factory=dict)
    goal_value: dict[str, Decimal] = field(default_factory=dict)

    def as_dict(self, dimension: str) -> dict[str, Any]:
        return {
            dimension: self.value,
            "conversions": round(self.conversions, 9),
            "orders": round(self.orders, 9),
            "revenue": _amounts(self.revenue),
            "goal_value": _amounts(self.goal_value),
        }


@dataclass
class ModelResult:
    model: str
    rows: list[AttributionRow] = field(default_factory=list)

    def total(self) -> AttributionRow:
        total = AttributionRow("total")
        for row in self.rows:
            total.conversions += row.conversions
            total.orders += row.orders
            for currency, amount in row.revenue.items():
                total.revenue[currency] = total.revenue.get(currency, Decimal(0)) + amount
            for currency, amount in row.goal_value.items():
                total.goal_value[currency] = total.goal_value.get(currency, Decimal(0)) + amount
        return total


@dataclass
class AttributionReport:
    site_id: str
    start: datetime | None
    end: datetime | None
    dimension: str
    models: list[ModelResult]

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "by": self.dimension,
            "models": [
                {
                    "model": m.model,
                    "rows": [r.as_dict(self.dimension) for r in m.rows],
                    "total": m.total().as_dict(self.dimension),
                }
                for m in self.models
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict())

    def to_table(self) -> str:
        headers = ["model", self.dimension, "conversions", "orders", "revenue", "goal value"]
        rows = []
        for result in self.models:
            for row in [*result.rows, result.total()]:
                rows.append(
                    [
                        result.model,
                        row.value,
                        f"{row.conversions:.2f}",
                        f"{row.orders:.2f}",
                        _money_text(row.revenue),
                        _money_text(row.goal_value),
                    ]
                )
        if not rows:
            return (
                f"no conversions for site {self.site_id} in this period (has `touchline aggregate run` run?)"
            )
        return render_table(headers, rows)


def attribution_report(
    run: QueryRunner,
    site_id: str,
    start: datetime | None,
    end: datetime | None,
    model: str = "all",
    dimension: str = "channel",
) -> AttributionReport:
    if dimension not in DIMENSIONS:
        raise ValueError(f"--by must be one of {sorted(DIMENSIONS)}")
    models = list(MODELS) if model == "all" else [model]
    if any(m not in MODELS for m in models):
        raise ValueError(f"--model must be 'all' or one of {', '.join(MODELS)}")
    where = [f"site_id = {sql_string(site_id)}", f"model IN ({', '.join(sql_string(m) for m in models)})"]
    if start:
        where.append(f"converted_at >= {sql_datetime(start)}")
    if end:
        where.append(f"converted_at < {sql_datetime(end)}")
    column = DIMENSIONS[dimension]
    _, rows = run(
        f"""SELECT model, if(channel = '(none)', '(none)', {column}) AS value, conversion_kind, currency,
                   sum(credit), toString(sum(attributed_revenue))
            FROM attribution_credits FINAL WHERE {" AND ".join(where)}
            GROUP BY model, value, conversion_kind, currency"""
    )
    by_model: dict[str, dict[str, AttributionRow]] = {m: {} for m in models}
    for model_name, value, kind, currency, credit, amount in rows:
        row = by_model[model_name].setdefault(value, AttributionRow(value))
        row.conversions += float(credit)
        if kind == "order":
            row.orders += float(credit)
            row.revenue[currency] = row.revenue.get(currency, Decimal(0)) + Decimal(amount)
        elif Decimal(amount) != 0:
            row.goal_value[currency] = row.goal_value.get(currency, Decimal(0)) + Decimal(amount)
    results = [
        ModelResult(m, sorted(by_model[m].values(), key=lambda r: (-r.conversions, r.value))) for m in models
    ]
    return AttributionReport(site_id, start, end, dimension, results)


def _amounts(amounts: dict[str, Decimal]) -> list[dict[str, str]]:
    return [{"currency": c, "amount": money(a, c)} for c, a in sorted(amounts.items())]


def _money_text(amounts: dict[str, Decimal]) -> str:
    return ", ".join(f"{money(a, c)} {c}" for c, a in sorted(amounts.items())) or "-"
