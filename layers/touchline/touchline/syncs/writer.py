"""Rows from a sync into ClickHouse: buffered per table, inserted in batches, durable on return.

Syncs insert directly (through the loader's `ClickHouseRowSink`) rather than through the events
queue: when `flush` returns, every row added so far is in ClickHouse (`async_insert=0`), so the
caller may advance its watermark. Memory stays bounded by `batch_rows` however large a backfill.
Each insert carries the loader's deduplication token; a batch ClickHouse refuses as data is
bisected down to the offending rows, which are skipped and reported, so one bad record cannot
stall a stream forever.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from touchline.envelope import Row
from touchline.load.batch import RowSink, RowsRejected, dedup_token

log = logging.getLogger("touchline.syncs")

DEFAULT_BATCH_ROWS = 20_000


@dataclass
class RowWriter:
    sink: RowSink
    batch_rows: int = DEFAULT_BATCH_ROWS
    inserted: dict[str, int] = field(default_factory=dict)
    rejected: list[str] = field(default_factory=list)
    _tables: dict[str, list[str]] = field(default_factory=dict)
    _pending: int = 0

    def add(self, table: str, row: Row) -> None:
        self._tables.setdefault(table, []).append(row.to_json())
        self._pending += 1

    @property
    def pending(self) -> int:
        return self._pending

    @property
    def full(self) -> bool:
        return self._pending >= self.batch_rows

    def flush(self) -> int:
        """Insert everything buffered; raises (keeping nothing) if ClickHouse is unavailable."""
        written = 0
        for table, rows in self._tables.items():
            if rows:
                count = self._insert(table, rows)
                self.inserted[table] = self.inserted.get(table, 0) + count
                written += count
        self._tables = {}
        self._pending = 0
        return written

    def _insert(self, table: str, rows: list[str]) -> int:
        try:
            self.sink.insert_rows(table, rows, dedup_token(rows))
            return len(rows)
        except RowsRejected as exc:
            if len(rows) == 1:
                message = f"{table}: ClickHouse refused {rows[0][:200]}: {exc}"
                log.warning("row skipped: %s", message)
                self.rejected.append(message)
                return 0
        middle = len(rows) // 2
        return self._insert(table, rows[:middle]) + self._insert(table, rows[middle:])
