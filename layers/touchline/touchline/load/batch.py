"""One SQS batch of envelopes becomes one ClickHouse insert, exactly once in effect.

Each record is validated on its own (a bad record is reported back as a batch item failure and
ends in the DLQ; the rest still load). Valid rows are written with one `JSONEachRow` insert, so
ClickHouse's C++ parser does the per-row work instead of Python. Two mechanisms stop
at-least-once delivery from double counting:

* the insert carries `insert_deduplication_token` = hash of its sorted event ids, so a retried
  identical insert (timeout after success, whole-batch retry) is dropped by ClickHouse;
* `events` is a ReplacingMergeTree whose sorting key ends in `event_id`, so a redelivered message
  that lands in a *different* batch collapses on merge and never counts under `FINAL`.

If ClickHouse rejects the rows themselves (a value pydantic let through but ClickHouse cannot
parse), the batch is split in halves until the offending rows are isolated, so one poisoned
message cannot drag a whole batch to the DLQ. Any other error (ClickHouse unreachable) is raised
and the whole batch is retried.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from touchline.ingest.envelope import EventEnvelope, row_json


class InvalidRecord(ValueError):
    """A message that can never load (bad JSON, unknown version, bad field): send it to the DLQ."""


class RowsRejected(Exception):
    """ClickHouse refused the data itself (parse/range error), not the connection."""


class EventSink(Protocol):
    def insert_events(self, json_rows: list[str], dedup_token: str) -> None:
        """Insert rows (one JSON object each) atomically; `RowsRejected` for bad data, else raise."""
        ...


@dataclass
class EventBatch:
    """Collects the rows of one SQS batch, then flushes them in one insert."""

    sink: EventSink
    rows: list[str] = field(default_factory=list)
    event_ids: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def add(self, body: str, key: str = "") -> None:
        """Validate one message body; `key` (the SQS message id) names it if ClickHouse rejects it."""
        try:
            envelope = EventEnvelope.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidRecord(
                f"invalid envelope: {exc.error_count()} error(s): {_first_error(exc)}"
            ) from None
        self.rows.append(row_json(body, envelope))
        self.event_ids.append(envelope.event.event_id.int)
        self.keys.append(key)

    def flush(self) -> tuple[int, list[str]]:
        """Insert everything; return (rows inserted, keys of rows ClickHouse rejected)."""
        rejected: list[str] = []
        inserted = self._insert(0, len(self.rows), rejected)
        return inserted, rejected

    def _insert(self, start: int, stop: int, rejected: list[str]) -> int:
        if start >= stop:
            return 0
        try:
            self.sink.insert_events(self.rows[start:stop], dedup_token(self.event_ids[start:stop]))
            return stop - start
        except RowsRejected:
            if stop - start == 1:
                rejected.append(self.keys[start])
                return 0
        middle = (start + stop) // 2
        return self._insert(start, middle, rejected) + self._insert(middle, stop, rejected)


def dedup_token(event_ids: list[int]) -> str:
    """Same rows, same token, whatever order SQS delivered them in."""
    return hashlib.sha256(b"".join(i.to_bytes(16, "big") for i in sorted(event_ids))).hexdigest()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
