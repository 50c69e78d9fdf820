"""Scratch tables for one aggregation run, and the replace-a-scope write every derived table uses.

A run never updates rows in place. For each derived table it computes the new rows of a scope
(some visitors, conversions or days) into a stage, then inserts them with the run's version plus
a tombstone (`is_deleted = 1`) for every row of that scope that no longer exists. Under FINAL
the table then shows exactly the new rows, and running again changes nothing visible.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from clickhouse_connect.driver.client import Client


class Stages:
    """Creates uniquely named MergeTree scratch tables (visible to every replica) and drops them."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.run_tag = uuid.uuid4().hex[:10]
        self._created: list[str] = []

    def name(self, purpose: str) -> str:
        return f"_tl_{purpose}_{self.run_tag}"

    def create(
        self, purpose: str, columns: str, select: str, parameters: dict[str, Any] | None = None
    ) -> str:
        table = self.name(purpose)
        self.client.command(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        self._created.append(table)
        self.client.command(f"INSERT INTO {table} {select}", parameters=parameters)
        return table

    def like(self, purpose: str, table: str, select: str, parameters: dict[str, Any] | None = None) -> str:
        """A stage with `table`'s columns, filled by `select` (which names every column)."""
        stage = self.name(purpose)
        self.client.command(f"CREATE TABLE {stage} AS {table} ENGINE = MergeTree ORDER BY tuple()")
        self._created.append(stage)
        names = ", ".join(table_columns(self.client, table))
        self.client.command(
            f"INSERT INTO {stage} ({names}) SELECT {names} FROM ({select})", parameters=parameters
        )
        return stage

    def drop_all(self) -> None:
        for table in reversed(self._created):
            self.client.command(f"DROP TABLE IF EXISTS {table}")
        self._created.clear()


@contextmanager
def stages(client: Client) -> Iterator[Stages]:
    scratch = Stages(client)
    try:
        yield scratch
    finally:
        scratch.drop_all()


def replace_scope(
    client: Client,
    table: str,
    stage: str,
    key: Sequence[str],
    scope: str,
    version: int,
    parameters: dict[str, Any] | None = None,
) -> None:
    """Make `table` FINAL equal `stage` within `scope` (a WHERE clause over `table`'s columns)."""
    columns = table_columns(client, table)
    keys = ", ".join(key)
    tombstone = ", ".join(
        "1" if c == "is_deleted" else str(version) if c == "version" else c for c in columns
    )
    # Tombstones first: rows of the scope that the stage no longer has.
    client.command(
        f"INSERT INTO {table} ({', '.join(columns)}) SELECT {tombstone} FROM {table} FINAL "
        f"WHERE ({scope}) AND ({keys}) NOT IN (SELECT {keys} FROM {stage})",
        parameters=parameters,
    )
    client.command(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(columns)} FROM {stage}")


def table_columns(client: Client, table: str) -> list[str]:
    result = client.query(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = %(t)s "
        "ORDER BY position",
        parameters={"t": table},
    )
    return [str(row[0]) for row in result.result_rows]
