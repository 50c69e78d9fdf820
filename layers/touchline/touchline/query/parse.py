"""A Stats API v2 request body → a validated `Query`, with Plausible's rules and messages.

Structure first (types, known names, unknown keys), then the rules that need the whole query
(order_by entries must be queried, `time_labels` needs a time dimension, goals must be
configured, each metric's own requirements). Every failure is a `QueryError` whose message says
what is wrong, in the words Plausible's API uses (values quoted as Plausible's `inspect` does).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from touchline.query import dates
from touchline.query.errors import QueryError
from touchline.query.model import (
    BehavioralFilter,
    FilterNode,
    Include,
    LogicalFilter,
    NotFilter,
    Query,
    SimpleFilter,
    SiteContext,
)
from touchline.query.registry import ConversionTable, Registry

TOP_LEVEL_KEYS = (
    "site_id",
    "metrics",
    "date_range",
    "dimensions",
    "filters",
    "order_by",
    "include",
    "pagination",
)
SIMPLE_OPERATORS = ("is", "is_not", "contains", "contains_not", "matches", "matches_not")
LOGICAL_OPERATORS = ("and", "or")
MAX_CLAUSES = 255
MAX_FILTER_DEPTH = 8
MAX_LIMIT = 10_000
IMPORTS_WARNING = "Touchline has no imported stats: results are native stats only."


def inspect(value: Any) -> str:
    """A value as Plausible's error messages quote it (Elixir's `inspect`: JSON-like)."""
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def parse_query(body: Any, site: SiteContext, now: datetime, registry: Registry) -> Query:
    if not isinstance(body, dict):
        raise QueryError("#: Type mismatch. Expected Object but got " + _type(body) + ".")
    for key in body:
        if key not in TOP_LEVEL_KEYS:
            raise QueryError(f"#/{key}: Schema does not allow additional properties.")
    for key in ("site_id", "metrics", "date_range"):
        if key not in body:
            raise QueryError(f"#: Required property {key} was not present.")
    if not isinstance(body["site_id"], str) or not body["site_id"]:
        raise QueryError("#/site_id: Type mismatch. Expected String but got " + _type(body["site_id"]) + ".")
    metrics = _metrics(body["metrics"], registry)
    date_range = dates.resolve(body["date_range"], site.timezone, now, site.first_day)
    dimensions = _dimensions(body.get("dimensions", []), registry)
    filters = _filters(body.get("filters", []), registry, site)
    include = _include(body.get("include", {}), registry)
    limit, offset = _pagination(body.get("pagination", {}))
    order_by = _order_by(body.get("order_by"), metrics, dimensions, registry)
    buckets = tuple(("time", dates.bucket_for_time(date_range)) for d in dimensions if d == "time")
    query = Query(
        site=site,
        metrics=metrics,
        date_range=date_range,
        dimensions=dimensions,
        filters=filters,
        order_by=order_by,
        include=include,
        limit=limit,
        offset=offset,
        time_buckets=buckets,
        now=now,
    )
    _validate(query, registry)
    return query


def _type(value: Any) -> str:
    return {
        dict: "Object",
        list: "Array",
        str: "String",
        bool: "Boolean",
        int: "Integer",
        float: "Number",
    }.get(type(value), "Null")


def _metrics(raw: Any, registry: Registry) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise QueryError("#/metrics: Type mismatch. Expected Array but got " + _type(raw) + ".")
    if not raw:
        raise QueryError("#/metrics: Expected a minimum of 1 items but got 0.")
    seen: list[str] = []
    for metric in raw:
        if not isinstance(metric, str) or registry.find_metric(metric) is None:
            raise QueryError(f"Unknown metric '{inspect(metric)}'.")
        if metric in seen:
            raise QueryError("#/metrics: Expected items to be unique but they were not.")
        seen.append(metric)
    return tuple(seen)


def _dimensions(raw: Any, registry: Registry) -> tuple[str, ...]:
    if not isinstance(raw, list):
        raise QueryError("#/dimensions: Type mismatch. Expected Array but got " + _type(raw) + ".")
    seen: list[str] = []
    for name in raw:
        found = registry.find_dimension(name) if isinstance(name, str) else None
        if found is None or not found[0].groupable:
            raise QueryError(f"Invalid dimensions '{inspect(raw)}'")
        if name in seen:
            raise QueryError("#/dimensions: Expected items to be unique but they were not.")
        seen.append(name)
    return tuple(seen)


def _filters(raw: Any, registry: Registry, site: SiteContext) -> tuple[FilterNode, ...]:
    if not isinstance(raw, list):
        raise QueryError("Invalid filters passed.")
    return tuple(_filter(f, registry, site, 0, top=True) for f in raw)


def _filter(raw: Any, registry: Registry, site: SiteContext, depth: int, top: bool) -> FilterNode:
    if depth > MAX_FILTER_DEPTH:
        raise QueryError(f"Invalid filters. Filters can be nested at most {MAX_FILTER_DEPTH} levels deep.")
    if not isinstance(raw, list) or not raw or not isinstance(raw[0], str):
        raise QueryError(f"Unknown operator for filter '{inspect(raw)}'.")
    operator = raw[0]
    if operator in LOGICAL_OPERATORS:
        if len(raw) != 2 or not isinstance(raw[1], list) or not raw[1]:
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
        return LogicalFilter(
            operator, tuple(_filter(f, registry, site, depth + 1, top=False) for f in raw[1])
        )
    if operator == "not":
        if len(raw) != 2:
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
        return NotFilter(_filter(raw[1], registry, site, depth + 1, top=False))
    if operator in ("has_done", "has_not_done"):
        if len(raw) != 2:
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
        child = _filter(raw[1], registry, site, depth + 1, top=True)
        return BehavioralFilter(operator, child)
    if operator not in SIMPLE_OPERATORS:
        raise QueryError(f"Unknown operator for filter '{inspect(raw)}'.")
    return _simple(raw, registry, site, top)


def _simple(raw: list[Any], registry: Registry, site: SiteContext, top: bool) -> SimpleFilter:
    operator = raw[0]
    if len(raw) not in (3, 4) or not isinstance(raw[1], str) or not isinstance(raw[2], list):
        raise QueryError(f"Invalid filter '{inspect(raw)}'.")
    name, clauses = raw[1], raw[2]
    if name == "segment":
        raise QueryError("Invalid filters. Some segments don't exist or aren't accessible.")
    found = registry.find_dimension(name)
    if found is None or found[0].kind == "time":
        raise QueryError(f"Invalid filter '{inspect(raw)}'")
    dimension, _argument = found
    if not all(isinstance(c, str) for c in clauses):
        if name in ("visit:city",) and all(isinstance(c, int) and not isinstance(c, bool) for c in clauses):
            clauses = [str(c) for c in clauses]
        else:
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
    if len(clauses) > MAX_CLAUSES:
        raise QueryError(f"Invalid filter '{inspect(raw)}': at most {MAX_CLAUSES} clauses.")
    if operator not in dimension.operators:
        allowed = " and ".join(f"`{o}`" for o in sorted(dimension.operators))
        raise QueryError(f"Invalid filter '{inspect(raw)}': only {allowed} can be used with `{name}`.")
    if dimension.top_level_only and not top:
        raise QueryError(f"Invalid filters. Dimension `{name}` can only be filtered at the top level.")
    if dimension.check_clauses is not None and operator in ("is", "is_not"):
        dimension.check_clauses(name, clauses)
    case_sensitive = True
    if len(raw) == 4:
        modifiers = raw[3]
        if not isinstance(modifiers, dict) or set(modifiers) - {"case_sensitive"}:
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
        value = modifiers.get("case_sensitive", True)
        if not isinstance(value, bool):
            raise QueryError(f"Invalid filter '{inspect(raw)}'.")
        case_sensitive = value
    if operator in ("matches", "matches_not"):
        _check_regexes(raw, clauses)
    if name == "event:goal" and operator == "is":
        for clause in clauses:
            if site.goal(clause) is None and not (
                not case_sensitive and any(g.name.lower() == clause.lower() for g in site.goals)
            ):
                raise QueryError(
                    f"The goal `{clause}` is not configured for this site. Find out how to configure "
                    "goals here: touchline goals add SITE NAME (docs/query-api.md#goals)"
                )
    return SimpleFilter(operator, name, tuple(clauses), case_sensitive)


def _check_regexes(raw: list[Any], clauses: list[str]) -> None:
    import importlib

    re2 = importlib.import_module("re2")  # google-re2 ships no type information
    for pattern in clauses:
        try:
            re2.compile(pattern)
        except Exception as exc:  # re2.error, and ValueError for patterns it rejects
            raise QueryError(
                f"Invalid filter '{inspect(raw)}': {pattern!r} is not a valid regular expression ({exc})."
            ) from None


def _include(raw: Any, registry: Registry) -> Include:
    if not isinstance(raw, dict):
        raise QueryError(f"Invalid include '{inspect(raw)}'.")
    known = {"time_labels", "total_rows", "imports", *registry.includes}
    if set(raw) - known:
        raise QueryError(f"Invalid include '{inspect(raw)}'.")
    for key in ("time_labels", "total_rows", "imports"):
        if key in raw and not isinstance(raw[key], bool):
            raise QueryError(f"#/include/{key}: Type mismatch. Expected Boolean but got {_type(raw[key])}.")
    extra = tuple(sorted((k, v) for k, v in raw.items() if k in registry.includes and v not in (False, None)))
    return Include(
        time_labels=bool(raw.get("time_labels")),
        total_rows=bool(raw.get("total_rows")),
        imports=bool(raw.get("imports")),
        extra=extra,
    )


def _pagination(raw: Any) -> tuple[int, int]:
    if not isinstance(raw, dict) or set(raw) - {"limit", "offset"}:
        raise QueryError(f"Invalid pagination '{inspect(raw)}'.")
    limit, offset = raw.get("limit", MAX_LIMIT), raw.get("offset", 0)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise QueryError(
            f"#/pagination/limit: Expected an integer from 1 to {MAX_LIMIT} but got {inspect(limit)}."
        )
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= 10**9:
        raise QueryError(f"#/pagination/offset: Expected a non-negative integer but got {inspect(offset)}.")
    return limit, offset


def _order_by(
    raw: Any, metrics: tuple[str, ...], dimensions: tuple[str, ...], registry: Registry
) -> tuple[tuple[str, str], ...]:
    if raw is None:
        default = [(d, "asc") for d in dimensions if d == "time" or d.startswith("time:")]
        return (*default, (metrics[0], "desc"))
    if not isinstance(raw, list):
        raise QueryError(f"Invalid order_by '{inspect(raw)}'.")
    out: list[tuple[str, str]] = []
    for entry in raw:
        if (
            not isinstance(entry, list)
            or len(entry) != 2
            or not isinstance(entry[0], str)
            or entry[1] not in ("asc", "desc")
            or (registry.find_metric(entry[0]) is None and registry.find_dimension(entry[0]) is None)
        ):
            raise QueryError(f"Invalid order_by entry '{inspect(entry)}'.")
        if entry[0] not in metrics and entry[0] not in dimensions:
            raise QueryError(
                f"Invalid order_by entry '{inspect(entry)}'. Entry is not a queried metric or dimension."
            )
        out.append((entry[0], entry[1]))
    return tuple(out)


def _validate(query: Query, registry: Registry) -> None:
    if query.include.time_labels and not any(d == "time" or d.startswith("time:") for d in query.dimensions):
        raise QueryError("Invalid include.time_labels: requires a time dimension.")
    for name in query.metrics:
        found = registry.find_metric(name)
        assert found is not None
        metric, _argument = found
        if metric.validate is not None:
            metric.validate(query, name)
        if metric.tables is not None:
            _check_tables(query, registry, name, metric.tables)
    for option in registry.includes.values():
        if option.validate is not None and dict(query.include.extra).get(option.name):
            option.validate(query)


def _check_tables(query: Query, registry: Registry, metric: str, tables: tuple[str, ...]) -> None:
    """A metric over fixed tables can only use dimensions those tables have."""
    for name in query.dimensions:
        found = registry.find_dimension(query.bucket(name))
        assert found is not None
        dimension = found[0]
        if not any(t in dimension.columns or "*" in dimension.columns for t in tables):
            raise QueryError(f"Metric `{metric}` cannot be grouped by `{name}`.")
    for name in query.filtered_dimensions():
        found = registry.find_dimension(name)
        assert found is not None
        dimension = found[0]
        on_events = "sessions" in tables and "events" in dimension.columns
        # Orders and refunds reach visits through the order's journey (CompileContext.where).
        on_journeys = "sessions" in dimension.columns and all(
            isinstance(registry.tables[t], ConversionTable) for t in tables
        )
        if (
            not on_events
            and not on_journeys
            and not any(t in dimension.columns or "*" in dimension.columns for t in tables)
        ):
            raise QueryError(f"Invalid filters. Metric `{metric}` cannot be filtered by `{name}`.")
