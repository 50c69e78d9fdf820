"""The data-driven models and the attribution variants in the query language.

- `attributed_conversions|orders|revenue:markov`, `…:markov_k2`, `…:markov_k3`,
  `…:shapley` read `attribution_credits` like the rule-based models. When a model could not be
  fitted (too few journeys or conversions, docs/attribution.md "Sample-size caveat"), its value is
  what it credited (nothing) and `meta.metric_warnings` says why, per metric:
  `{"code": "model_not_fitted", "warning": "orders: not computed, 320 journeys with 12 …",
  "status": "too_few_journeys"}` (`status`: the fit's, or `not_fitted`).
- `include.attribution_touches`: `all` (default) | `clicks_only` | `paid_only` credits every
  model, rule-based or data-driven, from the kept touches only, computed on demand from
  `journeys` and the stored fits (touchline.datadriven.credits).
- `include.attribution_basis`: `cash` (default, credits dated by the conversion) | `accrual`
  (dated by the touch they credit).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import Any

from touchline.datadriven import MODELS, TOUCHES
from touchline.datadriven.credits import credit_parameters, credits_select

# Imported first: this module wraps the attribution metrics and replaces the credits table.
from touchline.query.builtin import attribution as _attribution  # noqa: F401
from touchline.query.builtin import objects
from touchline.query.builtin import tables as _tables  # noqa: F401
from touchline.query.builtin.attribution import register_model
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.errors import QueryError
from touchline.query.model import Query
from touchline.query.registry import REGISTRY, IncludeOption, Metric, MetricRender

TOUCHES_OPTION = "attribution_touches"
BASIS_OPTION = "attribution_basis"
BASES = ("cash", "accrual")
# The credits SQL's own `{name:Type}` parameters.
_PLACEHOLDER = re.compile(r"\{(\w+):([^{}]+)\}")

for _model in MODELS:
    register_model(_model)


def options(query: Query) -> tuple[str, str]:
    extra = dict(query.include.extra)
    return str(extra.get(TOUCHES_OPTION) or "all"), str(extra.get(BASIS_OPTION) or "cash")


def _check_touches(query: Query) -> None:
    if options(query)[0] not in TOUCHES:
        raise QueryError(f"Invalid include.{TOUCHES_OPTION}: must be one of {', '.join(TOUCHES)}.")


def _check_basis(query: Query) -> None:
    if options(query)[1] not in BASES:
        raise QueryError(f"Invalid include.{BASIS_OPTION}: must be one of {', '.join(BASES)}.")


def _echo(query: Query, meta: dict[str, Any], _rows: list[dict[str, Any]]) -> None:
    touches, basis = options(query)
    meta["attribution"] = {"touches": touches, "basis": basis}


REGISTRY.include(IncludeOption(TOUCHES_OPTION, _echo, _check_touches, "Which touches attribution credits."))
REGISTRY.include(IncludeOption(BASIS_OPTION, _echo, _check_basis, "Date credits by conversion or touch."))


class CreditsTable:
    """Attribution credits in the query's range: stored (`all` touches) or computed now from
    journeys (a touches variant); dated by the conversion (cash) or by the touch (accrual); once
    per object of the conversion's person when an `object:*` dimension is used."""

    name = "credits"
    alias = "c"
    # The conversion's time (cash) or the touch's (accrual): time buckets follow the basis.
    time_column = "c.credited_at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        touches, basis = options(ctx.query)
        dated = "converted_at" if basis == "cash" else "touch_at"
        start = ctx.params.add(ctx.query.date_range.start, "DateTime64(3, 'UTC')")
        end = ctx.params.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
        site = ctx.params.string(ctx.query.site.site_id)
        if touches == "all":
            source = f"SELECT * FROM attribution_credits FINAL WHERE site_id = {site}"
        else:
            # A touch is never after its conversion nor more than a year before it.
            earliest = ctx.params.add(
                ctx.query.date_range.start - timedelta(days=365 if basis == "accrual" else 0),
                "DateTime64(3, 'UTC')",
            )
            scope = f"ended_at >= {earliest} AND {'ended_at' if basis == 'cash' else 'started_at'} < {end}"
            values = {
                "site": ctx.query.site.site_id,
                "version": 0,
                # Time decay under a variant decays with the site's half-life, as its stored credits.
                **credit_parameters(touches, _all_models(), ctx.query.site.half_life_days * 86_400_000.0),
            }
            # The scope already holds the statement's placeholders: bound after the credits SQL's.
            bound = _bind(ctx, credits_select(touches, "__scope__"), values)
            source = bound.replace("__scope__", scope)
        inner = (
            f"SELECT *, {dated} AS credited_at FROM ({source}) WHERE {dated} >= {start} AND {dated} < {end}"
        )
        # Revenue by account: once per object of the conversion's person (docs/objects.md).
        return f"FROM ({objects.with_objects(ctx, inner)}) AS c WHERE {where}"


def _all_models() -> list[str]:
    from touchline.query.builtin.attribution import models

    return models()


def _bind(ctx: CompileContext, sql: str, values: dict[str, Any]) -> str:
    """`sql`'s named `{name:Type}` parameters as the statement's own placeholders."""

    def placeholder(match: re.Match[str]) -> str:
        return ctx.params.add(values[match.group(1)], match.group(2))

    return _PLACEHOLDER.sub(placeholder, sql)


REGISTRY.table(CreditsTable())


def _with_fit_status(metric: Metric) -> Metric:
    """`metric` with, for a data-driven model, the kinds it could not be fitted for beside it."""

    def sql(m: MetricContext) -> str:
        value = metric.sql(m)
        if m.argument not in MODELS:
            return f"tuple({value}, emptyArrayString())"
        touches, _ = options(m.ctx.query)
        site = m.params.string(m.ctx.query.site.site_id)
        # Orders before goals (reverse order of the kind), whatever order the parts are read in.
        problems = f"""(SELECT arrayReverseSort(groupArray(concat(conversion_kind, '|', status, '|',
                           toString(journeys), '|', toString(conversions), '|', toString(min_journeys),
                           '|', toString(min_conversions))))
                        FROM attribution_fits FINAL
                        WHERE site_id = {site} AND model = {m.params.string(m.argument)}
                          AND touches = {m.params.string(touches)} AND channel = ''
                          AND status != 'ok' AND conversions > 0)"""
        fitted = f"""(SELECT count() FROM attribution_fits FINAL WHERE site_id = {site}
                       AND model = {m.params.string(m.argument)} AND channel = '')"""
        return f"tuple({value}, if({fitted} = 0, ['|not_fitted|0|0|0|0'], {problems}))"

    def render(value: Any, ctx: MetricRender) -> Any:
        inner, problems = value
        if problems:
            # `status`: the first problem's fit status (`too_few_journeys`, `not_fitted`, …), as
            # `touchline report attribution` shows it.
            status = problems[0].split("|")[1]
            ctx.warn("model_not_fitted", "; ".join(_problem(p) for p in problems), status=status)
        return metric.render(inner, ctx)

    return replace(metric, sql=sql, render=render, sort_key=lambda column: metric.sort_key(f"{column}.1"))


def _problem(encoded: str) -> str:
    kind, status, journeys, conversions, min_journeys, min_conversions = encoded.split("|")
    label = {"order": "orders", "goal": "goal conversions"}.get(kind, "every conversion kind")
    if status == "not_fitted":
        return f"{label}: not fitted yet (no aggregation run has fitted the data-driven models)"
    return (
        f"{label}: not computed, {_count(journeys, 'journey')} with {_count(conversions, 'conversion')} "
        f"(the minimum is {_count(min_journeys, 'journey')} and {_count(min_conversions, 'conversion')})"
    )


def _count(n: str, noun: str) -> str:
    return f"{int(n):,} {noun}{'' if int(n) == 1 else 's'}"


for _name, _metric in list(REGISTRY.prefix_metrics.items()):
    if _name.startswith("attributed_"):
        REGISTRY.metric(_with_fit_status(_metric))
