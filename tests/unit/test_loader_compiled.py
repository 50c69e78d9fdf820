"""The loader's compiled schema (msgspec) is only ever a fast "yes": whatever it accepts, pydantic
accepts too, and it accepts the envelopes producers write. Generated mutations of real rows."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from factories import envelope_bodies
from touchline.ingest.rows import EventRow
from touchline.load.compiled import compiled
from touchline.load.kinds import envelope_adapter

FAST = compiled("events", EventRow)
BODIES = envelope_bodies(20)
FIELDS = sorted(EventRow.model_fields)

values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 255, 256, 65535, 65536, 4_294_967_295, 4_294_967_296, -1]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=80),
    st.sampled_from(["", "x" * 64, "x" * 65, "x" * 256, "x" * 257, "1", "1.5", "true"]),
    st.sampled_from(
        [
            "2026-11-01T00:00:00Z",
            "2026-11-01T00:00:00",
            "2026-11-01 00:00:00+00:00",
            "1999-12-31T23:59:59.999Z",
            "2100-01-01T00:00:00Z",
            "2099-12-31T23:59:59+01:00",
            "2026-11-01",
            "1795305600",
            "00000000-0000-0000-0000-000000000001",
            "0000000000000000000000000000000g",
            "19.99",
            "1e30",
            "0.00001",
            "0.0001",
            "-0",
            "1E+2",
            "123456789012345.6789",
            "1234567890123456.789",
            "12345678901234567890",
            "1.23450",
            "NaN",
            "Infinity",
        ]
    ),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.one_of(st.text(max_size=5), st.integers()), max_size=3),
)


def pydantic_accepts(body: str) -> bool:
    try:
        envelope_adapter().validate_json(body)
    except ValidationError:
        return False
    return True


def test_what_producers_write_takes_the_fast_path() -> None:
    assert FAST is not None
    assert any('"revenue"' in b for b in BODIES) and all(FAST(b) is not None for b in BODIES)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    base=st.sampled_from(BODIES),
    changes=st.lists(
        st.tuples(st.sampled_from([*FIELDS, "unknown_column"]), st.one_of(st.just(...), values)),
        min_size=1,
        max_size=3,
    ),
    envelope_v=st.sampled_from([1, 1, 1, 2, "1"]),
)
def test_the_compiled_schema_never_accepts_what_pydantic_refuses(
    base: str, changes: list[tuple[str, Any]], envelope_v: Any
) -> None:
    assert FAST is not None
    envelope = json.loads(base)
    envelope["v"] = envelope_v
    for name, value in changes:
        if value is ...:
            envelope["row"].pop(name, None)
        else:
            envelope["row"][name] = value
    body = json.dumps(envelope, separators=(",", ":"))
    if FAST(body) is not None:
        assert pydantic_accepts(body), body


@pytest.mark.parametrize("revenue", [1e14, "123456789012345.5", "-100000000000000", "99999999999999.9999"])
def test_whole_digits_are_capped_as_pydantic_caps_them(revenue: Any) -> None:
    """Decimal(18, 4) leaves 14 whole digits: hypothesis found 1e14 accepted by the fast path."""
    envelope = json.loads(BODIES[0])
    envelope["row"]["revenue"] = revenue
    body = json.dumps(envelope)
    assert (FAST(body) is not None) == pydantic_accepts(body) == (revenue == "99999999999999.9999")


def _per_line(lines: list[str]) -> list[int]:
    assert FAST is not None
    return [i for i, line in enumerate(lines) if FAST(line) is not None]


def test_a_batch_is_judged_line_by_line_even_when_lines_could_join_up() -> None:
    assert FAST is not None
    a, b, c = BODIES[:3]
    row_b = b[len('{"v":1,"kind":"events",') :]
    cases = [
        [a, b, c],
        # one line holding two envelopes (the second's key escaped), next to a good one
        [a + ',{"v":1,"kind":"events","\\u0072ow"' + row_b[len('"row"') :], c],
        # a line that opens a string the next line could close
        [a[:-2] + ',"page_title":"x}}', b, c],
        [a + "]", b],
        [a, "", c],
    ]
    for lines in cases:
        accepted, left, columns = FAST.load(lines)
        assert accepted == _per_line(lines), lines
        assert sorted(accepted + left) == list(range(len(lines)))
        assert not columns or len(columns[0]) == len(accepted)


def _envelopes(picks: list[tuple[str, str, Any]]) -> list[str]:
    """Each picked body with its one field set to the picked value (`...`: left as it is)."""
    lines = []
    for base, name, value in picks:
        envelope = json.loads(base)
        if value is not ...:
            envelope["row"][name] = value
        lines.append(json.dumps(envelope, separators=(",", ":")))
    return lines


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(BODIES), st.sampled_from(FIELDS), st.one_of(st.just(...), values)),
        min_size=1,
        max_size=8,
    )
)
def test_a_batch_accepts_exactly_the_lines_accepted_one_by_one(picks: list[tuple[str, str, Any]]) -> None:
    assert FAST is not None
    lines = _envelopes(picks)
    accepted, left, columns = FAST.load(lines)
    assert accepted == _per_line(lines) and sorted(accepted + left) == list(range(len(lines)))
    assert [columns[FAST.fields.index("event_id")][j] for j in range(len(accepted))] == [
        json.loads(lines[i])["row"]["event_id"] for i in accepted
    ]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(
        st.tuples(st.sampled_from(BODIES), st.sampled_from(FIELDS), st.one_of(st.just(...), values)),
        min_size=1,
        max_size=12,
    ),
    block=st.integers(min_value=1, max_value=5),
)
def test_decoding_in_blocks_gives_the_verdicts_and_columns_of_one_block(
    picks: list[tuple[str, str, Any]], block: int
) -> None:
    """A batch is decoded `_DECODE_ROWS` lines at a time: blocks with refused lines among good
    ones, in any position, change nothing."""
    assert FAST is not None
    from touchline.load import compiled as module

    lines = _envelopes(picks)
    whole = FAST.load(lines)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "_DECODE_ROWS", block)
        assert FAST.load(lines) == whole
    assert whole[0] == _per_line(lines)


@settings(max_examples=300, deadline=None)
@given(
    revenues=st.lists(
        st.none()
        | st.decimals(allow_nan=True, allow_infinity=True, places=None)
        | st.sampled_from(
            ["19.99", "19.9900", "0E-10", "1E+2", "99999999999999.9999", "1e14", "-0.00001"]
        ).map(Decimal),
        max_size=12,
    )
)
def test_the_revenue_column_check_is_the_check_of_each_value(revenues: list[Decimal | None]) -> None:
    """The digit limits are checked per column in C where the exponents allow (-4..0), else
    value by value: the same verdict either way (zeros fit whatever their exponent, as in pydantic)."""
    assert FAST is not None
    [check] = [check for _, name, check in FAST._checks if name == "revenue"]
    assert check.column(revenues) == all(map(check.one, filter(None, revenues)))
