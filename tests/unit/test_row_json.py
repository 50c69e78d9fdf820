"""`Row.to_json` writes the JSON object pydantic's `model_dump_json(exclude_defaults=True)` writes
(the same columns with the same value texts; only their order may differ), for every row model
the loader accepts, field by field and in random combinations.

The loader passes a producer's row text straight to ClickHouse, so a difference here (a date
format, a decimal's text, a default written or left out) would change what is stored.
"""

from __future__ import annotations

import datetime as dt
import json
import types
import typing
import uuid
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from touchline.envelope import Row
from touchline.load.kinds import ROW_MODELS

UTC = dt.UTC
PLUS_TWO = dt.timezone(dt.timedelta(hours=2))
TEXTS = ["", "x", "USD", 'é "quoted" \\ back\nslash\t✓ 😀 \x01', "shop.example.com", "0"]
CANDIDATES: dict[Any, list[Any]] = {
    str: TEXTS,
    int: [0, 1, 2, 255, 65535, 2**40, -1],
    float: [0.0, 0.1, 1.5, 2.0, 1e16, 1e-7, 123456.789, -3.25],
    bool: [False, True],
    Decimal: [
        Decimal("0"),
        Decimal("0.00"),
        Decimal("19.99"),
        Decimal("-5.1234"),
        Decimal("1E+2"),
        Decimal("12345678901234.5678"),
    ],
    dt.datetime: [
        dt.datetime(2026, 11, 22, 9, 30, tzinfo=UTC),
        dt.datetime(2026, 11, 22, 9, 30, 1, 250000, tzinfo=UTC),
        dt.datetime(2026, 11, 22, 9, 30, 0, 1, tzinfo=PLUS_TWO),
        "2026-11-22T09:30:00.5+05:30",  # parsed by pydantic: its own tzinfo class
        "2026-11-22T09:30:00Z",
    ],
    dt.date: [dt.date(2026, 11, 22), dt.date(2000, 1, 1)],
    uuid.UUID: [
        uuid.UUID(int=0),
        uuid.uuid5(uuid.NAMESPACE_URL, "touchline"),
        "6BA7B810-9DAD-11D1-80B4-00C04FD430C8",
    ],
    type(None): [None],
}


def candidates(annotation: Any) -> list[Any]:
    """Values of every kind a field of this type can hold, some of them invalid for its constraints."""
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return list(typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return [value for arg in typing.get_args(annotation) for value in candidates(arg)]
    if origin is list:
        (item,) = typing.get_args(annotation)
        return [[], candidates(item)[1:3], candidates(item)[-2:]]
    if origin is dict:
        return [{}, {"k": "v"}, {"é": '"x"', "": "empty key", "n": "0"}]
    if annotation in (dt.datetime,) or getattr(annotation, "__name__", "") == "AwareDatetime":
        return CANDIDATES[dt.datetime]
    return CANDIDATES[annotation]


def base_row(model: type[Row]) -> dict[str, Any]:
    """Required fields filled with the first candidate that validates."""
    row: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if not field.is_required():
            continue
        for value in candidates(field.annotation):
            try:
                model.model_validate({**row, name: value})
            except ValidationError as exc:
                if any(err["loc"][:1] == (name,) for err in exc.errors()):
                    continue
            row[name] = value
            break
        else:  # pragma: no cover - a new column type: add candidates above
            raise AssertionError(f"no candidate validates {model.__name__}.{name}")
    model.model_validate(row)
    return row


def assert_same_text(model: type[Row], data: dict[str, Any]) -> bool:
    """False when the data is not a valid row; else asserts both writers agree."""
    try:
        row = model.model_validate(data)
    except ValidationError:
        return False
    ours, pydantics = row.to_json(), row.model_dump_json(exclude_defaults=True)
    # Compared as objects of exact texts: numbers stay the strings they were written as.
    assert json.loads(ours, parse_float=str, parse_int=str) == json.loads(
        pydantics, parse_float=str, parse_int=str
    ), data
    return True


@pytest.mark.parametrize("table", sorted(ROW_MODELS))
def test_every_field_is_written_as_pydantic_writes_it(table: str) -> None:
    model = ROW_MODELS[table]
    base = base_row(model)
    checked = 0
    for name, field in model.model_fields.items():
        values = candidates(field.annotation)
        if not field.is_required():
            values = [*values, field.get_default(call_default_factory=True)]
        checked += sum(assert_same_text(model, {**base, name: value}) for value in values)
    assert checked >= len(model.model_fields)


@st.composite
def rows(draw: st.DrawFn) -> tuple[type[Row], dict[str, Any]]:
    model = ROW_MODELS[draw(st.sampled_from(sorted(ROW_MODELS)))]
    data = base_row(model)
    for name, field in model.model_fields.items():
        if draw(st.booleans()):
            data[name] = draw(st.sampled_from(candidates(field.annotation)))
    return model, data


@settings(max_examples=300)
@given(rows())
def test_random_rows_are_written_as_pydantic_writes_them(case: tuple[type[Row], dict[str, Any]]) -> None:
    assert_same_text(*case)
