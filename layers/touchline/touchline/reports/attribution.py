"""The attribution report: conversions and revenue credited to channels, sources or campaigns.

Reads `attribution_credits FINAL` (written by the scheduled aggregation) for the six rule-based
and the four data-driven models; the `clicks_only` / `paid_only` touches variants are credited
on demand from `journeys` and the stored fits (touchline.datadriven.credits). Credits are dated
by the conversion (`cash`, the default) or by the touch they credit (`accrual`). For each model
the credited revenue of a currency adds up exactly to the net revenue of the period's orders in
that currency, `(none)` included (under `cash`), unless a data-driven model could not be fitted:
its `status` and `note` then say why. The JSON form is the contract the HTTP API serves
(docs/attribution.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from touchline.aggregate.attribution import MODELS as RULE_BASED
from touchline.datadriven import MODELS as DATA_DRIVEN
from touchline.datadriven import TOUCHES
from touchline.datadriven.credits import credit_parameters, credits_select
from touchline.reports import QueryRunner, period, period_params, render_table
from touchline.reports.revenue import money

DIMENSIONS = {"channel": "channel", "source": "source", "campaign": "campaign"}
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
    start: datetime | None
    end: datetime | None
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
    run: QueryRunner,
    site_id: str,
    start: datetime | None,
    end: datetime | None,
    model: str = "all",
    dimension: str = "channel",
    touches: str = "all",
    basis: str = "cash",
    half_life_days: float = 7.0,
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
    dated = "converted_at" if basis == "cash" else "touch_at"
    parameters: dict[str, Any] = {**period_params(site_id, start, end), "models": models}
    if touches == "all":
        source = "(SELECT * FROM attribution_credits FINAL WHERE site_id = {site:String})"
    else:
        source = f"({_variant_credits(touches, start, end, basis)})"
        parameters.update(version=0, **credit_parameters(touches, models, half_life_days * 86_400_000))
    column = DIMENSIONS[dimension]
    _, rows = run(
        f"""SELECT model, if(channel = '(none)', '(none)', {column}) AS value, conversion_kind, currency,
                   sum(credit), toString(sum(attributed_revenue))
            FROM {source} WHERE model IN {{models:Array(String)}}{period(dated, start, end)}
            GROUP BY model, value, conversion_kind, currency""",
        parameters,
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
    _add_fit_status(run, site_id, touches, [r for r in results if r.model in DATA_DRIVEN])
    return AttributionReport(site_id, start, end, dimension, results, touches, basis)


def _variant_credits(touches: str, start: datetime | None, end: datetime | None, basis: str) -> str:
    """Credits of a touches variant from journeys, narrowed to the conversions the period can hold
    (a touch is never after its conversion)."""
    scope = period("ended_at", start, None) + period(
        "ended_at" if basis == "cash" else "started_at", None, end
    )
    return credits_select(touches, "1" + scope)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _add_fit_status(run: QueryRunner, site_id: str, touches: str, results: list[ModelResult]) -> None:
    """Say, for each data-driven model, which conversion kinds it could not be fitted for."""
    if not results:
        return
    _, rows = run(
        """SELECT model, conversion_kind, status, journeys, conversions, min_journeys, min_conversions
           FROM attribution_fits FINAL
           WHERE site_id = {site:String} AND touches = {touches:String} AND channel = ''""",
        {"site": site_id, "touches": touches},
    )
    fits = {(r[0], r[1]): r[2:] for r in rows}
    for result in results:
        notes = []
        for kind, label in (("order", "orders"), ("goal", "goal conversions")):
            fit = fits.get((result.model, kind))
            if fit is None:
                result.status = NOT_FITTED
                notes.append(f"{label}: not fitted yet (has `touchline aggregate run` run?)")
            elif fit[0] != "ok" and int(fit[2]) > 0:  # a kind with no conversions has nothing to credit
                result.status = str(fit[0])
                journeys, conversions, min_journeys, min_conversions = (int(v) for v in fit[1:])
                notes.append(
                    f"{label}: not computed, {_count(journeys, 'journey')} with "
                    f"{_count(conversions, 'conversion')} (the minimum is {_count(min_journeys, 'journey')} "
                    f"and {_count(min_conversions, 'conversion')})"
                )
        result.note = "; ".join(notes)


def _amounts(amounts: dict[str, Decimal]) -> list[dict[str, str]]:
    return [{"currency": c, "amount": money(a, c)} for c, a in sorted(amounts.items())]


def _money_text(amounts: dict[str, Decimal]) -> str:
    return ", ".join(f"{money(a, c)} {c}" for c, a in sorted(amounts.items())) or "-"
