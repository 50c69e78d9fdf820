"""The loader's sink: rows into ClickHouse `events` through clickhouse-connect."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client

INSERT_SETTINGS = {
    # Event timestamps arrive as ISO 8601 with a zone ('2026-11-22T10:00:00.123Z').
    "date_time_input_format": "best_effort",
    # Wait for the insert to be durable before the batch is acknowledged.
    "async_insert": 0,
}


class ClickHouseEventSink:
    def __init__(self, client: Client, table: str = "events") -> None:
        self._client = client
        self._table = table

    def insert_events(self, json_rows: list[bytes], dedup_token: str) -> None:
        self._client.raw_insert(
            self._table,
            insert_block=b"\n".join(json_rows),
            fmt="JSONEachRow",
            settings={**INSERT_SETTINGS, "insert_deduplication_token": dedup_token},
        )
