"""Reports, as the CLI prints them.

The overview and revenue reports are thin clients of the query engine (`touchline.query`): one
or a few Stats API v2 queries through an `EngineRunner` (a query body in, the engine's response
out; the CLI's runs the engine in-process as the operator, through the running local stack when
there is one; `engine_runner` runs it on a clickhouse-connect client), so they show the numbers
`POST /api/v2/query` gives. The attribution report (with the data-driven models' touches variants
and bases) is still SQL through a `QueryRunner` (`client_runner`), held equal to the engine's
`attributed_*` metrics by tests/integration/query/test_reports_on_engine.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

Rows = tuple[list[str], list[list[Any]]]
# run(sql, params): params fill the SQL's `{name:Type}` placeholders (server-side binding).
QueryRunner = Callable[..., Rows]
EngineRunner = Callable[[dict[str, Any]], dict[str, Any]]
START = "{start:DateTime64(3, 'UTC')}"
END = "{end:DateTime64(3, 'UTC')}"


def client_runner(client: Any) -> QueryRunner:
    """A clickhouse-connect client as a `QueryRunner` (SQL in, columns and rows out)."""

    def run(sql: str, params: Mapping[str, Any] | None = None) -> Rows:
        result = client.query(sql, parameters=dict(params or {}))
        return list(result.column_names), [list(row) for row in result.result_rows]

    return run


def period_params(site_id: str, start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """`site`, and `start`/`end` (UTC) when given: the parameters every report binds."""
    params: dict[str, Any] = {"site": site_id}
    if start is not None:
        params["start"] = _utc(start)
    if end is not None:
        params["end"] = _utc(end)
    return params


def period(column: str, start: datetime | None, end: datetime | None) -> str:
    """` AND column >= {start} AND column < {end}` for the bounds that are set."""
    return (f" AND {column} >= {START}" if start else "") + (f" AND {column} < {END}" if end else "")


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


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
