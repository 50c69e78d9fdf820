"""Writing a recomputed table: only the rows that changed, and tombstones for rows that are gone.

Profiles, products and baskets are recomputed whole (quintiles, ranks and lifts depend on every
row), but most rows come out the same; writing only the differences keeps each hourly run's
insert, and the merges after it, proportional to what happened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchline.aggregate.staging import Stages

if TYPE_CHECKING:
    from clickhouse_connect.driver.client import Client


def column_types(client: Client, table: str) -> list[tuple[str, str]]:
    rows = client.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
        "ORDER BY position",
        parameters={"t": table},
    ).result_rows
    return [(str(name), str(kind)) for name, kind in rows]


def write_changed(
    client: Client,
    scratch: Stages,
    table: str,
    select: str,
    key: tuple[str, ...],
    version: int,
    params: dict[str, Any],
    scope: str | None = None,
    *,
    stage: bool = True,
) -> int:
    """Make `table` FINAL, for this site, equal `select` (all its columns, with version `version`).

    `scope` (a SELECT of keys): only those rows and the ones `select` yields are compared, so a
    run that recomputed a few customers leaves the others alone (and tombstones only in scope).
    `stage=False`: `select` is cheap to read twice (a few inline rows), so it is not copied into a
    scratch table first (a CREATE costs more than the rows on a loaded disk).
    Returns how many rows were written (changed or new, plus tombstones): `version` is the run's
    own, newer than every row already in `table`, so the rows at it after the inserts are those.
    """
    columns = column_types(client, table)
    names = [name for name, _ in columns]
    # cityHash64 of a NULL is NULL, and NULL NOT IN (…) is never true: hash NULLs as a marker.
    content = ", ".join(
        f"isNull({n}), ifNull({n}, {_zero(t)})" if t.startswith("Nullable(") else n
        for n, t in columns
        if n not in ("version", "is_deleted")
    )
    copied = f"SELECT {', '.join(names)} FROM ({select})"
    staged = (
        scratch.create(f"new_{table}", ", ".join(f"`{n}` {t}" for n, t in columns), copied, params)
        if stage
        else f"({copied})"
    )
    listed = ", ".join(names)
    keys = ", ".join(key)
    current = f"{table} FINAL WHERE site_id = {{site:String}}"
    if scope is not None:
        current += f" AND (({keys}) IN ({scope}) OR ({keys}) IN (SELECT {keys} FROM {staged}))"
    tombstone = ", ".join(
        "1" if n == "is_deleted" else str(int(version)) if n == "version" else n for n in names
    )
    client.command(
        f"INSERT INTO {table} ({listed}) SELECT {tombstone} FROM {current} "
        f"AND ({keys}) NOT IN (SELECT {keys} FROM {staged})",
        parameters=params,
    )
    client.command(
        f"INSERT INTO {table} ({listed}) SELECT {listed} FROM {staged} "
        f"WHERE cityHash64({content}) NOT IN (SELECT cityHash64({content}) FROM {current})",
        parameters=params,
    )
    return _count(client, table, version, params)


def rows_select(
    prefix: str, columns: list[tuple[str, str]], rows: list[list[Any]]
) -> tuple[str, dict[str, Any]]:
    """A subquery yielding `rows` (values in the order of `columns`: name, ClickHouse type), every
    value a bound parameter (one array per column, zipped by ARRAY JOIN), and its parameters.

    For the few rows a job computes in Python (fits, predictions per distinct (x, T)): a scratch
    table would cost a CREATE, which on a loaded disk (or a cluster's coordinator) takes seconds.
    """
    arrays = ", ".join(f"{{{prefix}{i}:Array({kind})}} AS {name}" for i, (name, kind) in enumerate(columns))
    names = ", ".join(name for name, _ in columns)
    params = {f"{prefix}{i}": [row[i] for row in rows] for i in range(len(columns))}
    return f"(SELECT {names} FROM system.one ARRAY JOIN {arrays})", params


def _zero(nullable_type: str) -> str:
    inner = nullable_type[len("Nullable(") : -1]
    return "''" if inner == "String" else f"CAST(0 AS {inner})"


def _count(client: Client, table: str, version: int, params: dict[str, Any]) -> int:
    return int(
        client.query(
            f"SELECT count() FROM {table} WHERE site_id = {{site:String}} AND version = {int(version)}",
            parameters=params,
        ).result_rows[0][0]
    )
