"""Scratch tables for one aggregation run, and the replace-a-scope write every derived table uses.

A run never updates rows in place. For each derived table it inserts the new rows of a scope
(some visitors, conversions or days) with the run's version, then a tombstone (`is_deleted = 1`)
for every row of that scope the run did not rewrite. Under FINAL the table then shows exactly
the new rows, and running again changes nothing visible. Rows are written once, straight into
the table: on the embedded engine, writing wide rows costs as much as computing them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from touchline.warehouse.sql import Sql


class Stages:
    """Creates uniquely named MergeTree scratch tables (visible to every replica) and drops them."""

    def __init__(self, sql: Sql) -> None:
        self.sql = sql
        self.run_tag = uuid.uuid4().hex[:10]
        self._created: list[str] = []

    def name(self, purpose: str) -> str:
        return f"_tl_{purpose}_{self.run_tag}"

    def create(
        self, purpose: str, columns: str, select: str, parameters: dict[str, Any] | None = None
    ) -> str:
        table = self.name(purpose)
        self.sql.command(f"CREATE TABLE {table} ({columns}) ENGINE = MergeTree ORDER BY tuple()")
        self._created.append(table)
        self.sql.command(f"INSERT INTO {table} {select}", parameters)
        return table

    def drop_all(self) -> None:
        for table in reversed(self._created):
            self.sql.command(f"DROP TABLE IF EXISTS {table}")
        self._created.clear()


@contextmanager
def stages(sql: Sql) -> Iterator[Stages]:
    scratch = Stages(sql)
    try:
        yield scratch
    finally:
        scratch.drop_all()


def replace_scope(
    sql: Sql,
    table: str,
    select: str,
    scope: str,
    version: int,
    parameters: dict[str, Any] | None = None,
    *,
    tombstones: bool = True,
) -> None:
    """Make `table` FINAL, within `scope` (a WHERE clause over its columns), equal `select`.

    `tombstones=False` when the caller knows the scope held no rows before.

    `select` must name every column of `table` and produce rows with `version` = `version`.
    """
    columns = table_columns(sql, table)
    names = ", ".join(columns)
    sql.command(f"INSERT INTO {table} ({names}) SELECT {names} FROM ({select})", parameters)
    if tombstones:
        delete_stale(sql, table, scope, version, parameters, columns)


def delete_stale(
    sql: Sql,
    table: str,
    scope: str,
    version: int,
    parameters: dict[str, Any] | None = None,
    columns: list[str] | None = None,
) -> None:
    """Tombstone every row of `scope` not written at `version` (for rows inserted another way)."""
    columns = columns or table_columns(sql, table)
    names = ", ".join(columns)
    # Whatever in the scope was not just rewritten no longer exists. A tombstone copies the row
    # it deletes (so it lands in the same partition), with this version and is_deleted = 1.
    tombstone = ", ".join(
        "1" if c == "is_deleted" else str(int(version)) if c == "version" else c for c in columns
    )
    sql.command(
        f"INSERT INTO {table} ({names}) "
        f"SELECT {tombstone} FROM {table} FINAL WHERE ({scope}) AND version < {int(version)}",
        parameters,
    )


def insert_values(sql: Sql, table: str, columns: list[tuple[str, str]], rows: list[list[Any]]) -> None:
    """Insert `rows` (values in the order of `columns`: name and ClickHouse type), every value a
    bound parameter: one array per column, zipped back into rows by ARRAY JOIN."""
    if not rows:
        return
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"{{c{i}:Array({kind})}} AS {name}" for i, (name, kind) in enumerate(columns))
    sql.command(
        f"INSERT INTO {table} ({names}) SELECT {names} FROM system.one ARRAY JOIN {arrays}",
        {f"c{i}": [row[i] for row in rows] for i in range(len(columns))},
    )


def table_columns(sql: Sql, table: str) -> list[str]:
    """The columns a row is written with: not those the table computes itself (MATERIALIZED,
    ALIAS), which an INSERT may not name."""
    rows = sql.rows(
        "SELECT name FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
        "AND default_kind NOT IN ('MATERIALIZED', 'ALIAS', 'EPHEMERAL') ORDER BY position",
        {"t": table},
    )
    return [str(row[0]) for row in rows]
