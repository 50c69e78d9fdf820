"""A funnel's figures for a date range, filters and breakdown: what the API, the CLI and the
dashboard show."""

from __future__ import annotations

from typing import Any

from touchline.funnels.compute import funnel_sql, read_rows, render
from touchline.funnels.model import Funnel
from touchline.query.engine import QueryEngine
from touchline.query.model import SiteContext


def funnel_report(
    engine: QueryEngine,
    site: SiteContext,
    funnel: Funnel,
    *,
    date_range: Any = "30d",
    filters: Any = None,
    breakdown: str | None = None,
) -> dict[str, Any]:
    """The date range and filters are the query API's (parsed by the engine: `7d`, `month`,
    `["2025-01-01", "2025-01-31"]`; `[["is", "visit:source", ["Google"]]]`), so they mean what
    they mean in `/api/v2/query`. QueryError (a 400) for anything it cannot use."""
    body: dict[str, Any] = {
        "site_id": site.domain,
        "metrics": ["visitors"],
        "date_range": date_range,
        "filters": filters or [],
        "dimensions": [breakdown] if breakdown else [],
    }
    query = engine.parse(body, site)
    statement = funnel_sql(funnel, query)
    total, groups = read_rows(engine.select(statement.sql, statement.parameters), statement.steps)
    steps = render(funnel, total)
    entered, completed = steps[0]["visitors"], steps[-1]["visitors"]
    return {
        "funnel": funnel.as_dict(),
        "date_range": query.date_range.as_plausible(),
        "filters": [f.plausible() for f in query.filters],
        "breakdown": breakdown,
        "entered": entered,
        "completed": completed,
        "conversion_rate": round(completed / entered * 100, 2) if entered else 0.0,
        "steps": steps,
        "breakdown_rows": [{"value": value, "steps": render(funnel, figures)} for value, figures in groups],
    }
