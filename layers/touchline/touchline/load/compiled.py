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
import uuid
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import annotated_types
import msgspec

from touchline.envelope import ENVELOPE_VERSION, Row

Check = Callable[[Any], bool]


class NotCompilable(TypeError):
    """The model has a field msgspec cannot check exactly as pydantic does."""


_SIMPLE: dict[Any, Any] = {str: str, int: int, uuid.UUID: uuid.UUID}


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


def _field(name: str, annotation: Any, metadata: list[Any]) -> tuple[Any, Check | None]:
    """(msgspec type, an extra check of the decoded value or None)."""
    from pydantic import AwareDatetime

    if get_origin(annotation) in (Union, UnionType) and set(get_args(annotation)) == {Decimal, NoneType}:
        names = ("max_digits", "decimal_places")
        limits = {k: getattr(m, k) for m in metadata for k in names if hasattr(m, k)}
        if len(limits) != 2 or len(metadata) != 1:
            raise NotCompilable(name)
        return Decimal | None, _decimal_fits(limits["max_digits"], limits["decimal_places"])
    meta = _constraints(metadata)
    if annotation in _SIMPLE:
        if annotation is uuid.UUID and meta:
            raise NotCompilable(name)
        return (Annotated[_SIMPLE[annotation], msgspec.Meta(**meta)] if meta else _SIMPLE[annotation]), None
    if annotation is AwareDatetime:
        low, high = meta.pop("ge", None), meta.pop("lt", None)
        if meta:
            raise NotCompilable(name)

        def in_range(value: dt.datetime) -> bool:
            return (low is None or value >= low) and (high is None or value < high)

        return Annotated[dt.datetime, msgspec.Meta(tz=True)], in_range
    if get_origin(annotation) is dict and get_args(annotation) == (str, str) and not meta:
        return dict[str, str], None
    raise NotCompilable(f"{name}: {annotation!r}")


def _decimal_fits(max_digits: int, decimal_places: int) -> Check:
    """pydantic's digit limits, counted without normalising (stricter where they could differ:
    "1.50000" is left to pydantic)."""

    def fits(value: Decimal | None) -> bool:
        if value is None:
            return True
        if not value.is_finite():
            return False
        _, digits, exponent = value.as_tuple()
        assert isinstance(exponent, int)  # finite
        if exponent >= 0:
            return len(digits) + exponent <= max_digits
        return -exponent <= decimal_places and max(len(digits), -exponent) <= max_digits

    return fits


@cache
def compiled(table: str, model: type[Row]) -> Callable[[str], Any] | None:
    """A function `envelope text -> decoded envelope or None (ask pydantic)`, or None if the
    model cannot be compiled."""
    try:
        fields: list[tuple[str, Any, Any]] = []
        checks: list[tuple[str, Check]] = []
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
                checks.append((name, check))
    except NotCompilable:
        return None
    # Required fields first, as a Python signature needs; JSON key order is free anyway.
    fields.sort(key=lambda f: f[2] is not msgspec.NODEFAULT)
    row_type = msgspec.defstruct(f"{model.__name__}Struct", fields, forbid_unknown_fields=True)
    envelope_type = msgspec.defstruct(
        f"{model.__name__}Envelope",
        [("v", Literal[ENVELOPE_VERSION]), ("kind", Literal[table]), ("row", row_type)],
        forbid_unknown_fields=True,
    )
    decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(envelope_type)
    decode = decoder.decode
    error = msgspec.ValidationError
    decode_error = msgspec.DecodeError

    def validate(text: str) -> Any:
        try:
            envelope = decode(text)
        except (error, decode_error):
            return None
        row = envelope.row
        for name, check in checks:
            if not check(getattr(row, name)):
                return None
        return envelope

    return validate
