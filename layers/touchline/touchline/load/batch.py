"""One SQS batch of messages becomes one ClickHouse insert per table, exactly once in effect.

A message holds one or more envelopes, one per line (`touchline.envelope.unpack`: a request's
rows travel together). Each envelope is validated on its own: a bad one never reaches its table
and never blocks the good ones of its message; it is kept, with its reason, in `rejected_rows`
(Snowplow's "bad rows"), and the message is done. Valid rows are written with one `JSONEachRow`
insert per table, so ClickHouse's C++ parser does the per-row work instead of Python. Two
mechanisms stop at-least-once delivery from double counting:

* each insert carries `insert_deduplication_token` = hash of its sorted rows, so a retried
  identical insert (timeout after success, whole-batch retry) is dropped by ClickHouse;
* every table is a ReplacingMergeTree keyed on the row's identity (`event_id` for events;
  `(message_id, position)` for rejected rows), so a redelivered message that lands in a
  *different* batch collapses on merge and under `FINAL`.

If ClickHouse rejects the rows themselves (a value pydantic let through but ClickHouse cannot
parse), the rows are split in halves until the offending ones are isolated and those join the
rejected rows. Any other error (ClickHouse unreachable) is raised and the whole batch is retried.
Only when the rejected rows cannot be kept either are their messages reported as failed: they
return to the queue and, after `maxReceiveCount` receives, to the dead-letter queue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

import orjson
from pydantic import ValidationError

from touchline.envelope import canonical_kind, canonical_row, row_json, unpack
from touchline.load.compiled import compiled
from touchline.load.kinds import ROW_MODELS, envelope_adapter

REJECTED_TABLE = "rejected_rows"
# The kinds validated by a compiled schema first: `events` is nearly all the volume.
COMPILED_KINDS = ("events",)
_FAST = {kind: check for kind in COMPILED_KINDS if (check := compiled(kind, ROW_MODELS[kind])) is not None}


class RowsRejected(Exception):
    """ClickHouse refused the data itself (parse/range error), not the connection."""


class RowSink(Protocol):
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        """Insert rows (one JSON object each) atomically; `RowsRejected` for bad data, else raise."""
        ...


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a row came from: its message, its line in it, and that line as received."""

    message_id: str
    position: int
    envelope: str


@dataclass(frozen=True, slots=True)
class RejectedRow:
    origin: Origin
    reason: str
    kind: str = ""

    def to_json(self) -> str:
        """The `rejected_rows` row; no timestamp, so a retried insert hashes to the same token."""
        envelope = self.origin.envelope
        columns: dict[str, Any] = {
            "message_id": self.origin.message_id,
            "position": self.origin.position,
            "reason": self.reason[:2000],
            "body": envelope.encode("utf-8", "replace").decode(),
        }
        kind, site_id = self.kind, ""
        try:
            data = orjson.loads(envelope)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            kind = kind or _text(data.get("kind"))
            row = data.get("row")
            site_id = _text(row.get("site_id")) if isinstance(row, dict) else ""
        if kind:
            columns["kind"] = kind
        if site_id:
            columns["site_id"] = site_id
        return orjson.dumps(columns).decode()


class Flushed(NamedTuple):
    inserted: dict[str, int]  # rows inserted per table
    rejected: list[RejectedRow]  # kept in rejected_rows (or not: see failed_messages)
    failed_messages: list[str]  # messages to report as batch item failures (bad rows not kept)


@dataclass
class TableRows:
    rows: list[str] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)


@dataclass
class LoadBatch:
    """Collects the rows of one SQS batch by table, then flushes one insert per table."""

    sink: RowSink
    tables: dict[str, TableRows] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)

    def add(self, body: str, key: str = "") -> None:
        """Take every envelope of one message body; `key` (the SQS message id) names its rows."""
        envelopes = unpack(body)
        tables = self.tables
        pending: list[tuple[int, str]] = []
        for position, envelope in enumerate(envelopes):
            # The fast path: a canonical envelope of a compiled kind that the compiled schema
            # accepts is valid (see `touchline.load.compiled`); its row text is passed through.
            kind = canonical_kind(envelope)
            fast = _FAST.get(kind) if kind is not None else None
            if fast is not None and (row := canonical_row(envelope, kind)) is not None and fast(envelope):  # type: ignore[arg-type]
                table = tables.get(kind)  # type: ignore[arg-type]
                if table is None:
                    table = tables[kind] = TableRows()  # type: ignore[index]
                table.rows.append(row)
                table.origins.append(Origin(key, position, envelope))
            else:
                pending.append((position, envelope))
        if not pending:
            return
        validated = [_validate(envelope) for _, envelope in pending]
        all_bad = len(pending) == len(envelopes) and all(isinstance(v, str) for v in validated)
        if len(envelopes) > 1 and all_bad:
            whole = _validate(body)  # one envelope written over several lines
            if not isinstance(whole, str):
                pending, validated = [(0, body)], [whole]
        for (position, envelope), outcome in zip(pending, validated, strict=True):
            origin = Origin(key, position, envelope)
            if isinstance(outcome, str):
                self.rejected.append(RejectedRow(origin, outcome))
                continue
            table = tables.get(outcome.kind)
            if table is None:
                table = tables[outcome.kind] = TableRows()
            table.rows.append(row_json(envelope, outcome.kind, outcome.row))
            table.origins.append(origin)

    def flush(self) -> Flushed:
        """Insert everything, then keep the rejected rows (those found invalid and those
        ClickHouse refused)."""
        rejected = list(self.rejected)
        inserted = {
            name: self._insert(name, table, 0, len(table.rows), rejected)
            for name, table in self.tables.items()
        }
        return Flushed(inserted, rejected, self._keep(rejected))

    def _insert(self, name: str, table: TableRows, start: int, stop: int, rejected: list[RejectedRow]) -> int:
        if start >= stop:
            return 0
        rows = table.rows[start:stop]
        try:
            self.sink.insert_rows(name, rows, dedup_token(rows))
            return stop - start
        except RowsRejected as exc:
            if stop - start == 1:
                rejected.append(RejectedRow(table.origins[start], f"refused by ClickHouse: {exc}", name))
                return 0
        middle = (start + stop) // 2
        return self._insert(name, table, start, middle, rejected) + self._insert(
            name, table, middle, stop, rejected
        )

    def _keep(self, rejected: list[RejectedRow]) -> list[str]:
        if not rejected:
            return []
        rows = [row.to_json() for row in rejected]
        try:
            self.sink.insert_rows(REJECTED_TABLE, rows, dedup_token(rows))
        except RowsRejected:
            # Not even keepable: their messages go back to the queue and on to the DLQ, whole
            # (the good rows they also hold deduplicate when a redrive loads them again).
            return sorted({row.origin.message_id for row in rejected})
        return []


def _validate(envelope: str) -> Any:
    """The validated envelope, or the reason it is not one."""
    try:
        return envelope_adapter().validate_json(envelope)
    except ValidationError as exc:
        return f"invalid envelope: {exc.error_count()} error(s): {_first_error(exc)}"


def dedup_token(json_rows: list[str]) -> str:
    """Same rows, same token, whatever order SQS delivered them in."""
    digest = hashlib.sha256()
    for row in sorted(json_rows):
        digest.update(row.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _text(value: object, limit: int = 64) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
