"""One SQS batch of envelopes becomes one ClickHouse insert per table, exactly once in effect.

Each record is validated on its own (a bad record is reported back as a batch item failure and
ends in the DLQ; the rest still load). Valid rows are written with one `JSONEachRow` insert per
table, so ClickHouse's C++ parser does the per-row work instead of Python. Two mechanisms stop
at-least-once delivery from double counting:

* each insert carries `insert_deduplication_token` = hash of its sorted rows, so a retried
  identical insert (timeout after success, whole-batch retry) is dropped by ClickHouse;
* every table is a ReplacingMergeTree keyed on the row's identity (`event_id` for events), so a
  redelivered message that lands in a *different* batch collapses on merge and under `FINAL`.

If ClickHouse rejects the rows themselves (a value pydantic let through but ClickHouse cannot
parse), the rows are split in halves until the offending ones are isolated, so one poisoned
message cannot drag a whole batch to the DLQ. Any other error (ClickHouse unreachable) is raised
and the whole batch is retried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from touchline.envelope import row_json
from touchline.load.kinds import envelope_adapter


class InvalidRecord(ValueError):
    """A message that can never load (bad JSON, unknown kind, bad field): send it to the DLQ."""


class RowsRejected(Exception):
    """ClickHouse refused the data itself (parse/range error), not the connection."""


class RowSink(Protocol):
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        """Insert rows (one JSON object each) atomically; `RowsRejected` for bad data, else raise."""
        ...


@dataclass
class TableRows:
    rows: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)


@dataclass
class LoadBatch:
    """Collects the rows of one SQS batch by table, then flushes one insert per table."""

    sink: RowSink
    tables: dict[str, TableRows] = field(default_factory=dict)

    def add(self, body: str, key: str = "") -> None:
        """Validate one message body; `key` (the SQS message id) names it if ClickHouse rejects it."""
        try:
            envelope = envelope_adapter().validate_json(body)
        except ValidationError as exc:
            raise InvalidRecord(
                f"invalid envelope: {exc.error_count()} error(s): {_first_error(exc)}"
            ) from None
        table = self.tables.setdefault(envelope.kind, TableRows())
        table.rows.append(row_json(body, envelope.kind, envelope.row))
        table.keys.append(key)

    def flush(self) -> tuple[dict[str, int], list[str]]:
        """Insert everything; return (rows inserted per table, keys of rows ClickHouse rejected)."""
        rejected: list[str] = []
        inserted = {
            name: self._insert(name, table, 0, len(table.rows), rejected)
            for name, table in self.tables.items()
        }
        return inserted, rejected

    def _insert(self, name: str, table: TableRows, start: int, stop: int, rejected: list[str]) -> int:
        if start >= stop:
            return 0
        rows = table.rows[start:stop]
        try:
            self.sink.insert_rows(name, rows, dedup_token(rows))
            return stop - start
        except RowsRejected:
            if stop - start == 1:
                rejected.append(table.keys[start])
                return 0
        middle = (start + stop) // 2
        return self._insert(name, table, start, middle, rejected) + self._insert(
            name, table, middle, stop, rejected
        )


def dedup_token(json_rows: list[str]) -> str:
    """Same rows, same token, whatever order SQS delivered them in."""
    digest = hashlib.sha256()
    for row in sorted(json_rows):
        digest.update(row.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
