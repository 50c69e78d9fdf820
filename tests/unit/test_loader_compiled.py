"""The loader's compiled schema (msgspec) is only ever a fast "yes": whatever it accepts, pydantic
accepts too, and it accepts the envelopes producers write. Generated mutations of real rows."""

from __future__ import annotations

import json
from typing import Any

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
