"""The SQS message format between every producer (collector, tracking API, webhooks, syncs) and
the loader, and the `Row` base class of every table's row model.

One envelope is one JSON object `{"v":1,"kind":"<table>","row":{...}}`: `kind` names the
ClickHouse table and `row` holds its columns, leaving out those equal to the column default
(ClickHouse fills them in), which halves the message and the loader's parsing work. A message
body holds one or more envelopes, one per line (JSON Lines: `pack`), so a request's rows travel
as one SQS message; a message of one envelope, as every producer wrote them before packing, is
the one-line case, which is why old messages still in a queue load unchanged. Producers
assign ids once (an event's `event_id` when the collector accepts the hit), so every
redelivery of a message carries the same row and deduplicates. Versioned so a loader can keep
reading messages an older producer left in the queue. The kinds the loader accepts are listed
in `touchline.load.kinds`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from itertools import compress
from types import UnionType
from typing import Literal, Union, get_origin

import orjson
from pydantic import BaseModel, ConfigDict

ENVELOPE_VERSION: Literal[1] = 1
# DateTime64(3) holds 1900-2299; anything outside our lifetime is a broken clock or a forgery.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


class Row(BaseModel):
    """A row of one ClickHouse table. Field names are column names; defaults mirror the table's."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> str:
        """The row as JSONEachRow wants it: columns at their default are left to ClickHouse.

        The same JSON object as `model_dump_json(exclude_defaults=True)`, key order aside (tests
        hold them equal, field by field, over every row model), written by orjson after a
        C-level filter: pydantic's serializer was the largest single cost of an accepted
        tracking-API event."""
        return columns_json(type(self), self.__dict__)


def columns_json(model: type[Row], values: Mapping[str, object]) -> str:
    """`model(**values).to_json()` for values the model would keep as they are: the row JSON
    without building the model. `values` may leave out columns at their default.

    For producers whose every value is already of its column's type and within its limits (the
    collector's, whose input model enforces them); tests hold the two equal on varied input."""
    layout = _layout(model)
    # Drops every falsy value: exactly the defaults, for fields whose default is falsy and
    # whose values are of the default's type; the others are settled one by one below.
    columns = dict(compress(values.items(), values.values()))
    for name in layout.always:
        columns[name] = values[name]
    for name, default in layout.checked:
        if name not in values:
            continue
        value = values[name]
        if value == default:
            columns.pop(name, None)
        else:
            columns[name] = value
    return orjson.dumps(columns, default=_decimal_text, option=orjson.OPT_UTC_Z).decode()


@dataclass(frozen=True)
class _Layout:
    always: tuple[str, ...]  # required columns: written whatever their value
    checked: tuple[tuple[str, object], ...]  # columns the falsy filter can't judge


@cache
def _layout(model: type[Row]) -> _Layout:
    always: list[str] = []
    checked: list[tuple[str, object]] = []
    for name, field in model.model_fields.items():
        if field.is_required():
            always.append(name)
            continue
        default = field.get_default(call_default_factory=True)
        if default or default is None or get_origin(field.annotation) in (Union, UnionType):
            checked.append((name, default))
    return _Layout(tuple(always), tuple(checked))


def _decimal_text(value: object) -> str:
    """Money as pydantic writes it: the decimal's own text, so no float ever rounds a cent."""
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not a column type")


@cache
def envelope_prefix(table: str) -> str:
    """Envelopes are always written with this exact prefix, so the loader can pass rows through.

    Cached: the loader asks once per record, for a handful of tables."""
    return f'{{"v":{ENVELOPE_VERSION},"kind":"{table}","row":'


def envelope_json(table: str, row: Row) -> str:
    return f"{envelope_prefix(table)}{row.to_json()}}}"


def columns_envelope_json(table: str, model: type[Row], values: Mapping[str, object]) -> str:
    """`envelope_json(table, model(**values))` without building the model (`columns_json`)."""
    return f"{envelope_prefix(table)}{columns_json(model, values)}}}"


def row_json(body: str, table: str, row: Row) -> str:
    """The row part of a validated body, sliced out when the body is in canonical form.

    Safe because the envelope was validated with extra="forbid": with the canonical prefix and
    a single `"row":` key (a quote inside a JSON string is always escaped), the rest of the
    body up to the closing brace is exactly the row object. Anything else is re-serialised.
    """
    sliced = canonical_row(body, table)
    return row.to_json() if sliced is None else sliced


def canonical_row(body: str, table: str) -> str | None:
    """The row text of an envelope of `table` in canonical form (see `row_json`), else None."""
    if not is_canonical(body, table):
        return None
    return body.rstrip()[len(envelope_prefix(table)) : -1]


def is_canonical(body: str, table: str) -> bool:
    """Whether `body` is an envelope of `table` in canonical form: the exact prefix, one `"row":`
    key and the closing brace last (see `row_json`)."""
    return (
        body.startswith(envelope_prefix(table)) and body.rstrip().endswith("}") and body.count('"row":') == 1
    )


_KIND_AT = len(envelope_prefix("")) - len('","row":')


def canonical_kind(body: str) -> str | None:
    """The `kind` of an envelope that starts with the canonical prefix, else None (cheap: the
    loader picks a compiled schema by it before parsing)."""
    if not body.startswith('{"v":1,"kind":"'):
        return None
    end = body.find('"', _KIND_AT)
    return body[_KIND_AT:end] if end > 0 else None


def pack(envelopes: list[str], max_bytes: int) -> list[str]:
    """Envelopes joined one per line into as few message bodies of at most `max_bytes` (UTF-8)
    as their order allows. An envelope longer than `max_bytes` travels alone (the queue refuses
    it and the producer answers 5xx, as before packing)."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    for envelope in envelopes:
        length = len(envelope) if envelope.isascii() else len(envelope.encode())
        if current and size + 1 + length > max_bytes:
            messages.append("\n".join(current))
            current, size = [], 0
        size += length + (1 if current else 0)
        current.append(envelope)
    if current:
        messages.append("\n".join(current))
    return messages


def unpack(body: str) -> list[str]:
    """The envelopes of one message body, in order (blank lines ignored). A body that is one
    envelope written over several lines (indented JSON) is the caller's fallback to try."""
    if "\n" not in body:
        return [body]
    return [line for line in body.split("\n") if line.strip()] or [body]
