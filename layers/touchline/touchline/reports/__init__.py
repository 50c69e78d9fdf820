"""Reports: SQL over the warehouse, run through any `QueryRunner` (a clickhouse-connect client
directly, or the CLI's `context.query`, which goes through a running local stack).

Each report module builds its SQL with literals from `sql_string` / `sql_datetime` (values are
quoted here because the local stack's `/_dev/sql` takes a plain query) and returns a small
dataclass with a `to_json()` and a table rendering.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Rows = tuple[list[str], list[list[Any]]]
QueryRunner = Callable[[str], Rows]


def client_runner(client: Any) -> QueryRunner:
    """A clickhouse-connect client as a `QueryRunner`."""

    def run(sql: str) -> Rows:
        result = client.query(sql)
        return list(result.column_names), [list(row) for row in result.result_rows]

    return run


def sql_string(value: str) -> str:
    """A ClickHouse string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_datetime(value: datetime) -> str:
    """A DateTime64(3, 'UTC') literal."""
    utc = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return f"toDateTime64({sql_string(utc.strftime('%Y-%m-%d %H:%M:%S.%f')[:-3])}, 3, 'UTC')"


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
