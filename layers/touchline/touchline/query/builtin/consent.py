"""The consent view of the query API (docs/consent.md): each person's state per category.

A person's state in a category is the value of their latest recorded choice that names it
(`consent_events`, read with FINAL), as of the end of the date range; a person counts when that
choice falls in the range, so `"date_range": "all"` is everyone's current state. The person is
the choice's user id or anonymous id resolved through identity_map (as the attribution
credits' person), else the row's own `user:` / `visitor:` id: a visitor who chose before
signing in and the user they became are one person, whose latest choice wins.
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.tables import site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender


class ConsentTable:
    """(person, category, granted, decided_at): the latest choice per person and category."""

    name = "consent"
    alias = "cs"
    time_column = "cs.decided_at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        site = site_clause(ctx)
        p = ctx.params
        start = p.add(ctx.query.date_range.start, "DateTime64(3, 'UTC')")
        end = p.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
        choices = f"""
            SELECT if(m.person_id != '', m.person_id, c.person_id) AS person_id, c.at AS at,
                   c.choice_id AS choice_id, category, granted
            FROM (SELECT * FROM consent_events FINAL WHERE {site} AND at < {end}) AS c
            ARRAY JOIN mapKeys(c.categories) AS category, mapValues(c.categories) AS granted
            LEFT JOIN (SELECT id_value, person_id FROM identity_map FINAL
                       WHERE {site} AND id_type = 'visitor' AND is_deleted = 0) AS m
                ON m.id_value = if(c.user_id != '', c.user_id, c.anonymous_id)"""
        state = f"""
            SELECT person_id, category, argMax(granted, (at, choice_id)) AS granted,
                   max(at) AS decided_at
            FROM ({choices}) GROUP BY person_id, category"""
        return f"FROM ({state}) AS cs WHERE cs.decided_at >= {start} AND ({where})"


REGISTRY.table(ConsentTable())

for _name, _column, _description in (
    ("consent:category", "cs.category", "The site's consent category as its calls name it (Analytics…)."),
    ("consent:state", "if(cs.granted = 1, 'granted', 'refused')", "The person's latest choice in it."),
    ("consent:person", "cs.person_id", "The person (resolved, else user:<userId> / visitor:<anonymousId>)."),
):
    REGISTRY.dimension(Dimension(_name, "consent", {"consent": _column}, description=_description))


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _rate(value: Any, _ctx: MetricRender) -> Any:
    return round(float(value or 0), 4)


def _metric(name: str, expression: str, description: str, render: Any = _int) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg("consent", expression)

    REGISTRY.metric(Metric(name, "consent", sql, render, description=description, tables=("consent",)))


_metric("consent_people", "uniqExact(cs.person_id)", "People with a recorded choice (by category: in it).")
_metric("consent_granted", "uniqExactIf(cs.person_id, cs.granted = 1)", "Those whose latest choice grants.")
_metric("consent_refused", "uniqExactIf(cs.person_id, cs.granted = 0)", "Those whose latest choice refuses.")
_metric(
    "consent_grant_rate",
    "if(count() = 0, 0, countIf(cs.granted = 1) / count())",
    "Granted (person, category) states over all of them.",
    _rate,
)
