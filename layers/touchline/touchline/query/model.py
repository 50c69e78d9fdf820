"""A parsed, validated query: what the compiler turns into SQL and the cache keys on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from touchline.query.dates import DateRange


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal `event:goal` knows: completions are custom events named `event_name`, or, for
    `page_pattern` goals, pageviews whose path matches; either with every `props` pair equal to
    the event's property. `touchline.query.builtin.traffic.goal_condition` turns it into a
    condition on the events table."""

    name: str
    event_name: str = ""
    page_pattern: str = ""
    value: Decimal | None = None
    currency: str = ""
    props: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class SiteContext:
    """The site a query reads, as the engine needs it (settings from the config table)."""

    site_id: str
    domain: str
    timezone: str = "UTC"
    goals: tuple[Goal, ...] = ()
    # The first local day with data (`date_range: "all"` starts here); None: no data yet.
    first_day: date | None = None
    # The organisation that owns the site ("" for one registered before organisations).
    org_id: str = ""
    # The site's time-decay half-life: the touches variants credit time decay on demand with it.
    half_life_days: float = 7.0
    # Hours without activity after which an unordered cart is abandoned (docs/carts.md).
    cart_abandon_hours: float = 24.0

    def goal(self, name: str) -> Goal | None:
        return next((g for g in self.goals if g.name == name), None)


@dataclass(frozen=True, slots=True)
class SimpleFilter:
    operator: str
    dimension: str
    clauses: tuple[Any, ...]
    case_sensitive: bool = True

    def plausible(self) -> list[Any]:
        out: list[Any] = [self.operator, self.dimension, list(self.clauses)]
        if not self.case_sensitive:
            out.append({"case_sensitive": False})
        return out


@dataclass(frozen=True, slots=True)
class LogicalFilter:
    operator: str  # and | or
    children: tuple[FilterNode, ...]

    def plausible(self) -> list[Any]:
        return [self.operator, [c.plausible() for c in self.children]]


@dataclass(frozen=True, slots=True)
class NotFilter:
    child: FilterNode

    def plausible(self) -> list[Any]:
        return ["not", self.child.plausible()]


@dataclass(frozen=True, slots=True)
class BehavioralFilter:
    """`has_done` / `has_not_done`: sessions in which an event matching `child` happened (or not)."""

    operator: str
    child: FilterNode

    def plausible(self) -> list[Any]:
        return [self.operator, self.child.plausible()]


FilterNode = SimpleFilter | LogicalFilter | NotFilter | BehavioralFilter


@dataclass(frozen=True, slots=True)
class Include:
    time_labels: bool = False
    total_rows: bool = False
    imports: bool = False
    # Options other modules register (touchline.query.registry.IncludeOption), by name.
    extra: tuple[tuple[str, Any], ...] = ()

    def plausible(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.time_labels:
            out["time_labels"] = True
        if self.total_rows:
            out["total_rows"] = True
        if self.imports:
            out["imports"] = True
        out.update(dict(self.extra))
        return out


@dataclass(frozen=True, slots=True)
class Query:
    site: SiteContext
    metrics: tuple[str, ...]
    date_range: DateRange
    dimensions: tuple[str, ...] = ()
    filters: tuple[FilterNode, ...] = ()
    order_by: tuple[tuple[str, str], ...] = ()
    include: Include = field(default_factory=Include)
    limit: int = 10_000
    offset: int = 0
    # `time` resolved to its bucket for this range (e.g. time:day); equal to the name otherwise.
    time_buckets: tuple[tuple[str, str], ...] = ()
    # When the query was parsed: what a state "as of now" (cart abandonment) is judged at.
    now: datetime | None = None

    def bucket(self, dimension: str) -> str:
        return dict(self.time_buckets).get(dimension, dimension)

    def simple_filters(self, top_level_only: bool = False) -> list[SimpleFilter]:
        """Every simple filter in the tree (or only those at the top level)."""
        out: list[SimpleFilter] = []

        def walk(node: FilterNode, depth: int) -> None:
            if isinstance(node, SimpleFilter):
                if not top_level_only or depth == 0:
                    out.append(node)
            elif isinstance(node, LogicalFilter):
                for child in node.children:
                    walk(child, depth + 1)
            else:
                walk(node.child, depth + 1)

        for node in self.filters:
            walk(node, 0)
        return out

    def has_behavioral_filters(self) -> bool:
        def walk(node: FilterNode) -> bool:
            if isinstance(node, BehavioralFilter):
                return True
            if isinstance(node, LogicalFilter):
                return any(walk(c) for c in node.children)
            if isinstance(node, NotFilter):
                return walk(node.child)
            return False

        return any(walk(n) for n in self.filters)

    def filtered_dimensions(self) -> set[str]:
        return {f.dimension for f in self.simple_filters()}

    def echo(self) -> dict[str, Any]:
        """The query as executed, in Plausible's `query` response field."""
        out: dict[str, Any] = {
            "site_id": self.site.domain,
            "metrics": list(self.metrics),
            "date_range": self.date_range.as_plausible(),
            "filters": [f.plausible() for f in self.filters],
            "dimensions": list(self.dimensions),
            "order_by": [list(o) for o in self.order_by],
            "include": self.include.plausible(),
            "pagination": {"offset": self.offset, "limit": self.limit},
        }
        return out
