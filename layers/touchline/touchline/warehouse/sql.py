"""Plain SQL against the warehouse, for jobs that must also run through the local stack's `/_dev/sql`.

Identity resolution and GDPR requests are sequences of statements; the CLI runs them through
the running `touchline dev` (which holds the embedded engine) or a direct client, the scheduled
job through its own client. Values are inlined as literals (`literal`), never formatted raw.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client


class Sql(Protocol):
    def rows(self, query: str) -> list[tuple[Any, ...]]:
        """The result rows of a SELECT."""
        ...

    def command(self, statement: str) -> None:
        """Run a statement that returns nothing (DDL, INSERT … SELECT, mutations)."""
        ...


class ClientSql:
    """`Sql` over a clickhouse-connect client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._client.query(query).result_rows]

    def command(self, statement: str) -> None:
        self._client.command(statement)


def literal(value: str | int) -> str:
    """A ClickHouse literal: integers as is, strings quoted with `\\` and `'` escaped."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def literal_list(values: Iterable[str]) -> str:
    """`('a', 'b')` for `IN`. Refuses an empty set: a caller must leave such a condition out
    rather than risk `IN ('')` matching every row whose column is empty."""
    items = sorted(set(values))
    if not items:
        raise ValueError("literal_list needs at least one value")
    return "(" + ", ".join(literal(v) for v in items) + ")"
