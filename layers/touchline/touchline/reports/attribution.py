"""The attribution report: conversions and revenue credited to channels, sources or campaigns.

A thin client of the query engine (touchline.query), like the overview and revenue reports: one
query of `attributed_conversions|orders|revenue|goal_value:<model>` for every model asked, grouped
by the report's dimension and `revenue:currency`, and, for the data-driven models, one query
without dimensions whose `meta.metric_warnings` say which could not be fitted and why. The six
rule-based and four data-driven models read `attribution_credits FINAL` (written by the scheduled
aggregation); `--touches clicks_only|paid_only` and `--basis accrual` are the engine's
`include.attribution_touches` / `include.attribution_basis`, so the report gives exactly what
`POST /api/v2/query` gives. Days are the site's local days (`--from`/`--to` inclusive). For each
model the credited revenue of a currency adds up exactly to the net revenue of the period's
orders in that currency, `(none)` included (under `cash`), unless a data-driven model could not
be fitted: its `status` and `note` then say why. The JSON form is docs/attribution.md's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from touchline.aggregate.attribution import MODELS as RULE_BASED
from touchline.datadriven import MODELS as DATA_DRIVEN
from touchline.datadriven import TOUCHES
from touchline.reports import EngineRunner, date_range, render_table
from touchline.reports.revenue import amount as exact
from touchline.reports.revenue import money

DIMENSIONS = {"channel": "visit:channel", "source": "visit:source", "campaign": "visit:utm_campaign"}
KINDS = ("conversions", "orders", "revenue", "goal_value")
PAGE = 10_000
MODELS = (*RULE_BASED, *DATA_DRIVEN)
BASES = ("cash", "accrual")
NOT_FITTED = "not_fitted"


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
    # Data-driven models only: per conversion kind, why the model credited nothing (`ok` when fitted).
    status: str = "ok"
    note: str = ""

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
    start: date | None
    end: date | None
    dimension: str
    models: list[ModelResult]
    touches: str = "all"
    basis: str = "cash"

    def as_dict(self) -> dict[str, Any]:
        return {
            "site_id": self.site_id,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "by": self.dimension,
            "touches": self.touches,
            "basis": self.basis,
            "models": [
                {
                    "model": m.model,
                    "status": m.status,
                    **({"note": m.note} if m.note else {}),
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
            if result.note:
                rows.append([result.model, result.note, "", "", "", ""])
            for row in [*result.rows, result.total()] if result.rows or not result.note else []:
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
    run: EngineRunner,
    site_id: str,
    start: date | None,
    end: date | None,
    model: str = "all",
    dimension: str = "channel",
    touches: str = "all",
    basis: str = "cash",
) -> AttributionReport:
    if dimension not in DIMENSIONS:
        raise ValueError(f"--by must be one of {sorted(DIMENSIONS)}")
    models = list(MODELS) if model == "all" else [model]
    if any(m not in MODELS for m in models):
        raise ValueError(f"--model must be 'all' or one of {', '.join(MODELS)}")
    if touches not in TOUCHES:
        raise ValueError(f"--touches must be one of {', '.join(TOUCHES)}")
    if basis not in BASES:
        raise ValueError(f"--basis must be one of {', '.join(BASES)}")
    body: dict[str, Any] = {"site_id": site_id, "date_range": date_range(start, end)}
    if (touches, basis) != ("all", "cash"):
        body["include"] = {"attribution_touches": touches, "attribution_basis": basis}
    metrics = [f"attributed_{kind}:{m}" for m in models for kind in KINDS]
    by_model: dict[str, dict[str, AttributionRow]] = {m: {} for m in models}
    dimensions = [DIMENSIONS[dimension], "revenue:currency"]
    for values, cells in _rows(run, {**body, "metrics": metrics, "dimensions": dimensions}):
        value, currency = values
        for i, model_name in enumerate(models):
            conversions, orders, revenue, goal_value = cells[4 * i : 4 * i + 4]
            if not conversions and revenue is None and goal_value is None:
                continue  # this model credits nothing here (another one does)
            row = by_model[model_name].setdefault(value, AttributionRow(value))
            row.conversions += conversions
            row.orders += orders
            if revenue is not None:
                row.revenue[currency] = row.revenue.get(currency, Decimal(0)) + exact(revenue)
            if goal_value is not None and exact(goal_value):
                row.goal_value[currency] = row.goal_value.get(currency, Decimal(0)) + exact(goal_value)
    results = [
        ModelResult(m, sorted(by_model[m].values(), key=lambda r: (-r.conversions, r.value))) for m in models
    ]
    _add_fit_status(run, body, [r for r in results if r.model in DATA_DRIVEN])
    return AttributionReport(site_id, start, end, dimension, results, touches, basis)


def _rows(run: EngineRunner, body: dict[str, Any]) -> list[tuple[list[str], list[Any]]]:
    """Every result row of `body` (page by page: a site may have more campaigns than a page)."""
    rows: list[tuple[list[str], list[Any]]] = []
    while True:
        page = run({**body, "pagination": {"limit": PAGE, "offset": len(rows)}})["results"]
        rows.extend((r["dimensions"], r["metrics"]) for r in page)
        if len(page) < PAGE:
            return rows


def _add_fit_status(run: EngineRunner, body: dict[str, Any], results: list[ModelResult]) -> None:
    """Say, for each data-driven model, which conversion kinds it could not be fitted for: the
    engine's `model_not_fitted` warnings of a query without dimensions (one row, always)."""
    if not results:
        return
    answer = run({**body, "metrics": [f"attributed_conversions:{r.model}" for r in results]})
    warnings = answer["meta"].get("metric_warnings", {})
    for result in results:
        warning = warnings.get(f"attributed_conversions:{result.model}")
        if warning and warning.get("code") == "model_not_fitted":
            result.status = str(warning.get("status") or NOT_FITTED)
            result.note = str(warning["warning"])


def _amounts(amounts: dict[str, Decimal]) -> list[dict[str, str]]:
    return [{"currency": c, "amount": money(a, c)} for c, a in sorted(amounts.items())]


def _money_text(amounts: dict[str, Decimal]) -> str:
    return ", ".join(f"{money(a, c)} {c}" for c, a in sorted(amounts.items())) or "-"
