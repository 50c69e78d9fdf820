"""Reports, as the CLI prints them.

Every report (overview, revenue, attribution) is a thin client of the query engine
(`touchline.query`): one or a few Stats API v2 queries through an `EngineRunner` (a query body in,
the engine's response out; the CLI's runs the engine in-process as the operator, through the
running local stack when there is one; `engine_runner` runs it on a clickhouse-connect client), so
they show the numbers `POST /api/v2/query` gives, on the site's local days.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

EngineRunner = Callable[[dict[str, Any]], dict[str, Any]]


def engine_runner(client: Any, timezone: str = "UTC") -> EngineRunner:
    """The engine on a clickhouse-connect client; `site_id` in the body is the site's id."""
    from touchline.query.engine import QueryEngine
    from touchline.query.model import SiteContext
    from touchline.query.sql import ClientWarehouse

    engine = QueryEngine(ClientWarehouse(client))

    def run_query(body: dict[str, Any]) -> dict[str, Any]:
        site = SiteContext(body["site_id"], body["site_id"], timezone)
        return engine.run(body, site)

    return run_query


def date_range(start: date | None, end: date | None) -> Any:
    """A report's `--from`/`--to` (inclusive local days) as a query's `date_range`."""
    if start is None and end is None:
        return "all"
    first = start or date(2000, 1, 1)
    last = end or max(date.today(), first)
    return [first.isoformat(), last.isoformat()]


def render_table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell; text left-aligned, everything else right-aligned."""
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        cells = [
            cell.ljust(w) if i == 0 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
    return "\n".join(lines)
