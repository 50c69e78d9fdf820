"""A funnel over the events, in ClickHouse: one statement, every user value bound.

Per visitor, their hits in the date range (visit filters applied through each hit's session) are
sorted by (timestamp, event id) and folded (`arrayFold`) into the chain that reaches the deepest
step within the window: `windowFunnel`'s algorithm, keeping the chain's timestamps so the time
between steps can be measured (windowFunnel returns only the level).

    loose   other hits may come between steps; for each step the chain with the latest start
            that reached it is kept (a later start leaves more of the window), replaced only by
            a strictly later start, so a step's time is its first completion in that chain.
    strict  the steps are consecutive hits: any other pageview or custom event breaks the chain.
            Of the longest chains, the latest is kept.

A hit completes at most one step of a chain (a hit matching steps 1 and 2 cannot complete both).
The window runs from the chain's first step to its last (inclusive). A visitor's breakdown
value is the visit dimension of the session their kept chain started in. `tests/funnel_oracle.py`
restates all of this in Python; the property tests hold the two equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from touchline.funnels.model import Funnel, Step
from touchline.goals.patterns import wildcard_regex
from touchline.query.builtin.tables import EventsTable
from touchline.query.builtin.traffic import goal_sql
from touchline.query.compile import CompileContext
from touchline.query.errors import QueryError
from touchline.query.model import Query
from touchline.query.registry import REGISTRY, Registry

NONE = "(none)"


@dataclass
class FunnelSql:
    sql: str
    parameters: dict[str, Any]
    steps: int


def step_condition(ctx: CompileContext, step: Step, number: int) -> str:
    if step.kind == "page":
        regex = ctx.params.string(wildcard_regex(step.value))
        return f"(e.event_type = 'pageview' AND match(e.pathname, {regex}))"
    goal = ctx.query.site.goal(step.value)
    if goal is None:
        raise QueryError(f"Step {number}: `{step.value}` is not an active goal of this site.")
    return goal_sql(ctx.params, goal)


def check_query(query: Query) -> None:
    """Funnels take visit filters and at most one visit dimension (the breakdown)."""
    for node in query.filters:
        for dimension in _dimensions(node):
            found = REGISTRY.find_dimension(dimension)
            if found is None or found[0].kind != "visit":
                raise QueryError(
                    f"Invalid filter `{dimension}`: funnels are filtered by visit dimensions "
                    "(visit:source, visit:country, visit:device…)."
                )
    if len(query.dimensions) > 1:
        raise QueryError("A funnel is broken down by at most one visit dimension.")
    for dimension in query.dimensions:
        found = REGISTRY.find_dimension(dimension)
        if found is None or found[0].kind != "visit":
            raise QueryError(
                f"Invalid breakdown `{dimension}`: a funnel is broken down by a visit dimension."
            )


def _dimensions(node: Any) -> list[str]:
    if hasattr(node, "dimension"):
        return [node.dimension]
    if hasattr(node, "children"):
        return [d for c in node.children for d in _dimensions(c)]
    return _dimensions(node.child)


def funnel_sql(funnel: Funnel, query: Query, registry: Registry = REGISTRY) -> FunnelSql:
    check_query(query)
    ctx = CompileContext(query, registry)
    n = len(funnel.steps)
    flags = ", ".join(step_condition(ctx, s, i + 1) for i, s in enumerate(funnel.steps))
    dimension = ctx.column(query.dimensions[0], "events") if query.dimensions else None
    dim_sql = f"toString({dimension})" if dimension else "''"
    window = ctx.params.add(funnel.window_ms, "Int64")
    where = ctx.where("events")
    if not funnel.strict:
        # Only hits completing a step matter when other hits may come between them.
        where = f"({where}) AND arrayExists(x -> x = 1, [{flags}])"
    relation = EventsTable().relation(ctx, where)
    hits = f"""
        SELECT e.visitor_id AS visitor,
               arraySort(h -> (h.1, h.2), groupArray((toUnixTimestamp64Milli(e.timestamp),
                   toString(e.event_id), CAST([{flags}] AS Array(UInt8)), {dim_sql}))) AS hits
        {relation}
        GROUP BY visitor"""
    fold = _fold(n, funnel.strict, window)
    kept = 3 if funnel.strict else 1  # the best chains: the state's last pair
    steps_counts = ", ".join(f"countIf(level >= {k}) AS v{k}" for k in range(1, n + 1))
    medians = ", ".join(
        f"quantileExactInclusiveIf(0.5)(toFloat64(chain[{k}] - chain[{k - 1}]), level >= {k}) AS t{k}"
        for k in range(2, n + 1)
    )
    # With a breakdown, one row per value and the total (grouping sets); without, the total only.
    total = "grouping(dim)" if dimension else "toUInt8(1)"
    grouped = (
        "GROUP BY GROUPING SETS ((dim), ())\n    ORDER BY is_total DESC, v1 DESC, dim ASC"
        if dimension
        else ""
    )
    sql = f"""
    SELECT {"dim" if dimension else "''"} AS dim_out, {steps_counts}, {medians}, {total} AS is_total
    FROM (
        SELECT visitor, chains[level] AS chain, dims[level] AS dim, level
        FROM (
            SELECT visitor, folded.{kept} AS chains, folded.{kept + 1} AS dims,
                   toUInt8(arrayCount(c -> notEmpty(c), chains)) AS level
            FROM (SELECT visitor, {fold} AS folded FROM ({hits}))
        )
        WHERE level >= 1
    )
    {grouped}"""
    return FunnelSql(sql, ctx.params.values, n)


def _fold(n: int, strict: bool, window: str) -> str:
    """The arrayFold over a visitor's sorted hits `h` = (ms, id, step flags, dimension).

    State: (chains, dims) for loose; (current chains, their dims, best chains, their dims) for
    strict, where current chains end at the previous hit. Chains are Array(Int64) of step
    timestamps, one per level (index 1..n), empty when not reached."""
    empty = "CAST([], 'Array(Int64)')"
    levels = f"range(1, {n + 1})"
    if not strict:
        reach = (
            f"h.3[i] = 1 AND (i = 1 OR (notEmpty(acc.1[i - 1]) AND h.1 - acc.1[i - 1][1] <= {window})) "
            "AND (empty(acc.1[i]) OR acc.1[i][1] < if(i = 1, h.1, acc.1[i - 1][1]))"
        )
        extended = "if(i = 1, [h.1], arrayPushBack(acc.1[i - 1], h.1))"
        chains = f"arrayMap(i -> if({reach}, {extended}, acc.1[i]), {levels})"
        dims = f"arrayMap(i -> if({reach}, if(i = 1, h.4, acc.2[i - 1]), acc.2[i]), {levels})"
        initial = f"(arrayMap(i -> {empty}, {levels}), arrayMap(i -> '', {levels}))"
        return f"arrayFold((acc, h) -> ({chains}, {dims}), hits, {initial})"
    reach = f"h.3[i] = 1 AND (i = 1 OR (notEmpty(acc.1[i - 1]) AND h.1 - acc.1[i - 1][1] <= {window}))"
    current = (
        f"arrayMap(i -> if({reach}, if(i = 1, [h.1], arrayPushBack(acc.1[i - 1], h.1)), {empty}), {levels})"
    )
    current_dims = f"arrayMap(i -> if({reach}, if(i = 1, h.4, acc.2[i - 1]), ''), {levels})"
    best = (
        f"arrayMap(i -> if({reach}, if(i = 1, [h.1], arrayPushBack(acc.1[i - 1], h.1)), acc.3[i]), {levels})"
    )
    best_dims = f"arrayMap(i -> if({reach}, if(i = 1, h.4, acc.2[i - 1]), acc.4[i]), {levels})"
    initial = (
        f"(arrayMap(i -> {empty}, {levels}), arrayMap(i -> '', {levels}), "
        f"arrayMap(i -> {empty}, {levels}), arrayMap(i -> '', {levels}))"
    )
    return f"arrayFold((acc, h) -> ({current}, {current_dims}, {best}, {best_dims}), hits, {initial})"


@dataclass
class StepFigures:
    visitors: int
    median_ms: float | None


@dataclass
class FunnelFigures:
    """Visitors reaching each step (at least that far), median ms from the previous step."""

    steps: list[StepFigures] = field(default_factory=list)


def read_rows(rows: list[Any], n: int) -> tuple[FunnelFigures, list[tuple[str, FunnelFigures]]]:
    total = FunnelFigures([StepFigures(0, None) for _ in range(n)])
    groups: list[tuple[str, FunnelFigures]] = []
    for row in rows:
        dim, counts, medians, is_total = row[0], row[1 : n + 1], row[n + 1 : 2 * n], row[2 * n]
        figures = FunnelFigures(
            [
                StepFigures(int(counts[k]), None if k == 0 or not counts[k] else float(medians[k - 1]))
                for k in range(n)
            ]
        )
        if is_total:
            total = figures
        else:
            groups.append((dim, figures))
    return total, groups


def render(funnel: Funnel, figures: FunnelFigures) -> list[dict[str, Any]]:
    """Per step: visitors, conversion from the first step and from the previous one, drop-off."""
    out = []
    first = figures.steps[0].visitors if figures.steps else 0
    for k, (step, fig) in enumerate(zip(funnel.steps, figures.steps, strict=True)):
        previous = figures.steps[k - 1].visitors if k else fig.visitors
        out.append(
            {
                "step": k + 1,
                "label": step.label(),
                **step.as_dict(),
                "visitors": fig.visitors,
                "conversion_rate": _percent(fig.visitors, first),
                "conversion_rate_step": _percent(fig.visitors, previous),
                "dropoff": previous - fig.visitors,
                "dropoff_rate": round(100 - _percent(fig.visitors, previous), 2) if previous else 0.0,
                "median_seconds_from_previous": None
                if fig.median_ms is None
                else round(fig.median_ms / 1000, 3),
            }
        )
    return out


def _percent(part: int, whole: int) -> float:
    return round(part / whole * 100, 2) if whole else 0.0
