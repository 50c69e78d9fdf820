"""The nesting limit every route's JSON parser shares (touchline.json_body)."""

from __future__ import annotations

import pytest

from touchline import json_body
from touchline.json_body import MAX_DEPTH, JsonBodyError


def nested(depth: int, kind: str) -> bytes:
    if kind == "list":
        return b"[" * depth + b"1" + b"]" * depth
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_the_limit_is_inclusive(kind: str) -> None:
    assert json_body.loads(nested(MAX_DEPTH, kind))
    with pytest.raises(JsonBodyError, match="nested deeper than 32"):
        json_body.loads(nested(MAX_DEPTH + 1, kind))


@pytest.mark.parametrize("depth", [255, 1024, 1025, 100_000])
def test_bodies_beyond_either_orjson_limit_are_refused_alike(depth: int) -> None:
    # 254 is orjson's serialisation limit, 1024 its parsing one: both used to escape as a 5xx.
    with pytest.raises(JsonBodyError):
        json_body.loads(nested(depth, "list"))


def test_a_deep_branch_beside_shallow_ones_is_found() -> None:
    body = b'{"a": [1, 2, {"b": 3}], "c": ' + nested(MAX_DEPTH, "dict") + b"}"
    with pytest.raises(JsonBodyError):
        json_body.loads(body)


def test_scalars_and_broken_json() -> None:
    assert json_body.loads(b"5") == 5
    assert json_body.loads('{"é": "x"}') == {"é": "x"}
    with pytest.raises(JsonBodyError, match="not valid JSON"):
        json_body.loads(b"{not json")
