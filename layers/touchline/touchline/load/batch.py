"""One SQS batch of envelopes becomes one ClickHouse insert, exactly once in effect.

Each record is validated on its own (a bad record is reported back as a batch item failure and
ends in the DLQ; the rest still load). Valid rows are written with one `JSONEachRow` insert, so
ClickHouse's C++ parser does the per-row work instead of Python. Two mechanisms stop
at-least-once delivery from double counting:

* the insert carries `insert_deduplication_token` = hash of the batch's sorted event ids, so a
  retried identical insert (timeout after success, whole-batch retry) is dropped by ClickHouse;
* `events` is a ReplacingMergeTree whose sorting key ends in `event_id`, so a redelivered message
  that lands in a *different* batch collapses on merge and never counts under `FINAL`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError

from touchline.ingest.envelope import EventEnvelope


class InvalidRecord(ValueError):
    """A message that can never load (bad JSON, unknown version, bad field): send it to the DLQ."""


class EventSink(Protocol):
    def insert_events(self, json_rows: list[bytes], dedup_token: str) -> None:
        """Insert rows (one JSON object each) atomically, or raise."""
        ...


@dataclass
class EventBatch:
    """Collects the rows of one SQS batch, then flushes them in one insert."""

    sink: EventSink
    rows: list[bytes] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def add(self, body: str) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidRecord(f"invalid envelope: {exc.error_count()} error(s): {_first_error(exc)}") from None
        event = envelope.event
        self.rows.append(event.model_dump_json().encode())
        self.event_ids.append(str(event.event_id))

    def flush(self) -> int:
        if not self.rows:
            return 0
        self.sink.insert_events(self.rows, dedup_token(self.event_ids))
        return len(self.rows)


def dedup_token(event_ids: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(event_ids)).encode()).hexdigest()


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
