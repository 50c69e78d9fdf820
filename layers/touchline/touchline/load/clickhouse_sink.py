"""The loader's sink: JSON rows into ClickHouse tables through clickhouse-connect."""

from __future__ import annotations

import re

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import DatabaseError

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
}

# ClickHouse error codes that mean "this data cannot be parsed/stored", as opposed to
# "the server is unavailable or unhappy": only these make the loader hunt for bad rows.
DATA_ERROR_CODES = frozenset({6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 321, 386, 441})
_CODE = re.compile(r"Code: (\d+)")


class ClickHouseRowSink:
    def __init__(self, client: Client) -> None:
        self._client = client

    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        try:
            self._client.raw_insert(
                table,
                insert_block="\n".join(json_rows).encode(),
                fmt="JSONEachRow",
                settings={**INSERT_SETTINGS, "insert_deduplication_token": dedup_token},
            )
        except DatabaseError as exc:
            match = _CODE.search(str(exc))
            if match and int(match[1]) in DATA_ERROR_CODES:
                raise RowsRejected(str(exc)[:500]) from exc
            raise
