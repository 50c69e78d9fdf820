"""A ClickHouse `Native` block from whole columns, for the loader's column inserts.

clickhouse-connect encodes a column insert value by value (a Cython or Python loop per string,
datetime, decimal and map entry): that was a third of the loader's Python per event. Here every
column is written with C-level `map`/`join`/`array` calls over the whole column, for the types
the `events` row has; a block with any other type is left to clickhouse-connect (`None`).

The format (ClickHouse's `Native` over HTTP, no block info): LEB128 column and row counts, then
per column its name, its type and its data. A `String` is LEB128 byte length + UTF-8 bytes per
value; integers and `DateTime64` ticks are little-endian; `Nullable(T)` is a byte per row (1 =
NULL) then T's data with a zero in the NULL rows; `Map(String, String)` is the rows' cumulative
entry counts (UInt64), then all keys, then all values. `LowCardinality(String)` and `UUID`
columns are sent as `String`: the server converts them (`input_format_native_allow_types_conversion`).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from array import array
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import accumulate, chain, repeat
from operator import floordiv, sub
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_DATETIME64 = re.compile(r"DateTime64\((\d)(?:\s*,\s*'[^']*')?\)$")
_DECIMAL = re.compile(r"Decimal\((\d+),\s*(\d+)\)$")
_INTEGERS = {"UInt8": "B", "UInt16": "H", "UInt32": "I", "UInt64": "Q", "Int8": "b", "Int16": "h"}
_INTEGERS |= {"Int32": "i", "Int64": "q"}
_WIDTH = {"B": 1, "b": 1, "H": 2, "h": 2, "I": 4, "i": 4, "Q": 8, "q": 8}


def _leb128(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# Length prefixes of strings up to 16 KiB, looked up rather than computed per value.
_PREFIX = tuple(_leb128(n) for n in range(1 << 14))
_prefix = _PREFIX.__getitem__
_PREFIX_TEXT = tuple(prefix.decode("latin-1") for prefix in _PREFIX)


def _text(value: str) -> bytes:
    return _leb128(len(data := value.encode())) + data


def _fixed(code: str, values: Sequence[int] | Any) -> bytes:
    """Integers as little-endian `code` values (`array` is native order: swap on big-endian)."""
    column = array(code, values)
    if column.itemsize != _WIDTH[code]:  # a platform where 'I' or 'Q' is not 4 or 8 bytes
        column = array("q" if _WIDTH[code] == 8 else "i", column)  # pragma: no cover
    if sys.byteorder == "big":  # pragma: no cover
        column.byteswap()
    return column.tobytes()


def strings(values: Sequence[str] | Any) -> bytes:
    """A `String` column's data: a length prefix and the UTF-8 bytes of each value.

    Most `events` columns hold a few distinct values (site, event type, host, UTM source...):
    those are encoded once each and joined by lookup. An ASCII column (ids, most URLs) is
    prefixed and joined as text and encoded in one call; only a column of many distinct values
    with non-ASCII text encodes value by value."""
    values = values if isinstance(values, list | tuple) else list(values)
    distinct = set(values)
    if len(distinct) * 4 <= len(values):
        encoded = {value: _text(value) for value in distinct}
        return b"".join(map(encoded.__getitem__, values))
    lengths = list(map(len, values))
    if lengths and max(lengths) < len(_PREFIX) and "".join(values).isascii():
        if min(lengths) == max(lengths):  # uuids: one prefix, one join
            prefix = _PREFIX_TEXT[lengths[0]]
            return (prefix + prefix.join(values)).encode("latin-1")
        # latin-1 is ASCII's bytes, and a prefix's bytes (0-255) as they are.
        return "".join(map(str.__add__, map(_PREFIX_TEXT.__getitem__, lengths), values)).encode("latin-1")
    data = list(map(str.encode, values))
    lengths = list(map(len, data))
    if lengths and max(lengths) >= len(_PREFIX):
        return b"".join(map(_text, values))
    return b"".join(chain.from_iterable(zip(map(_prefix, lengths), data, strict=True)))


def _ticks(precision: int) -> Callable[[Sequence[Any]], bytes] | None:
    if precision > 6:
        return None
    unit = dt.timedelta(microseconds=10 ** (6 - precision))

    def encode(values: Sequence[Any]) -> bytes:
        # Floor division of the offset from the epoch: exact, as ClickHouse truncates.
        return _fixed("q", map(floordiv, map(sub, values, repeat(_EPOCH)), repeat(unit)))

    return encode


def _decimal(precision: int, scale: int, nullable: bool) -> Callable[[Sequence[Any]], bytes] | None:
    if precision > 18:
        return None
    code = "i" if precision <= 9 else "q"

    def scaled(value: Decimal | None) -> int:
        if value is None:
            return 0
        units = value.scaleb(scale)
        if units != units.to_integral_value():
            raise ValueError(f"{value} has more than {scale} decimal places")
        return int(units)

    def encode(values: Sequence[Any]) -> bytes:
        nulls = bytes(value is None for value in values) if nullable else b""
        if not nullable and None in values:
            raise TypeError("NULL in a column that is not Nullable")
        return nulls + _fixed(code, map(scaled, values))

    return encode


def _string_map(values: Sequence[dict[str, str]]) -> bytes:
    offsets = _fixed("Q", accumulate(map(len, values)))
    keys = strings(list(chain.from_iterable(map(dict.keys, values))))
    return offsets + keys + strings(list(chain.from_iterable(map(dict.values, values))))


def _encoder(kind: str) -> tuple[str, Callable[[Sequence[Any]], bytes]] | None:
    """(the type a column is sent as, its encoder), or None for a type not handled here."""
    if kind in ("String", "LowCardinality(String)", "UUID"):
        return "String", strings
    if kind in _INTEGERS:
        code = _INTEGERS[kind]
        return kind, lambda values: _fixed(code, values)
    if match := _DATETIME64.match(kind):
        ticks = _ticks(int(match[1]))
        return (kind, ticks) if ticks else None
    nullable = kind.startswith("Nullable(") and kind.endswith(")")
    if match := _DECIMAL.match(kind[9:-1] if nullable else kind):
        decimal = _decimal(int(match[1]), int(match[2]), nullable)
        return (kind, decimal) if decimal else None
    if kind == "Map(String, String)":
        return kind, _string_map
    return None


def block(names: Sequence[str], types: dict[str, str], columns: Sequence[Sequence[Any]]) -> bytes | None:
    """The Native block of the named columns (`types` maps each name to its ClickHouse type), or
    None if one of them has a type this module does not encode. `TypeError`, `ValueError` or
    `OverflowError` for a value its column cannot hold (a `str.encode` of a `UUID` object, a
    naive datetime, an integer out of range...)."""
    encoders = [_encoder(types[name]) for name in names]
    if any(encoder is None for encoder in encoders) or not columns:
        return None
    rows = len(columns[0])
    parts = [_leb128(len(names)), _leb128(rows)]
    for name, encoder, values in zip(names, encoders, columns, strict=True):
        assert encoder is not None
        if len(values) != rows:
            raise ValueError("columns of different lengths")
        wire_type, encode = encoder
        parts += (_text(name), _text(wire_type), encode(values))
    return b"".join(parts)
