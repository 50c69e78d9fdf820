"""Shapley values: hand-computed games, the brute-force oracle, and the simplified method."""

from __future__ import annotations

import random
from typing import Any

import datadriven_oracle as oracle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchline.datadriven import shapley
from touchline.datadriven.fit import channel_sets
from touchline.datadriven.markov import PathCount
from touchline.datadriven.shapley import SetCount


def test_hand_computed_rate_game() -> None:
    # {A}: 2 of 10 journeys convert, {B}: 1 of 10, {A, B}: 2 of 5. v(A) = .2, v(B) = .1,
    # v(AB) = .2 + .1 + .4 = .7. φ(A) = ½·.2 + ½·(.7 - .1) = .4; φ(B) = ½·.1 + ½·(.7 - .2) = .3.
    sets = [
        SetCount(frozenset({"A"}), 2, 10),
        SetCount(frozenset({"B"}), 1, 10),
        SetCount(frozenset({"A", "B"}), 2, 5),
    ]
    values, method = shapley.shapley_values(sets)
    assert method == "exact"
    assert values == pytest.approx({"A": 0.4, "B": 0.3}, abs=1e-15)
    assert shapley.simplified(shapley.rates(sets)) == pytest.approx(values, abs=1e-15)


def test_glove_game() -> None:
    """The textbook game that is not additive: one left glove, two right ones; a pair is worth 1."""

    def worth(s: frozenset[str]) -> float:
        return float("L" in s and bool(s & {"R1", "R2"}))

    assert shapley.exact(["L", "R1", "R2"], worth) == pytest.approx(
        {"L": 2 / 3, "R1": 1 / 6, "R2": 1 / 6}, abs=1e-15
    )


@st.composite
def games(draw: Any) -> list[SetCount]:
    players = [f"c{i}" for i in range(draw(st.integers(1, 6)))]
    result = []
    for _ in range(draw(st.integers(1, 12))):
        members = frozenset(draw(st.lists(st.sampled_from(players), min_size=1, max_size=len(players))))
        journeys = draw(st.integers(1, 30))
        result.append(SetCount(members, draw(st.integers(0, journeys)), journeys))
    return result


@settings(max_examples=oracle.examples(40), deadline=None)
@given(sets=games())
def test_exact_and_simplified_equal_the_brute_force_oracle(sets: list[SetCount]) -> None:
    paths = [(tuple(sorted(s.channels)), s.conversions, s.journeys - s.conversions) for s in sets]
    players, worth = oracle.rate_game(paths)
    want = oracle.brute_force_shapley(players, worth)
    got, method = shapley.shapley_values(sets)
    assert method == "exact"
    assert got == pytest.approx(want, abs=1e-12)
    assert shapley.simplified(shapley.rates(sets)) == pytest.approx(want, abs=1e-12)
    # Efficiency: the values share out the grand coalition's worth.
    assert sum(got.values()) == pytest.approx(worth(frozenset(players)), abs=1e-12)


def test_many_channels_use_the_simplified_method() -> None:
    rng = random.Random(7)
    players = [f"channel {i}" for i in range(15)]
    sets = [
        SetCount(frozenset(rng.sample(players, rng.randint(1, 4))), rng.randint(0, 5), rng.randint(5, 40))
        for _ in range(200)
    ]
    got, method = shapley.shapley_values(sets)
    assert method == "simplified"
    # The coalition formula over all 2^15 coalitions, by a route independent of the dividends.
    r = shapley.rates(sets)
    worth = shapley.coalition_worth(r)
    index = {p: i for i, p in enumerate(players)}
    cache: dict[int, float] = {}

    def v(mask: int) -> float:
        if mask not in cache:
            cache[mask] = worth(frozenset(p for p in players if mask >> index[p] & 1))
        return cache[mask]

    from math import factorial

    n = len(players)
    for player in ("channel 0", "channel 7"):
        bit = 1 << index[player]
        value = sum(
            factorial(m.bit_count()) * factorial(n - m.bit_count() - 1) / factorial(n) * (v(m | bit) - v(m))
            for m in range(1 << n)
            if not m & bit
        )
        assert got[player] == pytest.approx(value, abs=1e-12)


def test_channel_sets_count_journeys_not_touches() -> None:
    paths = [PathCount(("A", "B", "A"), 1, 2), PathCount(("B", "A"), 0, 3), PathCount(("A",), 1, 0)]
    sets = {s.channels: (s.conversions, s.journeys) for s in channel_sets(paths)}
    assert sets == {frozenset({"A", "B"}): (1, 6), frozenset({"A"}): (1, 1)}
