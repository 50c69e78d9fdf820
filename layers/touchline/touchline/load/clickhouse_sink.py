"""The loader's sink: rows into ClickHouse tables through clickhouse-connect, as JSON or as
columns (a Native insert)."""

from __future__ import annotations

import datetime as dt
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError, DataError

from touchline.load.batch import RowsRejected

INSERT_SETTINGS = {
    # Event timestamps arrive as ISO 8601 with a zone ('2026-11-22T10:00:00.123Z').
    "date_time_input_format": "best_effort",
    # Columns left out of a row take the table's DEFAULT (the collector omits default values).
    "input_format_defaults_for_omitted_fields": 1,
    # Wait for the insert to be durable before the batch is acknowledged.
    "async_insert": 0,
    # On a self-managed cluster the loader inserts through the Distributed tables: send each
    # shard its rows before returning, not from a local spool later (docs/deploy.md). A query
    # setting, harmless on a single server and on ClickHouse Cloud; the pre-23.x name, kept as an
    # alias of `distributed_foreground_insert` by every later version.
    "insert_distributed_sync": 1,
    # Duplicates collapse at merge time and under FINAL; sorting them out per insert is wasted work.
    "optimize_on_insert": 0,
    # Let both parser threads work on a batch of a few MB, not only on 10 MB+ inputs.
    "min_chunk_bytes_for_parallel_parsing": 256 * 1024,
    "max_insert_threads": 2,
    # Column inserts send `LowCardinality(String)` and `UUID` columns as plain `String`: the
    # server builds the dictionaries and parses the ids in C++ (the default since 23.x).
    "input_format_native_allow_types_conversion": 1,
}

# ClickHouse error codes that mean "this data cannot be parsed/stored", as opposed to
# "the server is unavailable or unhappy": only these make the loader hunt for bad rows.
DATA_ERROR_CODES = frozenset({6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 321, 376, 386, 441})
_CODE = re.compile(r"Code: (\d+)")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DATETIME64 = re.compile(r"DateTime64\((\d)")

# Column types per client and table (one query per container and table; again if a column is
# missing, e.g. after a migration).
_types: weakref.WeakKeyDictionary[Client, dict[str, dict[str, str]]] = weakref.WeakKeyDictionary()
_types_lock = threading.Lock()


class ClickHouseRowSink:
    def __init__(self, client: Client) -> None:
        self._client = client

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        with _refusals():
            self._client.raw_insert(
                table,
                insert_block="\n".join(json_rows).encode(),
                fmt="JSONEachRow",
                settings={**INSERT_SETTINGS, "insert_deduplication_token": dedup_token},
            )

    def insert_columns(
        self, table: str, names: Sequence[str], columns: Sequence[Sequence[Any]], dedup_token: str
    ) -> None:
        """A Native insert of the named columns (the table's defaults fill the others)."""
        types = self._column_types(table, names)
        wire = [_wire(types[name], column) for name, column in zip(names, columns, strict=True)]
        data = [values for _, values in wire]
        try:
            with _refusals():
                self._client.insert(
                    table,
                    data,
                    column_names=list(names),
                    column_type_names=[name for name, _ in wire],
                    column_oriented=True,
                    settings={**INSERT_SETTINGS, "insert_deduplication_token": dedup_token},
                )
        finally:
            # clickhouse-connect's InsertContext keeps `data` after the insert, in a reference cycle
            # (it holds a bound method of itself), so the batch's columns outlived the flush until
            # the cyclic collector found them: ~95,000 list slots walked per 4,993-event batch.
            # Emptied, they are freed by reference counting when the batch lets go of them.
            data.clear()

    def select(self, query: str, parameters: dict[str, Any]) -> Sequence[Sequence[Any]]:
        """The rows of a read the loader needs before it inserts (`touchline.load.clock`)."""
        rows: Sequence[Sequence[Any]] = self._client.query(query, parameters=parameters).result_rows
        return rows

    def _column_types(self, table: str, names: Sequence[str]) -> dict[str, str]:
        with _types_lock:
            tables = _types.setdefault(self._client, {})
            known = tables.get(table)
        if known is None or any(name not in known for name in names):
            result = self._client.query(
                "SELECT name, type FROM system.columns"
                " WHERE database = currentDatabase() AND table = {table:String}",
                parameters={"table": table},
            )
            known = {str(name): str(kind) for name, kind in result.result_rows}
            with _types_lock:
                tables[table] = known
        return known


def _wire(kind: str, column: Sequence[Any]) -> tuple[str, Sequence[Any]]:
    """The type a column is sent as, and its values: what clickhouse-connect encodes without a
    Python loop per value where it can (strings), or with the cheapest one (datetimes as ticks)."""
    if kind == "LowCardinality(String)":
        return "String", column
    first = column[0] if column else None
    if kind == "UUID" and isinstance(first, str):
        return "String", column
    if isinstance(first, dt.datetime) and (match := _DATETIME64.match(kind)):
        unit = dt.timedelta(microseconds=10 ** (6 - int(match[1]))) if int(match[1]) <= 6 else None
        if unit is not None:
            epoch = _EPOCH
            return kind, [(value - epoch) // unit for value in column]
    return kind, column


@contextmanager
def _refusals() -> Iterator[None]:
    """Data errors (ClickHouse's, or clickhouse-connect's encoding of a value) → `RowsRejected`."""
    try:
        yield
    except DatabaseError as exc:
        match = _CODE.search(str(exc))
        client_side = isinstance(exc, DataError) and match is None
        if client_side or (match and int(match[1]) in DATA_ERROR_CODES):
            raise RowsRejected(str(exc)[:500]) from exc
        raise
