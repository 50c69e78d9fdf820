"""SQL against the warehouse with bound parameters, for jobs that also run through the local
stack's `/_dev/sql`.

Identity resolution, GDPR requests, aggregation and reports are sequences of statements; the
CLI runs them through the running `touchline dev` (which holds the embedded engine) or a direct
client, the scheduled jobs through their own client. Every value reaches ClickHouse as a
server-side parameter: the SQL names it `{name:Type}` and `params` carries it, so no value is
ever quoted by hand. `Binds` names generated parameters for SQL built from a variable number of
conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client

Params = Mapping[str, Any]


class Sql(Protocol):
    def rows(self, query: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        """The result rows of a SELECT."""
        ...

    def command(self, statement: str, params: Params | None = None) -> None:
        """Run a statement that returns nothing (DDL, INSERT … SELECT, mutations)."""
        ...


class ClientSql:
    """`Sql` over a clickhouse-connect client."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def rows(self, query: str, params: Params | None = None) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._client.query(query, parameters=dict(params or {})).result_rows]

    def command(self, statement: str, params: Params | None = None) -> None:
        self._client.command(statement, parameters=dict(params or {}))


class Binds:
    """Parameters for SQL assembled from parts: `binds.add("Array(String)", ids)` returns the
    placeholder `{p0:Array(String)}` and keeps the value under `p0` for `binds.params`."""

    def __init__(self, **initial: Any) -> None:
        self.params: dict[str, Any] = dict(initial)
        self._next = 0

    def add(self, type_name: str, value: Any) -> str:
        name = f"p{self._next}"
        self._next += 1
        self.params[name] = value
        return f"{{{name}:{type_name}}}"
