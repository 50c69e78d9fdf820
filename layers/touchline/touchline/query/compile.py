"""A validated `Query` → one SELECT with bound parameters.

Every metric asks for aggregates on the tables it reads (`MetricContext.agg`). Each table (and
variant: `no_goal` drops the goal and property filters, for conversion-rate denominators) becomes
one subquery grouped by the query's dimensions; the subqueries are joined on those dimensions
(FULL OUTER between the main ones, LEFT for denominators, CROSS for totals), and the outer SELECT
combines, orders and paginates in ClickHouse:

    SELECT d0, d1, <metric 0> AS m0, … , count() OVER () AS total_rows
    FROM (SELECT <dim 0> AS d0, <dim 1> AS d1, <aggregates> FROM <table> WHERE … GROUP BY d0, d1) AS t0
    FULL OUTER JOIN (…) AS t1 USING (d0, d1)
    ORDER BY … LIMIT {limit} OFFSET {offset}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from touchline.aggregate.sessions import FIRST_HIT_COLUMNS
from touchline.query.errors import QueryError
from touchline.query.model import (
    BehavioralFilter,
    FilterNode,
    LogicalFilter,
    NotFilter,
    Query,
    SimpleFilter,
)
from touchline.query.registry import ConversionTable, Dimension, Registry
from touchline.query.sql import Params

NO_GOAL = "no_goal"
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'")
_QUALIFIED = re.compile(r"\b([A-Za-z_]+)\.([A-Za-z_]+)")


@dataclass(frozen=True)
class PartKey:
    table: str
    variant: str = ""
    grouped: bool = True


@dataclass
class Part:
    key: PartKey
    alias: str
    aggregates: dict[str, str] = field(default_factory=dict)  # expression → column alias
    metrics: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Compiled:
    sql: str
    parameters: dict[str, Any]
    dimensions: tuple[str, ...]
    metrics: tuple[str, ...]


class CompileContext:
    """State of one compilation: the query, its parameters and the subqueries asked for."""

    def __init__(self, query: Query, registry: Registry) -> None:
        self.query = query
        self.registry = registry
        self.params = Params()
        self.parts: dict[PartKey, Part] = {}
        self.current_metric = ""
        self.current_variant = ""
        self.current_grouped = False
        # The SELECT list of the metric subquery being compiled (which hit columns it reads);
        # empty outside one.
        self.current_selects = ""
        self._traffic_table: str | None = None

    # ------------------------------------------------------------------ vocabulary

    def dimension(self, name: str) -> tuple[Dimension, str | None]:
        found = self.registry.find_dimension(self.query.bucket(name))
        if found is None:  # the parser validated every name already
            raise QueryError(f"Unknown dimension '{name}'.")
        return found

    def column(self, name: str, table: str) -> str | None:
        dimension, argument = self.dimension(name)
        return dimension.column(self, table, argument)

    def uses_kind(self, kind: str) -> bool:
        """Whether any dimension or filter of the query is of `kind` (event, visit, time…)."""
        names = set(self.query.dimensions) | self.query.filtered_dimensions()
        return any(self.dimension(n)[0].kind == kind for n in names)

    def traffic_table(self) -> str:
        """Where `visitors`, `pageviews` and `events` are counted: the events table whenever the
        query involves an event (its page, goal, properties, a behavioural filter), the sessions
        table when it is only about visits (cheaper, and the same numbers by definition), and the
        events table otherwise (the freshest: it includes hits not yet sessionised)."""
        if self._traffic_table is None:
            event_metrics = any(
                (found := self.registry.find_metric(m)) is not None
                and found[0].kind in ("special", "revenue")
                for m in self.query.metrics
            )
            if self.uses_kind("event") or self.query.has_behavioral_filters() or event_metrics:
                self._traffic_table = "events"
            elif self.uses_kind("visit"):
                self._traffic_table = "sessions"
            else:
                self._traffic_table = "events"
        return self._traffic_table

    # ------------------------------------------------------------------ parts

    def agg(self, table: str, expression: str, *, variant: str = "", grouped: bool = True) -> str:
        """Add the aggregate `expression` to `table`'s subquery; its column in the outer SELECT."""
        if table not in self.registry.tables:
            raise QueryError(f"Unknown table '{table}'.")
        if not self.query.dimensions:
            grouped = False
        key = PartKey(table, variant, grouped)
        part = self.parts.get(key)
        if part is None:
            part = Part(key, f"t{len(self.parts)}")
            self.parts[key] = part
        if self.current_metric and self.current_metric not in part.metrics:
            part.metrics.append(self.current_metric)
        alias = part.aggregates.get(expression)
        if alias is None:
            alias = f"a{len(part.aggregates)}"
            part.aggregates[expression] = alias
        return f"{part.alias}.{alias}"

    # ------------------------------------------------------------------ filters

    def where(self, table: str, variant: str = "", nodes: tuple[FilterNode, ...] | None = None) -> str:
        """The query's filters (or `nodes`) as a condition on `table`'s rows."""
        nodes = self.query.filters if nodes is None else nodes
        if variant == NO_GOAL:
            nodes = tuple(n for n in nodes if not _is_goal_or_property_filter(n))
        table_def = self.registry.tables[table]
        conversions = table_def if isinstance(table_def, ConversionTable) else None
        visits = [n for n in nodes if self._on_visits(n)] if conversions else []
        conditions = [self._node(node, table) for node in nodes if node not in visits]
        if conversions is not None and visits:
            candidates = conversions.conversion_candidates(self)
            conditions.append(self.journeys_matching(conversions.conversion_key, visits, candidates))
        return " AND ".join(f"({c})" for c in conditions) if conditions else "1"

    def _on_visits(self, node: FilterNode) -> bool:
        """A filter on visit dimensions only (no behavioural part): a condition on one session."""
        if _has_behavioural(node):
            return False
        return all(
            self.dimension(d)[0].columns.get("sessions") is not None for d in _filter_dimensions([node])
        )

    def first_hit_prewhere(self, nodes: list[FilterNode] | None = None, window: str = "") -> str:
        """` PREWHERE …` for a `sessions AS s FINAL` read: `window` (a condition on
        `session_start`) and the top-level visit filters (or `nodes`) that only test columns a
        session's first hit decides, else "".

        Such a condition passes every version of a session key or none (FIRST_HIT_COLUMNS), so
        it may drop rows before FINAL collapses them; the rows it drops are no longer merged,
        nor their other columns read. The caller keeps every condition in the WHERE too, so the
        PREWHERE only saves work."""
        if nodes is None:
            nodes = [n for n in self.query.filters if self._on_visits(n)]
        tests = [window] if window else []
        tests += [test for n in nodes if _first_hit_only(test := self._node(n, "sessions"))]
        return f" PREWHERE {' AND '.join(f'({t})' for t in tests)}" if tests else ""

    def journeys_matching(self, key: str, nodes: list[FilterNode], candidates: str) -> str:
        """Orders (or their refunds), by `key` (`'<source>:<order id>'`), whose journey has a
        session matching every one of `nodes`: the sessions attribution credits to the order
        (the linear model's rows, which keep every touchpoint within the lookback window, after
        identity resolution). `candidates`: a subquery of the conversion ids the outer rows can
        have (the range's orders or refunds), a superset of the keys tested.
        docs/query-api.md#revenue-with-visit-filters."""
        site = self.params.string(self.query.site.site_id)
        sessions = " AND ".join(f"({self._node(n, 'sessions')})" for n in nodes)
        # PREWHERE filters rows before FINAL collapses them, so only on what a credit's key fixes:
        # the conversion, the model, and the kind (an order's conversion id has a ':', a goal's
        # event id none). The conversion id leads the credits' sorting key, so restricting it to
        # the range's orders reads their granules only, not every credit of the site (a site's
        # goal conversions among them): the sets below are built before the outer rows are read.
        touches = (
            f"FROM attribution_credits AS c FINAL PREWHERE c.site_id = {site} "
            f"AND c.conversion_id IN ({candidates}) "
            "AND c.model = 'linear' AND c.conversion_kind = 'order' WHERE c.session_id != ''"
        )
        # Only the credited sessions are tested (their visitor ids, a prefix of the sessions'
        # key, select a few granules), not every session of the site.
        return (
            f"{key} IN (SELECT c.conversion_id {touches} AND (c.visitor_id, c.session_id) IN ("
            f"SELECT s.visitor_id, s.session_id FROM sessions AS s FINAL{self.first_hit_prewhere(nodes)} "
            f"WHERE s.site_id = {site} AND s.visitor_id IN (SELECT c.visitor_id {touches}) AND {sessions}))"
        )

    def _node(self, node: FilterNode, table: str) -> str:
        if isinstance(node, SimpleFilter):
            return self._simple(node, table)
        if isinstance(node, LogicalFilter):
            joiner = " AND " if node.operator == "and" else " OR "
            return joiner.join(f"({self._node(c, table)})" for c in node.children)
        if isinstance(node, NotFilter):
            return f"NOT ({self._node(node.child, table)})"
        return self._behavioral(node, table)

    def _simple(self, node: SimpleFilter, table: str) -> str:
        dimension, argument = self.dimension(node.dimension)
        column = dimension.column(self, table, argument)
        if column is None:
            if table == "sessions" and dimension.columns.get("events") is not None:
                # A session matches an event filter when one of its hits does.
                inner = self.session_events_relation(self._simple(node, "events"))
                return f"(s.visitor_id, s.session_id) IN (SELECT s.visitor_id, s.session_id {inner})"
            metrics = ", ".join(f"`{m}`" for m in self._metrics_on(table)) or f"`{table}`"
            raise QueryError(
                f"Invalid filters. Metric(s) {metrics} cannot be filtered by `{node.dimension}`."
            )
        if dimension.filter_sql is not None:
            return dimension.filter_sql(self, table, node)
        return self.condition(column, node.operator, list(node.clauses), node.case_sensitive)

    def condition(self, column: str, operator: str, clauses: list[Any], case_sensitive: bool = True) -> str:
        """`column <operator> clauses` with the clauses bound (any clause matching is a match)."""
        values = [str(c) for c in clauses]
        if operator in ("is", "is_not"):
            if case_sensitive:
                test = f"{column} IN {self.params.strings(values)}"
            else:
                test = f"lowerUTF8({column}) IN {self.params.strings([v.lower() for v in values])}"
        elif operator in ("contains", "contains_not"):
            function = "multiSearchAnyUTF8" if case_sensitive else "multiSearchAnyCaseInsensitiveUTF8"
            test = f"{function}({column}, {self.params.strings(values)})" if values else "0"
        elif operator in ("matches", "matches_not"):
            prefix = "" if case_sensitive else "(?i)"
            tests = [f"match({column}, {self.params.string(prefix + v)})" for v in values]
            test = " OR ".join(tests) if tests else "0"
        else:
            raise QueryError(f"Unknown operator '{operator}'.")
        return f"NOT ({test})" if operator.endswith("_not") else f"({test})"

    def _behavioral(self, node: BehavioralFilter, table: str) -> str:
        if table not in ("events", "sessions"):
            raise QueryError(f"Invalid filters. `{node.operator}` cannot be used with {table} metrics.")
        inner = self.session_events_relation(self._node(node.child, "events"))
        test = f"(s.visitor_id, s.session_id) IN (SELECT s.visitor_id, s.session_id {inner})"
        return test if node.operator == "has_done" else f"NOT {test}"

    def session_events_relation(self, where: str) -> str:
        """`FROM events ⋈ sessions WHERE where`: hits with their session (for semi-joins)."""
        events = self.registry.tables["events"]
        relation: str = events.relation(self, where, with_sessions=True)  # type: ignore[call-arg]
        return relation

    def _metrics_on(self, table: str) -> list[str]:
        return [m for part in self.parts.values() if part.key.table == table for m in part.metrics] or (
            [self.current_metric] if self.current_metric else []
        )

    def denominator_table(self) -> str:
        """Where conversion-rate denominators (visitors without goal and property filters) are
        counted: the sessions table when what remains is only about visits (the same visitors,
        without joining every hit to its session), else the events table."""
        remaining = [n for n in self.query.filters if not _is_goal_or_property_filter(n)]
        dims = [d for d in self.query.dimensions if d != "event:goal"]
        kinds = {self.dimension(d)[0].kind for d in dims}
        nested = _filter_dimensions(remaining)
        kinds |= {self.dimension(d)[0].kind for d in nested}
        behavioural = any(not isinstance(n, SimpleFilter) and _has_behavioural(n) for n in remaining)
        return "events" if "event" in kinds or behavioural else "sessions"

    def visitor_restriction(self) -> str | None:
        """A condition on `e` that every counted hit meets (the top-level event filters of the
        current subquery, and in a grouped one what its dimensions keep: a goal's hits), so the
        sessions joined to the hits can be limited to those visitors'."""
        nodes = self.query.filters
        if self.current_variant == NO_GOAL:
            nodes = tuple(n for n in nodes if not _is_goal_or_property_filter(n))
        conditions = []
        for node in nodes:
            if isinstance(node, SimpleFilter) and self.dimension(node.dimension)[0].kind == "event":
                conditions.append(self._simple(node, "events"))
        if self.current_grouped:
            for name in self.query.dimensions:
                dimension = self.dimension(name)[0]
                kept = dimension.rows_sql(self, "events") if dimension.rows_sql is not None else None
                if kept is not None:
                    conditions.append(kept)
        return " AND ".join(f"({c})" for c in conditions) if conditions else None

    def visit_restriction(self, window: str) -> str | None:
        """A condition on a hit's `visitor_id` that every hit passing the top-level visit filters
        of the current subquery meets: the visitor has a session in `window` (a condition on
        `session_start`: the sessions the hits are joined to) matching them, or the filters
        match the empty session an unsessionised hit is joined to (the second test, on one row of
        defaults, keeps `is_not` and `(not set)` filters exact). Both sides of the join are then
        cut to those visitors before the join, instead of every hit and session of the period."""
        nodes = [n for n in self.query.filters if self._on_visits(n)]
        if not nodes:
            return None
        site = self.params.string(self.query.site.site_id)
        test = " AND ".join(f"({self._node(n, 'sessions')})" for n in nodes)
        empty = "(SELECT '' AS k) AS z LEFT JOIN (SELECT * FROM sessions WHERE 0) AS s ON z.k = s.visitor_id"
        before_final = self.first_hit_prewhere(nodes, window)
        return (
            f"(visitor_id IN (SELECT s.visitor_id FROM sessions AS s FINAL{before_final} "
            f"WHERE s.site_id = {site} AND {window} AND {test}) "
            f"OR (SELECT count() FROM {empty} WHERE {test}) > 0)"
        )

    def needs_sessions(self) -> bool:
        """Whether an events subquery must be joined to sessions (visit dimensions or filters)."""
        return self.uses_kind("visit") or self.query.has_behavioral_filters()


class MetricContext:
    """What a metric's `sql` sees: the compile context and the metric's argument (its model)."""

    def __init__(self, ctx: CompileContext, argument: str | None) -> None:
        self.ctx = ctx
        self.argument = argument
        self.query = ctx.query
        self.params = ctx.params

    def agg(self, table: str, expression: str, *, variant: str = "", grouped: bool = True) -> str:
        return self.ctx.agg(table, expression, variant=variant, grouped=grouped)

    def traffic_table(self) -> str:
        return self.ctx.traffic_table()


def compile_query(query: Query, registry: Registry) -> Compiled:
    ctx = CompileContext(query, registry)
    outputs: list[str] = []
    sort_keys: dict[str, str] = {}
    for i, name in enumerate(query.metrics):
        found = registry.find_metric(name)
        if found is None:
            raise QueryError(f"Unknown metric '{name}'.")
        metric, argument = found
        ctx.current_metric = name
        expression = metric.sql(MetricContext(ctx, argument))
        outputs.append(f"{expression} AS m{i}")
        sort_keys[name] = metric.sort_key(f"m{i}")
    ctx.current_metric = ""

    dims = [f"d{i}" for i in range(len(query.dimensions))]
    subqueries = [(_part_sql(ctx, part, dims), part) for part in ctx.parts.values()]
    from_clause = _join(subqueries, dims)
    order = _order_by(query, dims, sort_keys)
    select = [*dims, *outputs, "count() OVER () AS total_rows"]
    limit = ctx.params.add(query.limit, "UInt64")
    offset = ctx.params.add(query.offset, "UInt64")
    sql = f"SELECT {', '.join(select)}\nFROM {from_clause}\nORDER BY {order}\nLIMIT {limit} OFFSET {offset}"
    return Compiled(sql, ctx.params.values, tuple(query.dimensions), tuple(query.metrics))


def _part_sql(ctx: CompileContext, part: Part, dims: list[str]) -> str:
    table = ctx.registry.tables[part.key.table]
    selects: list[str] = []
    if part.key.grouped:
        for name, alias in zip(ctx.query.dimensions, dims, strict=True):
            column = ctx.column(name, table.name)
            if column is None:
                metrics = ", ".join(f"`{m}`" for m in part.metrics)
                raise QueryError(f"Metric(s) {metrics} cannot be grouped by `{name}`.")
            selects.append(f"{column} AS {alias}")
    selects.extend(f"{expression} AS {alias}" for expression, alias in part.aggregates.items())
    ctx.current_variant, ctx.current_grouped = part.key.variant, part.key.grouped
    ctx.current_selects = ", ".join(selects)
    where = ctx.where(table.name, part.key.variant)
    relation = table.relation(ctx, where)
    ctx.current_variant, ctx.current_grouped, ctx.current_selects = "", False, ""
    group = f" GROUP BY {', '.join(dims)}" if part.key.grouped and dims else ""
    return f"(SELECT {', '.join(selects)} {relation}{group})"


def _join(subqueries: list[tuple[str, Part]], dims: list[str]) -> str:
    if not subqueries:
        raise QueryError("No metrics to compute.")
    main = [(sql, p) for sql, p in subqueries if p.key.grouped and not p.key.variant]
    side = [(sql, p) for sql, p in subqueries if p.key.grouped and p.key.variant]
    scalar = [(sql, p) for sql, p in subqueries if not p.key.grouped]
    if dims and not main:
        main, side = side[:1], side[1:]
    ordered = main + side + scalar
    first_sql, first = ordered[0]
    text = f"{first_sql} AS {first.alias}"
    using = f" USING ({', '.join(dims)})" if dims else ""
    for sql, part in ordered[1:]:
        if not part.key.grouped or not dims:
            text += f"\nCROSS JOIN {sql} AS {part.alias}"
        elif part in [p for _, p in main]:
            text += f"\nFULL OUTER JOIN {sql} AS {part.alias}{using}"
        else:
            text += f"\nLEFT JOIN {sql} AS {part.alias}{using}"
    return text


def _order_by(query: Query, dims: list[str], sort_keys: dict[str, str]) -> str:
    columns = dict(zip(query.dimensions, dims, strict=True))
    terms: list[str] = []
    seen: set[str] = set()
    for name, direction in query.order_by:
        column = columns.get(name) or sort_keys.get(name)
        if column is None or column in seen:
            continue
        seen.add(column)
        terms.append(f"{column} {'DESC' if direction == 'desc' else 'ASC'}")
    # Ties broken by the dimensions, so pages are stable.
    for dim in dims:
        if dim not in seen:
            terms.append(f"{dim} ASC")
    return ", ".join(terms) if terms else "tuple()"


def _filter_dimensions(nodes: list[FilterNode]) -> set[str]:
    out: set[str] = set()
    for node in nodes:
        if isinstance(node, SimpleFilter):
            out.add(node.dimension)
        elif isinstance(node, LogicalFilter):
            out |= _filter_dimensions(list(node.children))
        else:
            out |= _filter_dimensions([node.child])
    return out


def _has_behavioural(node: FilterNode) -> bool:
    if isinstance(node, BehavioralFilter):
        return True
    if isinstance(node, LogicalFilter):
        return any(_has_behavioural(c) for c in node.children)
    if isinstance(node, NotFilter):
        return _has_behavioural(node.child)
    return False


def _first_hit_only(condition: str) -> bool:
    """Whether a condition reads only columns of `s` that a session's first hit decides, and
    nothing else: no other table's column, no subquery."""
    bare = _QUOTED.sub("''", condition)
    columns = _QUALIFIED.findall(bare)
    return (
        bool(columns)
        and all(alias == "s" and column in FIRST_HIT_COLUMNS for alias, column in columns)
        and "SELECT" not in bare.upper()
    )


def _is_goal_or_property_filter(node: FilterNode) -> bool:
    return isinstance(node, SimpleFilter) and (
        node.dimension == "event:goal" or node.dimension.startswith("event:props:")
    )
