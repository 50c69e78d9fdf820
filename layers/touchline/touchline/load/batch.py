"""One SQS batch of messages becomes one ClickHouse insert per table, exactly once in effect.

A message holds one or more envelopes, one per line (`touchline.envelope.unpack`: a request's
rows travel together). Each envelope is validated on its own: a bad one never reaches its table
and never blocks the good ones of its message; it is kept, with its reason, in `rejected_rows`
(Snowplow's "bad rows"), and the message is done.

Rows of a compiled kind (`events`: nearly all the volume) are judged at flush, the whole batch's
in one msgspec call (`touchline.load.compiled`), and written column by column (a Native insert:
`ColumnSink`), so neither Python nor ClickHouse parses 40-column JSON per row. Whatever the
compiled schema refuses goes to pydantic, which gives the verdict and the reason; rows pydantic
accepts are written as `JSONEachRow`, as are the other kinds. A sink that takes only JSON gets
every row as JSON. Two mechanisms stop at-least-once delivery from double counting:

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

import gc
import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, NamedTuple, Protocol, cast

import orjson
from pydantic import ValidationError

from touchline.envelope import canonical_row, envelope_prefix, row_json, unpack
from touchline.load import clock
from touchline.load.compiled import compiled
from touchline.load.kinds import ROW_MODELS, envelope_adapter

REJECTED_TABLE = "rejected_rows"
# The kinds validated by a compiled schema first: `events` is nearly all the volume.
COMPILED_KINDS = ("events",)
_FAST = {kind: schema for kind in COMPILED_KINDS if (schema := compiled(kind, ROW_MODELS[kind])) is not None}
_FAST_PREFIXES = [(kind, envelope_prefix(kind)) for kind in _FAST]


class RowsRejected(Exception):
    """ClickHouse refused the data itself (parse/range error), not the connection."""


class RowSink(Protocol):
    def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
        """Insert rows (one JSON object each) atomically; `RowsRejected` for bad data, else raise."""
        ...


class ColumnSink(RowSink, Protocol):
    """A sink that also takes rows column by column: what the loader uses when it can."""

    def insert_columns(
        self, table: str, names: Sequence[str], columns: Sequence[Sequence[Any]], dedup_token: str
    ) -> None:
        """Insert the rows `zip(*columns)` (Python values: str, int, datetime, Decimal, dict, None;
        columns not named take the table's defaults) atomically; `RowsRejected` for bad data."""
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
class Lines:
    """Canonical envelopes of one compiled kind, awaiting the compiled schema at flush (their
    origins are built only for the few that are rejected)."""

    lines: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)

    def origin(self, i: int) -> Origin:
        return Origin(self.keys[i], self.positions[i], self.lines[i])


@dataclass
class LoadBatch:
    """Collects the rows of one SQS batch by table, then flushes one insert per table (two for
    a compiled kind some of whose rows only pydantic accepts)."""

    sink: RowSink
    tables: dict[str, TableRows] = field(default_factory=dict)
    compiled: dict[str, Lines] = field(default_factory=lambda: defaultdict(Lines))
    rejected: list[RejectedRow] = field(default_factory=list)
    _order: dict[str, int] = field(default_factory=dict)  # message id -> arrival, for reports

    def add(self, body: str, key: str = "") -> None:
        """Take every envelope of one message body; `key` (the SQS message id) names its rows."""
        self._order.setdefault(key, len(self._order))
        if len(_FAST_PREFIXES) == 1:
            # The usual message: every line a canonical envelope of the compiled kind (so none
            # blank: `unpack` would return the same lines), taken whole without a loop per line.
            kind, prefix = _FAST_PREFIXES[0]
            parts = body.split("\n")
            if all(map(str.startswith, parts, repeat(prefix))):
                lines = self.compiled[kind]
                lines.lines += parts
                lines.keys += repeat(key, len(parts))
                lines.positions += range(len(parts))
                return
        envelopes = unpack(body)
        pending: list[tuple[int, str]] = []
        for position, envelope in enumerate(envelopes):
            # A compiled kind's envelope in canonical form waits for the schema (see `flush`).
            for kind, prefix in _FAST_PREFIXES:
                if envelope.startswith(prefix):
                    lines = self.compiled[kind]
                    lines.lines.append(envelope)
                    lines.keys.append(key)
                    lines.positions.append(position)
                    break
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
            self._take(Origin(key, position, envelope), outcome, self.rejected)

    def flush(self) -> Flushed:
        """Judge the compiled kinds' rows, insert everything, then keep the rejected rows (those
        found invalid and those ClickHouse refused)."""
        with _collector_paused():
            return self._flush()

    def _flush(self) -> Flushed:
        rejected = list(self.rejected)
        inserted: dict[str, int] = {}
        insert_columns = getattr(self.sink, "insert_columns", None)
        loaded: list[tuple[str, Lines, list[int], list[list[Any]]]] = []
        for kind, lines in self.compiled.items():
            schema = _FAST[kind]
            accepted, left, columns = schema.load(lines.lines, columns=insert_columns is not None)
            for i in left:
                self._take(lines.origin(i), _validate(lines.lines[i]), rejected)
            if left:  # in arrival order, as if judged in `add`
                rejected.sort(
                    key=lambda row: (self._order.get(row.origin.message_id, 0), row.origin.position)
                )
            if not accepted:
                continue
            if insert_columns is None:  # a sink that takes JSON only: the rows' own text
                for i in accepted:
                    self._take(lines.origin(i), _Accepted(kind, lines.lines[i]), rejected)
                continue
            loaded.append((kind, lines, accepted, columns))
        self._settle_clocks(loaded, inserted, rejected)
        for kind, lines, accepted, columns in loaded:
            names, sparse = _FAST[kind].sparse(columns)
            inserted[kind] = self._insert_columns(
                insert_columns, kind, names, lines, accepted, sparse, 0, len(accepted), rejected
            )
        for name, table in self.tables.items():
            inserted[name] = inserted.get(name, 0) + self._insert(name, table, 0, len(table.rows), rejected)
        return Flushed(inserted, rejected, self._keep(rejected))

    def _settle_clocks(
        self,
        loaded: list[tuple[str, Lines, list[int], list[list[Any]]]],
        inserted: dict[str, int],
        rejected: list[RejectedRow],
    ) -> None:
        """Every copy of a skew-corrected message gets its first stored time, and the messages
        not seen before are recorded BEFORE their events rows are inserted
        (`touchline.load.clock`). Nothing is read when no row of the batch was corrected."""
        fields = _FAST["events"].fields if "events" in _FAST else ()
        in_columns = [
            (columns, clock.corrected_in_columns(fields, columns))
            for kind, _, _, columns in loaded
            if kind == "events"
        ]
        events = self.tables.get("events")
        in_json = clock.corrected_in_json(events.rows) if events is not None else []
        every = [row for _, found in in_columns for _, row in found] + [row for _, row in in_json]
        if not every:
            return
        warehouse = cast("clock.Selecting", self.sink) if hasattr(self.sink, "select") else None
        times, records = clock.settle(every, warehouse)
        for columns, found in in_columns:
            clock.set_in_columns(fields, columns, found, times)
        if events is not None:
            clock.set_in_json(events.rows, in_json, times)
        for name in clock.DERIVED:
            if (derived := self.tables.get(name)) is not None:
                clock.set_in_derived(derived.rows, times)
        if records:
            table = TableRows(records, [Origin("", 0, record) for record in records])
            inserted[clock.TABLE] = self._insert(clock.TABLE, table, 0, len(records), rejected)

    def _take(self, origin: Origin, outcome: Any, rejected: list[RejectedRow]) -> None:
        """File one pydantic verdict: a row to insert as JSON, or a rejected row."""
        if isinstance(outcome, str):
            rejected.append(RejectedRow(origin, outcome))
            return
        table = self._table(outcome.kind)
        if isinstance(outcome, _Accepted):  # the compiled schema's yes: no model to re-serialise
            row = canonical_row(origin.envelope, outcome.kind)
            table.rows.append(row if row is not None else _model_row(origin.envelope, outcome.kind))
        else:
            table.rows.append(row_json(origin.envelope, outcome.kind, outcome.row))
        table.origins.append(origin)

    def _table(self, name: str) -> TableRows:
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = TableRows()
        return table

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

    def _insert_columns(
        self,
        insert: Any,
        name: str,
        names: Sequence[str],
        lines: Lines,
        accepted: list[int],
        columns: list[list[Any]],
        start: int,
        stop: int,
        rejected: list[RejectedRow],
    ) -> int:
        """`_insert` for rows given as columns: the token hashes their envelopes."""
        if start >= stop:
            return 0
        whole = start == 0 and stop == len(accepted)
        part = columns if whole else [column[start:stop] for column in columns]
        # Every line accepted (the usual batch): `accepted` is then range(len(lines.lines)).
        every = whole and len(accepted) == len(lines.lines)
        texts = lines.lines if every else [lines.lines[i] for i in accepted[start:stop]]
        try:
            insert(name, names, part, dedup_token(texts))
            return stop - start
        except RowsRejected as exc:
            if stop - start == 1:
                rejected.append(
                    RejectedRow(lines.origin(accepted[start]), f"refused by ClickHouse: {exc}", name)
                )
                return 0
        middle = (start + stop) // 2
        return sum(
            self._insert_columns(insert, name, names, lines, accepted, columns, a, b, rejected)
            for a, b in ((start, middle), (middle, stop))
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


@contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch is flushed: its columns are tens of thousands of
    fresh tuples and lists (a block's `zip`, clickhouse-connect's buffers), each 700 of which made
    the collector walk the young ones, none of them in a cycle. What is garbage is freed by
    reference counting as before; the collector runs again after the flush."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class _Accepted(NamedTuple):
    kind: str
    envelope: str


def _model_row(envelope: str, kind: str) -> str:
    """The row JSON of an envelope the compiled schema accepted but that is not sliceable."""
    validated = envelope_adapter().validate_json(envelope)
    return validated.row.to_json()  # type: ignore[no-any-return]


def _validate(envelope: str) -> Any:
    """The validated envelope, or the reason it is not one."""
    try:
        return envelope_adapter().validate_json(envelope)
    except ValidationError as exc:
        return f"invalid envelope: {exc.error_count()} error(s): {_first_error(exc)}"


def dedup_token(json_rows: list[str]) -> str:
    """Same rows, same token, whatever order SQS delivered them in: SHA-256 of the sorted rows,
    each followed by a newline."""
    ordered = sorted(json_rows)
    digest = hashlib.sha256()
    # Fed a few hundred rows at a time: the same bytes as the whole text at once, without
    # copying a batch's megabytes twice into fresh memory (0.49 against 1.09 µs/row for 10,000
    # envelopes in one process, most of it the page faults of those copies).
    for start in range(0, len(ordered), _TOKEN_ROWS):
        digest.update(("\n".join(ordered[start : start + _TOKEN_ROWS]) + "\n").encode())
    return digest.hexdigest()


_TOKEN_ROWS = 256


def _text(value: object, limit: int = 64) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False, include_input=False)[0]
    return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
