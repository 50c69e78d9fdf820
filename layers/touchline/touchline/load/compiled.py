"""A compiled schema for the envelopes the loader sees most: pydantic's verdict at a fraction of
its cost.

pydantic validating a 40-column `events` envelope was the loader's largest Python cost (7-14 µs
an event). msgspec decodes and checks the same JSON into a C struct in about a tenth of that. The
schema is generated from the pydantic `Row` model (types, defaults and `Field` constraints), so
there is one definition of a row, and it is only ever a fast "yes": msgspec is strict (no "5" for
5, no unknown keys, no naive datetimes), so whatever it accepts pydantic accepts too
(`tests/unit/test_loader_compiled.py` holds that over generated rows), and anything it refuses is
handed to pydantic, which gives the verdict and the reason. Fields it cannot express (datetime
bounds, decimal digits) are checked after decoding; a model with a type it does not know is not
compiled at all.
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec

from touchline.envelope import ENVELOPE_VERSION, Row

Check = Callable[[Any], bool]
# The envelope text of a compiled kind (stdlib `uuid` would cost a Python object per row and a
# Python loop to encode it; ClickHouse parses the canonical text itself). pydantic accepts it.
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_UUID = re.compile(UUID_PATTERN.rstrip("$"))
_HEX = "0123456789abcdefABCDEF"
_NOT_HEX = str.maketrans("", "", _HEX)
_ROW = operator.attrgetter("row")


@dataclass(frozen=True, slots=True)
class _Check:
    """A check of decoded values msgspec cannot express: of one value, and of a whole column at
    once (C-level `min`/`max`/`map` where it can: the loader checks a batch's column in one go)."""

    one: Check
    column: Callable[[Sequence[Any]], bool]


class NotCompilable(TypeError):
    """The model has a field msgspec cannot check exactly as pydantic does."""


_SIMPLE: dict[Any, Any] = {
    str: str,
    int: int,
}


def _constraints(metadata: list[Any]) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, annotated_types.MinLen):
            meta["min_length"] = item.min_length
        elif isinstance(item, annotated_types.MaxLen):
            meta["max_length"] = item.max_length
        elif isinstance(item, annotated_types.Ge):
            meta["ge"] = item.ge
        elif isinstance(item, annotated_types.Le):
            meta["le"] = item.le
        elif isinstance(item, annotated_types.Gt):
            meta["gt"] = item.gt
        elif isinstance(item, annotated_types.Lt):
            meta["lt"] = item.lt
        else:
            raise NotCompilable(f"constraint {item!r}")
    return meta


def _field(name: str, annotation: Any, metadata: list[Any]) -> tuple[Any, _Check | None]:
    """(msgspec type, an extra check of the decoded value or None)."""
    from pydantic import AwareDatetime

    if get_origin(annotation) in (Union, UnionType) and set(get_args(annotation)) == {Decimal, NoneType}:
        names = ("max_digits", "decimal_places")
        limits = {k: getattr(m, k) for m in metadata for k in names if hasattr(m, k)}
        if len(limits) != 2 or len(metadata) != 1:
            raise NotCompilable(name)
        return Decimal | None, _decimal_fits(limits["max_digits"], limits["decimal_places"])
    meta = _constraints(metadata)
    if annotation is uuid.UUID:
        if meta:
            raise NotCompilable(name)
        return str, _Check(_is_uuid, _are_uuids)
    if annotation in _SIMPLE:
        return (Annotated[_SIMPLE[annotation], msgspec.Meta(**meta)] if meta else _SIMPLE[annotation]), None
    if annotation is AwareDatetime:
        low, high = meta.pop("ge", None), meta.pop("lt", None)
        if meta:
            raise NotCompilable(name)

        def in_range(value: dt.datetime) -> bool:
            return (low is None or value >= low) and (high is None or value < high)

        def column_in_range(values: Sequence[dt.datetime]) -> bool:
            return not values or (
                (low is None or min(values) >= low) and (high is None or max(values) < high)
            )

        return Annotated[dt.datetime, msgspec.Meta(tz=True)], _Check(in_range, column_in_range)
    if get_origin(annotation) is dict and get_args(annotation) == (str, str) and not meta:
        return dict[str, str], None
    raise NotCompilable(f"{name}: {annotation!r}")


def _is_uuid(value: str) -> bool:
    return len(value) == 36 and _UUID.fullmatch(value) is not None


def _are_uuids(values: Sequence[str]) -> bool:
    """`_is_uuid` of every value in a few passes over the joined column, not a regex per value
    (msgspec's `pattern` calls Python's `re` once a value: a sixth of the decode): every value
    36 characters long, a dash at 8, 13, 18 and 23 in each, and nothing else but hex digits."""
    if not values or set(map(len, values)) != {36}:
        return not values
    joined = "".join(values)
    dashes = "-" * len(values)
    return all(joined[i::36] == dashes for i in (8, 13, 18, 23)) and joined.translate(_NOT_HEX) == (
        dashes * 4
    )


def _decimal_fits(max_digits: int, decimal_places: int) -> _Check:
    """pydantic's digit limits, counted without normalising (stricter where they could differ:
    "1.50000" is left to pydantic)."""

    def fits(value: Decimal | None) -> bool:
        if value is None:
            return True
        if not value.is_finite():
            return False
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        decimals = max(-exponent, 0)
        whole = len(digits) + exponent if exponent >= 0 else max(len(digits) - decimals, 0)
        # pydantic also caps the whole digits at max_digits - decimal_places (1e14 in (18, 4)).
        return (
            decimals <= decimal_places
            and max(len(digits), decimals) + max(exponent, 0) <= max_digits
            and whole <= max_digits - decimal_places
        )

    def column_fits(values: Sequence[Decimal | None]) -> bool:
        """`fits` of each distinct text, not of each value: `str` of a Decimal keeps its digits
        and exponent exactly (so "1.5" and "1.50", equal as numbers, stay apart) and costs a
        tenth of `as_tuple`, whose named tuple is 1.4 µs a value; prices repeat within a batch."""
        present = filter(None, values)  # None and zero always fit
        return all(map(fits, map(Decimal, set(map(str, present)))))

    return _Check(fits, column_fits)


class Compiled:
    """One kind's compiled schema: `self(text)` judges one envelope, `self.load(lines)` a batch's.

    Rows are msgspec structs without GC tracking (their fields are strings, numbers, datetimes,
    decimals and string maps: they cannot hold a reference cycle), so a batch of them does not
    make the collector walk every row."""

    def __init__(
        self,
        envelope_type: Any,
        fields: tuple[str, ...],
        defaults: tuple[Any, ...],
        checks: dict[str, _Check],
    ) -> None:
        self.fields = fields  # the row struct's fields, in struct (and column) order
        self._defaults = defaults  # each field's default (NODEFAULT for required ones)
        self._checks = [(fields.index(name), name, check) for name, check in checks.items()]
        self._decode = msgspec.json.Decoder(envelope_type).decode
        self._decode_all = msgspec.json.Decoder(list[envelope_type]).decode

    def __call__(self, text: str) -> Any:
        """The decoded envelope, or None (ask pydantic)."""
        try:
            envelope = self._decode(text)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        row = envelope.row
        for _, name, check in self._checks:
            if not check.one(getattr(row, name)):
                return None
        return envelope

    def load(self, lines: list[str], columns: bool = True) -> tuple[list[int], list[int], list[list[Any]]]:
        """(indices of the lines it accepts, of those left to pydantic, the accepted rows' columns
        in `fields` order, or [] unless `columns`). `lines` must each start with the kind's
        canonical envelope prefix (`touchline.envelope.envelope_prefix`).

        Decoded `_DECODE_ROWS` lines at a time, each block's structs turned into columns at once
        and dropped: a batch's working set stays a block of structs plus the columns, so a batch
        of 10,000 costs per event about what one of 2,000 does (the structs of 10,000 events are
        megabytes the CPU's cache no longer holds when they are read back)."""
        width = len(self.fields)
        table: list[list[Any]] = [[] for _ in range(width)]
        accepted: list[int] = []
        for start in range(0, len(lines), _DECODE_ROWS):
            rows = self._block(lines[start : start + _DECODE_ROWS])
            if None in rows:
                accepted += [start + i for i, row in enumerate(rows) if row is not None]
                rows = [row for row in rows if row is not None]
            else:
                accepted += range(start, start + len(rows))
            for column, values in zip(table, _columns(rows, width), strict=True):
                column += values
        # Each check is of one value at a time (`check.column` is true exactly when `check.one`
        # is of every value), so one pass finds every row a check refuses.
        bad = {
            j
            for index, _, check in self._checks
            if accepted and not check.column(table[index])
            for j, value in enumerate(table[index])
            if not check.one(value)
        }
        if bad:
            keep = [j for j in range(len(accepted)) if j not in bad]
            accepted = [accepted[j] for j in keep]
            table = [[column[j] for j in keep] for column in table]
        if len(accepted) < len(lines):
            taken = set(accepted)
            left = [i for i in range(len(lines)) if i not in taken]
        else:
            left = []
        return accepted, left, table if columns and accepted else []

    def sparse(self, columns: list[list[Any]]) -> tuple[list[str], list[list[Any]]]:
        """The fields and columns left once those holding only their default are dropped: the
        table fills them in, as it does for the keys a producer leaves out of a row's JSON (the
        model's defaults mirror the table's). Most of an events batch's 38 columns are empty."""
        names: list[str] = []
        kept: list[list[Any]] = []
        for name, default, column in zip(self.fields, self._defaults, columns, strict=True):
            if default is msgspec.NODEFAULT or not _all_default(column, default):
                names.append(name)
                kept.append(column)
        return names, kept

    def _block(self, lines: list[str]) -> list[Any]:
        """Decoded rows (None where msgspec refuses), all lines in one decoder call when it can
        (a block of `_DECODE_ROWS`: one JSON array of a few hundred KB stays in the CPU's cache
        while it is parsed, where a 10,000-event batch's array is megabytes of fresh memory).

        Joining lines into one JSON array is exact here: every line starts with `{"v":1,"kind":`,
        so a line cannot end inside a string or a value and go on in the next (the next line's
        `{"v"` would close the string into a syntax error), each line is at least one element,
        and with as many elements as lines each element is exactly its line."""
        try:
            envelopes = self._decode_all(f"[{','.join(lines)}]")
        except (msgspec.ValidationError, msgspec.DecodeError):
            envelopes = None
        if envelopes is None or len(envelopes) != len(lines):
            return [None if (envelope := self(line)) is None else envelope.row for line in lines]
        return list(map(_ROW, envelopes))


# Lines per decoder call (see `Compiled.load`).
_DECODE_ROWS = 1000
# Rows per transposed block: the block's structs stay in the CPU's cache while it is read.
_BLOCK = 256


def _columns(rows: list[Any], width: int) -> list[list[Any]]:
    """The rows' fields as columns, a block of rows at a time: each struct becomes a tuple in C
    (`msgspec.structs.astuple`) and `zip(*block)` transposes the block. Half the CPU of one
    `map(attrgetter(field))` per field over the whole batch (38 passes over every struct, each
    one a cache miss by 10,000 rows), and `zip(*rows)` over the whole batch is worse still (its
    10,000 iterators); measured at 0.63 against 1.22 µs/event in one process (10,000 events)."""
    table: list[list[Any]] = [[] for _ in range(width)]
    astuple = msgspec.structs.astuple
    for start in range(0, len(rows), _BLOCK):
        block = map(astuple, rows[start : start + _BLOCK])
        for column, values in zip(table, zip(*block, strict=True), strict=True):
            column.extend(values)
    return table


def _all_default(column: list[Any], default: Any) -> bool:
    """`list.count` compares each item in C, identity first (a default msgspec filled in is the
    default object itself): a tenth of the time of `not any(column)`'s iterator and truth test per
    item. The first item settles most columns that are not all default."""
    return not column or (column[0] == default and column.count(default) == len(column))


@cache
def compiled(table: str, model: type[Row]) -> Compiled | None:
    """The compiled schema of `model` as the envelopes of `table`, or None if it cannot be
    compiled."""
    try:
        fields: list[tuple[str, Any, Any]] = []
        checks: dict[str, _Check] = {}
        for name, info in model.model_fields.items():
            kind, check = _field(name, info.annotation, list(info.metadata))
            if info.is_required():
                fields.append((name, kind, msgspec.NODEFAULT))
            else:
                default = info.get_default(call_default_factory=False)
                if info.default_factory is not None:
                    default = msgspec.field(default_factory=info.default_factory)  # type: ignore[arg-type]
                fields.append((name, kind, default))
            if check is not None:
                checks[name] = check
    except NotCompilable:
        return None
    # Required fields first, as a Python signature needs; JSON key order is free anyway.
    fields.sort(key=lambda f: f[2] is not msgspec.NODEFAULT)
    row_type = msgspec.defstruct(f"{model.__name__}Struct", fields, forbid_unknown_fields=True, gc=False)
    envelope_type = msgspec.defstruct(
        f"{model.__name__}Envelope",
        [("v", Literal[ENVELOPE_VERSION]), ("kind", Literal[table]), ("row", row_type)],
        forbid_unknown_fields=True,
        gc=False,
    )
    names = tuple(name for name, _, _ in fields)
    defaults = tuple(
        msgspec.NODEFAULT if info.is_required() else info.get_default(call_default_factory=True)
        for info in (model.model_fields[name] for name in names)
    )
    return Compiled(envelope_type, names, defaults, checks)
