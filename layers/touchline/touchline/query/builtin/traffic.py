"""Plausible's dimensions and traffic metrics over events and sessions.

Event dimensions are a hit's own columns; visit dimensions are its session's (the first hit's
acquisition, device and place: docs/attribution.md), so on the events table they read the joined
session `s`. Values are shown as Plausible shows them (`Direct / None`, `(not set)`, `Desktop`),
and filters compare against what is shown, so a value copied from a result filters on it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from touchline.goals.patterns import wildcard_regex
from touchline.query.compile import NO_GOAL, CompileContext, MetricContext
from touchline.query.errors import QueryError
from touchline.query.model import Goal, Query, SimpleFilter
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender
from touchline.query.sql import Params

# ---------------------------------------------------------------------------------- dimensions

TRAFFIC = ("events", "engagements")


def _event(name: str, column: str, description: str, **options: Any) -> None:
    REGISTRY.dimension(
        Dimension(name, "event", {t: column for t in TRAFFIC}, description=description, **options)
    )


_event("event:page", "e.pathname", "Path of the page the event happened on.")
_event("event:hostname", "e.hostname", "Hostname of the event.", top_level_only=True)
_event("event:name", "e.name", "Event name (`pageview` or the custom event's name).")


def _prop(ctx: CompileContext, _table: str, key: str | None) -> str:
    k = ctx.params.string(key or "")
    return f"if(mapContains(e.props, {k}), e.props[{k}], '(none)')"


REGISTRY.dimension(
    Dimension(
        "event:props:",
        "event",
        {t: _prop for t in TRAFFIC},
        prefix=True,
        description="A custom property of the event (`event:props:<name>`); `(none)` when unset.",
    )
)


def _visit(
    name: str, session_column: str, description: str, credits: str | None = None, **options: Any
) -> None:
    columns = {"events": session_column, "engagements": session_column, "sessions": session_column}
    if credits is not None:
        columns["credits"] = credits
    REGISTRY.dimension(Dimension(name, "visit", columns, description=description, **options))


def _or(column: str, empty: str) -> str:
    return f"if({column} = '', '{empty}', {column})"


def _credit(column: str, empty: str) -> str:
    """A credit's touch column; `(none)` for conversions without a touchpoint."""
    return f"multiIf(c.channel = '(none)', '(none)', c.{column} = '', '{empty}', c.{column})"


_DEVICE = (
    "multiIf({c} = 'desktop', 'Desktop', {c} = 'mobile', 'Mobile', {c} = 'tablet', 'Tablet', "
    "{c} = '', '(not set)', {c})"
)

_visit("visit:entry_page", "s.landing_page", "Path of the session's first page.")
_visit("visit:entry_page_hostname", "s.hostname", "Hostname of the session's first page.")
_visit("visit:exit_page", "s.exit_page", "Path of the session's last pageview.")
_visit(
    "visit:source",
    _or("s.source", "Direct / None"),
    "Source: utm_source/ref/source, else the referrer's name, else the click id's network.",
    credits=_credit("source", "Direct / None"),
)
_visit(
    "visit:referrer",
    "if(s.referrer = '', 'Direct / None', "
    "replaceRegexpOne(s.referrer, '^[a-zA-Z][a-zA-Z0-9+.-]*://(www\\\\.)?', ''))",
    "The session's raw referrer without scheme or www.",
)
_visit(
    "visit:channel",
    "s.channel",
    "Acquisition channel (GA4 default channel group).",
    credits="c.channel",
)
_visit(
    "visit:utm_medium",
    _or("s.medium", "(not set)"),
    "utm_medium of the first hit.",
    credits=_credit("medium", "(not set)"),
)
_visit("visit:utm_source", _or("s.utm_source", "(not set)"), "utm_source of the first hit.")
_visit(
    "visit:utm_campaign",
    _or("s.campaign", "(not set)"),
    "utm_campaign of the first hit.",
    credits=_credit("campaign", "(not set)"),
)
_visit(
    "visit:utm_content",
    _or("s.content", "(not set)"),
    "utm_content of the first hit.",
    credits=_credit("content", "(not set)"),
)
_visit(
    "visit:utm_term",
    _or("s.term", "(not set)"),
    "utm_term of the first hit.",
    credits=_credit("term", "(not set)"),
)
_visit(
    "visit:device",
    _DEVICE.format(c="s.device_type"),
    "Desktop, Mobile or Tablet.",
    credits=f"if(c.channel = '(none)', '(none)', {_DEVICE.format(c='c.device_type')})",
)
_visit("visit:browser", _or("s.browser", "(not set)"), "Browser name.")
_visit("visit:browser_version", _or("s.browser_version", "(not set)"), "Browser version.")
_visit("visit:os", _or("s.os", "(not set)"), "Operating system.")
_visit("visit:os_version", _or("s.os_version", "(not set)"), "Operating system version.")


def _country_codes(_query: str, clauses: list[Any]) -> None:
    if not all(isinstance(c, str) and len(c) == 2 for c in clauses):
        raise QueryError(
            "Invalid visit:country filter, visit:country needs to be a valid 2-letter country code."
        )


_visit("visit:country", "s.country", "ISO 3166-1 alpha-2 country code.", check_clauses=_country_codes)
_visit("visit:region", "s.region", "ISO 3166-2 region code.")
_visit("visit:city", "s.city", "City.")
_visit("visit:city_name", "s.city", "City name.")


@cache
def _country_names() -> tuple[list[str], list[str]]:
    import pycountry

    rows = sorted((c.alpha_2, getattr(c, "common_name", None) or c.name) for c in pycountry.countries)
    return [r[0] for r in rows], [r[1] for r in rows]


@cache
def _region_names() -> tuple[list[str], list[str]]:
    import pycountry

    rows = sorted((s.code, s.name) for s in pycountry.subdivisions)
    return [r[0] for r in rows], [r[1] for r in rows]


def _named(column: str, names: Any) -> Any:
    def expression(ctx: CompileContext, _table: str, _argument: str | None) -> str:
        codes, labels = names()
        return f"transform({column}, {ctx.params.strings(codes)}, {ctx.params.strings(labels)}, {column})"

    return expression


for _name, _column, _names, _what in (
    ("visit:country_name", "s.country", _country_names, "Country name (ISO 3166-1)."),
    ("visit:region_name", "s.region", _region_names, "Region name (ISO 3166-2)."),
):
    REGISTRY.dimension(
        Dimension(
            _name,
            "visit",
            {t: _named(_column, _names) for t in ("events", "engagements", "sessions")},
            description=_what,
        )
    )


# ---------------------------------------------------------------------------------- goals


def goal_condition(ctx: CompileContext, name: str) -> str:
    """When an event counts as a completion of the site's goal `name` (custom event or page)."""
    goal = ctx.query.site.goal(name)
    if goal is None:
        return "0"
    return goal_sql(ctx.params, goal)


def goal_sql(params: Params, goal: Goal, alias: str = "e") -> str:
    """A goal as a condition on a hit (`alias`), every user value bound: the funnels and the goal
    conversions use the same."""
    if goal.page_pattern:
        pattern = params.string(wildcard_regex(goal.page_pattern))
        test = f"{alias}.event_type = 'pageview' AND match({alias}.pathname, {pattern})"
    else:
        name = params.string(goal.event_name or goal.name)
        test = f"{alias}.event_type != 'pageview' AND {alias}.name = {name}"
    for key, value in goal.props:
        k = params.string(key)
        test += f" AND mapContains({alias}.props, {k}) AND {alias}.props[{k}] = {params.string(value)}"
    return f"({test})"


def _goal_column(ctx: CompileContext, table: str, _argument: str | None) -> str:
    if table == "credits":
        return "c.conversion_name"
    items = [
        f"if({goal_condition(ctx, g.name)}, {ctx.params.string(g.name)}, '')" for g in ctx.query.site.goals
    ]
    if not items:
        return "arrayJoin(CAST([], 'Array(String)'))"
    return f"arrayJoin(arrayFilter(x -> x != '', [{', '.join(items)}]))"


def _goal_rows(ctx: CompileContext, table: str) -> str | None:
    """The hits a goal row can come from: those completing one of the site's goals."""
    if table != "events":
        return None
    conditions = [goal_condition(ctx, g.name) for g in ctx.query.site.goals]
    return " OR ".join(conditions) if conditions else "0"


def _goal_filter(ctx: CompileContext, table: str, node: SimpleFilter) -> str:
    names = matching_goals(ctx.query, node)
    if table == "credits":
        if not names:
            return "0"
        return f"(c.conversion_kind = 'goal' AND c.conversion_name IN {ctx.params.strings(names)})"
    conditions = [goal_condition(ctx, n) for n in names]
    return " OR ".join(conditions) if conditions else "0"


def matching_goals(query: Query, node: SimpleFilter) -> list[str]:
    """The configured goals an `event:goal` filter selects."""
    wanted = [str(c) for c in node.clauses]
    out = []
    for goal in query.site.goals:
        name = goal.name if node.case_sensitive else goal.name.lower()
        values = wanted if node.case_sensitive else [w.lower() for w in wanted]
        if (node.operator == "is" and name in values) or (
            node.operator == "contains" and any(v in name for v in values)
        ):
            out.append(goal.name)
    return out


REGISTRY.dimension(
    Dimension(
        "event:goal",
        "event",
        {"events": _goal_column, "credits": _goal_column},
        operators=frozenset({"is", "contains"}),
        top_level_only=True,
        filter_sql=_goal_filter,
        rows_sql=_goal_rows,
        description="A goal configured for the site (`touchline goals add`).",
    )
)

# ---------------------------------------------------------------------------------- time


def _time_column(ctx: CompileContext, table: str, _argument: str | None, bucket: str) -> str:
    column = ctx.registry.tables[table].time_column
    tz = ctx.params.string(ctx.query.date_range.timezone)
    first = ctx.params.add(ctx.query.date_range.first_day, "Date")
    if bucket == "time:minute":
        return f"formatDateTime(toStartOfMinute({column}, {tz}), '%Y-%m-%d %H:%i:00', {tz})"
    if bucket == "time:hour":
        return f"formatDateTime(toStartOfHour({column}, {tz}), '%Y-%m-%d %H:00:00', {tz})"
    if bucket == "time:week":
        return f"toString(greatest(toMonday(toDate({column}, {tz})), {first}))"
    if bucket == "time:month":
        return f"toString(greatest(toStartOfMonth(toDate({column}, {tz})), {first}))"
    return f"toString(toDate({column}, {tz}))"


def _time_dimension(bucket: str) -> Dimension:
    def column(ctx: CompileContext, table: str, argument: str | None) -> str:
        return _time_column(ctx, table, argument, bucket)

    return Dimension(
        bucket, "time", {"*": column}, description=f"Time buckets ({bucket}) in the site's time zone."
    )


for _bucket in ("time:minute", "time:hour", "time:day", "time:week", "time:month"):
    REGISTRY.dimension(_time_dimension(_bucket))
REGISTRY.dimension(
    Dimension(
        "time",
        "time",
        {"*": lambda ctx, table, arg: _time_column(ctx, table, arg, "time:day")},
        description="Time buckets chosen from the range: hours up to 2 days, days up to 40, else months.",
    )
)

# ---------------------------------------------------------------------------------- metrics


# Unique visitors count distinct 64-bit hashes of the visitor id: uniqExact over the String hashes
# each id to 128 bits (SipHash) and keeps a set of those, which cost ~170 ms CPU per 500,000 hits;
# over cityHash64 it is ~2x less. Two ids of one period collide with probability ~n²/2⁶⁵ (3e-8
# at a million visitors, 3e-4 at a hundred million), and then count one visitor short; an answer is
# otherwise the same exact count (docs/query-api.md, "The visitor count's key"). Sessions store the
# hash (`visitor_hash`, migration 0060); the events relations compute it (touchline.query.builtin.tables).
EVENT_VISITORS = "uniqExact(e.visitor_hash)"
SESSION_VISITORS = "uniqExact(s.visitor_hash)"


def _on_traffic(events: str, sessions: str) -> Any:
    def sql(m: MetricContext) -> str:
        table = m.traffic_table()
        return m.agg(table, events if table == "events" else sessions)

    return sql


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value) if value is not None else 0


def _float(places: int) -> Any:
    def render(value: Any, _ctx: MetricRender) -> Any:
        return round(float(value), places) if value is not None else 0.0

    return render


def _no_event_dimensions(query: Query, metric: str) -> None:
    event_dims = [d for d in query.dimensions if (f := REGISTRY.find_dimension(d)) and f[0].kind == "event"]
    if event_dims:
        raise QueryError(f"Session metric(s) `{metric}` cannot be queried along with event dimensions.")


REGISTRY.metric(
    Metric(
        "visitors",
        "event",
        _on_traffic(EVENT_VISITORS, SESSION_VISITORS),
        _int,
        description="Unique visitors.",
    )
)
REGISTRY.metric(
    Metric(
        "pageviews",
        "event",
        _on_traffic("countIf(e.event_type = 'pageview')", "sum(s.pageviews)"),
        _int,
        description="Pageview events.",
    )
)
REGISTRY.metric(
    Metric(
        "events",
        "event",
        _on_traffic("count()", "sum(s.hits)"),
        _int,
        description="Pageviews and custom events.",
    )
)


def _session_metric(name: str, expression: str, render: Any, description: str, validate: Any = None) -> None:
    REGISTRY.metric(
        Metric(
            name,
            "visit",
            lambda m: m.agg("sessions", expression),
            render,
            validate=validate or _no_event_dimensions,
            description=description,
            tables=("sessions",),
        )
    )


def _views_per_visit_rules(query: Query, metric: str) -> None:
    if "event:page" in query.filtered_dimensions():
        raise QueryError(f"Metric `{metric}` cannot be queried with a filter on `event:page`.")
    _no_event_dimensions(query, metric)


_session_metric("visits", "count()", _int, "Sessions (visits).")
_session_metric(
    "bounce_rate",
    "if(count() > 0, round(sum(s.is_bounce) / count() * 100), 0)",
    _int,
    "Share of sessions that bounced, in percent (integer).",
)
_session_metric(
    "visit_duration",
    "if(count() > 0, round(avg(s.duration_s)), 0)",
    _int,
    "Mean session duration in seconds.",
)
_session_metric(
    "views_per_visit",
    "if(count() > 0, round(sum(s.pageviews) / count(), 2), 0)",
    _float(2),
    "Pageviews per session.",
    _views_per_visit_rules,
)


def _visitors(m: MetricContext, **options: Any) -> str:
    table = m.traffic_table()
    return m.agg(table, EVENT_VISITORS if table == "events" else SESSION_VISITORS, **options)


def _percentage(m: MetricContext) -> str:
    part = _visitors(m)
    total = _visitors(m, grouped=False)
    return f"if({total} > 0, round({part} / {total} * 100, 1), 0)"


def _needs_dimensions(query: Query, metric: str) -> None:
    if not query.dimensions:
        raise QueryError(f"Metric `{metric}` can only be queried with dimensions.")


def _needs_goal(query: Query, metric: str) -> None:
    if "event:goal" not in query.dimensions and "event:goal" not in query.filtered_dimensions():
        raise QueryError(f"Metric `{metric}` can only be queried with event:goal filters or dimensions.")
    deep = query.filtered_dimensions() - {f.dimension for f in query.simple_filters(top_level_only=True)}
    if any(d.startswith("event:props:") for d in deep):
        raise QueryError(
            "Invalid filters. When `conversion_rate` or `group_conversion_rate` metrics are used, "
            "custom property filters can only be used on top level."
        )


def _denominator(m: MetricContext, grouped: bool) -> str:
    """Visitors without the goal and property filters (the conversion-rate divisor)."""
    table = m.ctx.denominator_table()
    column = EVENT_VISITORS if table == "events" else SESSION_VISITORS
    return m.agg(table, column, variant=NO_GOAL, grouped=grouped)


def _conversion_rate(m: MetricContext) -> str:
    converted = _visitors(m)
    total = _denominator(m, grouped=False)
    return f"if({total} > 0, round({converted} / {total} * 100, 2), 0)"


def _group_conversion_rate(m: MetricContext) -> str:
    converted = _visitors(m)
    # Grouped by the row's dimensions; a goal row's divisor is every visitor (goals are removed).
    total = _denominator(m, grouped="event:goal" not in m.query.dimensions)
    return f"if({total} > 0, round({converted} / {total} * 100, 2), 0)"


REGISTRY.metric(
    Metric(
        "percentage",
        # Counted where `visitors` is (a visit-only query reads sessions, not every hit joined
        # to its session): a row's percentage is its visitors over the same table's total.
        "event",
        _percentage,
        _float(1),
        validate=_needs_dimensions,
        description="Visitors of this row as a percentage of all visitors (same filters).",
    )
)
REGISTRY.metric(
    Metric(
        "conversion_rate",
        "special",
        _conversion_rate,
        _float(2),
        validate=_needs_goal,
        description="Visitors who completed the goal, in percent of all visitors (goal filters removed).",
    )
)
REGISTRY.metric(
    Metric(
        "group_conversion_rate",
        "special",
        _group_conversion_rate,
        _float(2),
        validate=_needs_goal,
        description="Visitors who completed the goal, in percent of this row's visitors "
        "(goal filters removed).",
    )
)


def _needs_page(query: Query, metric: str) -> None:
    top = {f.dimension for f in query.simple_filters(top_level_only=True)}
    if "event:page" not in query.dimensions and "event:page" not in top:
        raise QueryError(f"Metric `{metric}` can only be queried with event:page filters or dimensions.")


REGISTRY.metric(
    Metric(
        "scroll_depth",
        "event",
        lambda m: m.agg(
            "engagements",
            "round(ifNotFinite(arrayAvg(mapValues(maxMap(map(e.visitor_id, e.scroll_depth)))), 0))",
        ),
        _int,
        validate=_needs_page,
        description="Each visitor's deepest scroll on the page (percent), averaged over visitors.",
        tables=("engagements",),
    )
)
REGISTRY.metric(
    Metric(
        "time_on_page",
        "event",
        lambda m: m.agg(
            "engagements",
            "if(uniqExact(e.visitor_id) > 0, "
            "round(sum(e.engagement_ms) / 1000 / uniqExact(e.visitor_id)), 0)",
        ),
        _int,
        validate=_needs_page,
        description="Engaged seconds on the page per visitor (from the tag's engagement events).",
        tables=("engagements",),
    )
)
