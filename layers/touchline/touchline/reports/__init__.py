"""Reports: SQL over the warehouse, run through any `QueryRunner` (a clickhouse-connect client
directly, or the CLI's `context.query`, which goes through a running local stack).

Each report module's SQL takes its values as server-side parameters (`{site:String}`,
`{start:DateTime64(3, 'UTC')}`, see `period_params`) and returns a small dataclass with a
`to_json()` and a table rendering.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

Rows = tuple[list[str], list[list[Any]]]
# run(sql, params): params fill the SQL's `{name:Type}` placeholders (server-side binding).
QueryRunner = Callable[..., Rows]
START = "{start:DateTime64(3, 'UTC')}"
END = "{end:DateTime64(3, 'UTC')}"


def client_runner(client: Any) -> QueryRunner:
    """A clickhouse-connect client as a `QueryRunner`."""

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
