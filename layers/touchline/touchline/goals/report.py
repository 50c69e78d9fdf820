"""A site's goal completions for a date range, as the conversions API (`GET /api/v1|v2/goal-conversions`)
answers them: the query API's `date_range`, optional goals by name or id, a row limit."""

from __future__ import annotations

from typing import Any

from touchline.config.attribution_settings import AttributionSettings
from touchline.goals.conversions import conversion_out, goal_conversions
from touchline.query.engine import QueryEngine
from touchline.query.errors import QueryError
from touchline.query.model import SiteContext

DEFAULT_LIMIT = 1000
MAX_LIMIT = 10_000


class _EngineSql:
    """`goal_conversions` reads through the engine's warehouse (read-only, bounded statements,
    the engine's 400 for a client's own mistake)."""

    def __init__(self, engine: QueryEngine) -> None:
        self._engine = engine

    def rows(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._engine.select(query, dict(params or {}))]

    def command(self, statement: str, params: Any = None) -> None:
        raise NotImplementedError("the conversions API only reads")


def conversions_report(
    engine: QueryEngine,
    site: SiteContext,
    settings: AttributionSettings,
    *,
    date_range: Any = "30d",
    goals: list[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """QueryError (a 400) for a date range the query API would refuse, an unknown goal or a
    limit outside 1..MAX_LIMIT."""
    if not 1 <= limit <= MAX_LIMIT:
        raise QueryError(f"limit is 1 to {MAX_LIMIT}.")
    query = engine.parse({"site_id": site.domain, "metrics": ["visitors"], "date_range": date_range}, site)
    wanted = None
    if goals:
        known = {key: g for g in settings.goals for key in (g.name, g.id)}
        missing = [name for name in goals if name not in known]
        if missing:
            raise QueryError(f"No goal {missing[0]!r} on this site (GET /api/v1/sites/{{id}}/goals).")
        wanted = sorted({known[name].id for name in goals})
    rows = goal_conversions(
        _EngineSql(engine),
        site.site_id,
        settings,
        query.date_range.start,
        query.date_range.end,
        goal_ids=wanted,
        limit=limit + 1,
    )
    return {
        "site_id": site.site_id,
        "date_range": query.date_range.as_plausible(),
        "goals": [
            {"id": g.id, "name": g.name}
            for g in settings.goals
            if g.active and (wanted is None or g.id in wanted)
        ],
        "lookback_days": settings.lookback_days,
        "results": [conversion_out(r) for r in rows[:limit]],
        "truncated": len(rows) > limit,
    }
