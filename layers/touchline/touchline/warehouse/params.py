"""Queries with server-side bound parameters (`{name:Type}`), over a clickhouse-connect client:
every user value reaches ClickHouse as a parameter, never as SQL text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client


class ClientParameterisedSql:
    def __init__(self, client: Client) -> None:
        self._client = client

    def rows(self, query: str, parameters: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self._client.query(query, parameters=dict(parameters)).result_rows]
