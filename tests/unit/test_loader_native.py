"""The loader's Native block encoder writes byte for byte what clickhouse-connect's own encoder
writes for the same columns, on edge values (the engine's round trip is in
tests/integration/test_loader.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.insert import InsertContext
from clickhouse_connect.driver.transform import NativeTransform

from touchline.load import native

UTC = dt.UTC
TYPES = {
    "id": "UUID",
    "site": "LowCardinality(String)",
    "text": "String",
    "at": "DateTime64(3, 'UTC')",
    "width": "UInt16",
    "flag": "UInt8",
    "ms": "UInt32",
    "revenue": "Nullable(Decimal(18, 4))",
    "props": "Map(String, String)",
}
COLUMNS: dict[str, list[Any]] = {
    "id": ["0b7e4c3a-59f1-4c8e-9a53-2b0f7c1d9e11", "0B7E4C3A-59F1-4C8E-9A53-2B0F7C1D9E12", "", "x"],
    "site": ["s", "", "é", "s" * 64],
    "text": ["", "Café ☕ 日本 \U0001f600", 'a\tb\nc\\d"e\x00', "u" * 20_000],
    "at": [
        dt.datetime(2000, 1, 1, tzinfo=UTC),
        dt.datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        dt.datetime(2026, 11, 1, 2, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2))),
        dt.datetime(1969, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
    ],
    "width": [0, 65535, 1, 300],
    "flag": [0, 1, 255, 1],
    "ms": [0, 4_294_967_295, 7, 128],
    "revenue": [None, Decimal("99999999999999.9999"), Decimal("-5.25"), Decimal("1E+2")],
    "props": [{}, {"ключ": "значение", "": ""}, {"k" * 200: "v" * 16_384}, {"a": "1", "b": "2"}],
}


def _theirs(names: list[str], columns: list[list[Any]]) -> bytes:
    """clickhouse-connect's block, with the wire types the sink has always sent."""
    wire = {"UUID": "String", "LowCardinality(String)": "String"}
    kinds = [wire.get(TYPES[n], TYPES[n]) for n in names]
    epoch = dt.datetime(1970, 1, 1, tzinfo=UTC)
    values = [
        [(v - epoch) // dt.timedelta(milliseconds=1) for v in c] if k.startswith("DateTime64") else c
        for k, c in zip(kinds, columns, strict=True)
    ]
    context = InsertContext("t", names, [get_from_name(k) for k in kinds], values, column_oriented=True)
    sent = b"".join(NativeTransform.build_insert(context))
    return sent.split(b" FORMAT Native\n", 1)[1]  # the block, after the INSERT query


@pytest.mark.parametrize("name", list(TYPES))
def test_each_column_type_is_encoded_as_clickhouse_connect_encodes_it(name: str) -> None:
    assert native.block([name], TYPES, [COLUMNS[name]]) == _theirs([name], [COLUMNS[name]])


@pytest.mark.parametrize("name", ["id", "site", "text", "props"])
def test_string_columns_of_few_distinct_values_and_of_one_length(name: str) -> None:
    repeated = COLUMNS[name] * 5  # few distinct values: each encoded once
    assert native.block([name], TYPES, [repeated]) == _theirs([name], [repeated])
    uuids = [f"{i:08x}-59f1-4c8e-9a53-2b0f7c1d9e11" for i in range(9)]  # one length, ASCII
    assert native.block(["id"], TYPES, [uuids]) == _theirs(["id"], [uuids])


def test_a_block_of_every_column_and_of_one_row() -> None:
    names = list(TYPES)
    assert native.block(names, TYPES, [COLUMNS[n] for n in names]) == _theirs(names, list(COLUMNS.values()))
    one = [COLUMNS[n][1:2] for n in names]
    assert native.block(names, TYPES, one) == _theirs(names, one)


def test_types_it_does_not_encode_are_left_to_clickhouse_connect() -> None:
    assert native.block(["x"], {"x": "Array(String)"}, [[["a"]]]) is None
    assert native.block(["x"], {"x": "Decimal(38, 4)"}, [[Decimal(1)]]) is None


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("UInt16", 65536, OverflowError),
        ("UInt8", -1, OverflowError),
        ("String", 5, TypeError),
        ("DateTime64(3, 'UTC')", dt.datetime(2026, 1, 1), TypeError),  # naive
        ("Nullable(Decimal(18, 4))", Decimal("0.00001"), ValueError),
        ("Decimal(18, 4)", None, TypeError),
    ],
)
def test_a_value_its_column_cannot_hold_raises(kind: str, value: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        native.block(["x"], {"x": kind}, [[value]])
