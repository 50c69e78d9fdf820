"""The engine's vocabulary: tables, dimensions, metrics and `include` options, in one registry.

Nothing in the engine knows a metric or a dimension by name; it asks this registry. A module
that adds a view (customers, products, funnels…) registers its own table, dimensions and
metrics at import and the parser, validation, SQL compiler and OpenAPI schema pick them up
(docs/query-api.md, "Extending the engine"). The built-in vocabulary lives in
`touchline.query.builtin`.

- A **table** (`Table`) is a relation the engine aggregates over: it turns a compile context into
  `FROM … WHERE <site and time range>` (its rows already scoped to the site and the range).
- A **dimension** (`Dimension`) is a column expression per table it exists on (`columns`), so the
  same name groups and filters whichever table a metric reads.
- A **metric** (`Metric`) writes its SQL through `MetricContext.agg(table, expression)`: each call
  adds an aggregate to that table's subquery (grouped by the query's dimensions) and returns the
  column to combine in the outer SELECT. Metrics over several tables (net revenue = orders -
  refunds, group conversion rate = goal visitors / all visitors) are just several calls.
- An **include** (`IncludeOption`) adds something to `meta` (Plausible's `time_labels`,
  `total_rows`; later annotations).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from touchline.query.compile import CompileContext, MetricContext
    from touchline.query.model import Query

ALL_OPERATORS = frozenset({"is", "is_not", "contains", "contains_not", "matches", "matches_not"})

# A column expression: SQL text, or a function of the compile context, the table and the
# dimension's argument (`event:props:<key>` → key) that may bind parameters. The key `*` gives
# the expression on every table (time dimensions bucket each table's own time column).
Column = str | Callable[["CompileContext", str, str | None], str]


class Table(Protocol):
    """A relation the engine aggregates over (`events`, `sessions`, `credits`, `orders`…)."""

    name: str
    # Aliases in the SQL text: dimensions and metrics refer to columns through them.
    alias: str
    # The column time dimensions bucket (`e.timestamp`, `s.session_start` …).
    time_column: str

    def relation(self, ctx: CompileContext, where: str) -> str:
        """`FROM … WHERE …`: the site's rows in the query's date range, plus `where`."""
        ...


@runtime_checkable
class ConversionTable(Table, Protocol):
    """A table whose rows are conversions (orders, refunds): visit filters reach it through the
    conversion's journey (`CompileContext.journeys_matching`)."""

    # The row's conversion id (`attribution_credits.conversion_id`), an expression on its alias.
    conversion_key: str

    def conversion_candidates(self, ctx: CompileContext) -> str:
        """A subquery of the conversion ids the range's rows can have (a superset is enough)."""
        ...


@dataclass(frozen=True)
class Dimension:
    """A name the query can group and filter by, and its expression on each table it exists on.

    `kind` decides validation: `event` (one event's property), `visit` (the session's: its first
    hit's acquisition, device and place), `time`, or a view's own kind (`commerce`).
    `prefix` dimensions (`event:props:`) take the rest of the name as an argument.
    """

    name: str
    kind: str
    columns: Mapping[str, Column]
    prefix: bool = False
    operators: frozenset[str] = ALL_OPERATORS
    top_level_only: bool = False
    groupable: bool = True
    description: str = ""
    # Clause validation beyond "a list of strings" (e.g. 2-letter country codes).
    check_clauses: Callable[[str, list[Any]], None] | None = None
    # A filter that is not `column <operator> clauses` (event:goal: each goal's own condition).
    filter_sql: Callable[[CompileContext, str, Any], str] | None = None
    # A condition every row grouped by the dimension on a table meets (event:goal: a hit that
    # completes some goal), applied to the hits before anything is joined to them.
    rows_sql: Callable[[CompileContext, str], str | None] | None = None

    def column(self, ctx: CompileContext, table: str, argument: str | None) -> str | None:
        """The SQL expression on `table`, or None when the dimension does not exist there."""
        column = self.columns.get(table, self.columns.get("*"))
        if column is None:
            return None
        return column if isinstance(column, str) else column(ctx, table, argument)


@dataclass(frozen=True)
class Metric:
    """A name in `metrics`, its SQL (through `MetricContext`) and how its value is rendered.

    `kind` groups metrics for validation: `event`, `visit` (session metrics), `special`
    (conversion rates), `revenue` (money from goal events), `commerce` (orders and
    refunds) and `attribution`. `prefix` metrics (`attributed_revenue:`) take an argument (the
    model), checked by `arguments` when set.
    """

    name: str
    kind: str
    sql: Callable[[MetricContext], str]
    render: Callable[[Any, MetricRender], Any] = lambda value, _ctx: value
    prefix: bool = False
    arguments: Callable[[], Iterable[str]] | None = None
    validate: Callable[[Query, str], None] | None = None
    # ORDER BY expression for the metric's output column (money is a Map: sort by its total).
    sort_key: Callable[[str], str] = lambda column: column
    description: str = ""
    # Tables whose dimensions this metric can be grouped/filtered by (None: decided per query).
    tables: tuple[str, ...] | None = None


@dataclass
class MetricRender:
    """What a metric's renderer may look at and report (warnings go to `meta.metric_warnings`)."""

    query: Query
    metric: str
    warnings: dict[str, dict[str, str]] = field(default_factory=dict)

    def warn(self, code: str, warning: str, **details: str) -> None:
        """Plausible's `{code, warning}`, plus machine-readable `details` (e.g. a fit's status)."""
        self.warnings.setdefault(self.metric, {"code": code, "warning": warning, **details})


@dataclass(frozen=True)
class IncludeOption:
    """An `include` key: `fill(query, response_meta, rows)` adds to `meta` when it is true."""

    name: str
    fill: Callable[[Query, dict[str, Any], list[dict[str, Any]]], None] | None = None
    validate: Callable[[Query], None] | None = None
    description: str = ""


class Registry:
    """Tables, dimensions, metrics and include options by name; later registrations win."""

    def __init__(self) -> None:
        self.tables: dict[str, Table] = {}
        self.dimensions: dict[str, Dimension] = {}
        self.prefix_dimensions: dict[str, Dimension] = {}
        self.metrics: dict[str, Metric] = {}
        self.prefix_metrics: dict[str, Metric] = {}
        self.includes: dict[str, IncludeOption] = {}

    def table(self, table: Table) -> Table:
        self.tables[table.name] = table
        return table

    def dimension(self, dimension: Dimension) -> Dimension:
        (self.prefix_dimensions if dimension.prefix else self.dimensions)[dimension.name] = dimension
        return dimension

    def metric(self, metric: Metric) -> Metric:
        (self.prefix_metrics if metric.prefix else self.metrics)[metric.name] = metric
        return metric

    def include(self, option: IncludeOption) -> IncludeOption:
        self.includes[option.name] = option
        return option

    def find_dimension(self, name: str) -> tuple[Dimension, str | None] | None:
        """The dimension `name` means and its argument (`event:props:plan` → props, `plan`)."""
        if name in self.dimensions:
            return self.dimensions[name], None
        for prefix, dimension in self.prefix_dimensions.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                return dimension, name[len(prefix) :]
        return None

    def find_metric(self, name: str) -> tuple[Metric, str | None] | None:
        if name in self.metrics:
            return self.metrics[name], None
        for prefix, metric in self.prefix_metrics.items():
            if name.startswith(prefix) and len(name) > len(prefix):
                argument = name[len(prefix) :]
                if metric.arguments is not None and argument not in set(metric.arguments()):
                    return None
                return metric, argument
        return None

    def metric_names(self) -> list[str]:
        names = list(self.metrics)
        for prefix, metric in self.prefix_metrics.items():
            if metric.arguments is not None:
                names.extend(prefix + argument for argument in metric.arguments())
        return names


REGISTRY = Registry()
