"""Markov removal effects: a hand-computed chain, the exact rational oracle, and ChannelAttribution."""

from __future__ import annotations

import math
import random
from typing import Any

import datadriven_oracle as oracle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from touchline.datadriven import markov
from touchline.datadriven.markov import PathCount

CHANNELS = ["Direct", "Organic Search", "Paid Search", "Email", "Organic Social", "Referral"]


def test_hand_computed_chain() -> None:
    # start → A (2/3) or B (1/3); A → B or null (1/2 each); B always converts. P(conversion) = 2/3.
    # Without A: 1/3, so RE(A) = 1/2; without B nothing converts, RE(B) = 1.
    paths = [PathCount(("A", "B"), 1, 0), PathCount(("A",), 0, 1), PathCount(("B",), 1, 0)]
    chain = markov.fit(paths, 1)
    assert markov.conversion_probability(chain) == pytest.approx(2 / 3, abs=1e-15)
    effects = markov.removal_effects(chain)
    assert effects == pytest.approx({"A": 0.5, "B": 1.0}, abs=1e-15)
    assert markov.shares(effects) == pytest.approx({"A": 1 / 3, "B": 2 / 3}, abs=1e-15)


def test_states_follow_channelattribution() -> None:
    assert markov.states_of(("A", "A", "B"), 1) == [("A",), ("B",)]
    assert markov.states_of(("A", "A", "A", "B"), 2) == [("A", "A"), ("A", "B")]
    assert markov.states_of(("A", "B"), 3) == [("A", "B")]
    assert markov.states_of(("A", "B", "C", "D"), 3) == [("A", "B", "C"), ("B", "C", "D")]


def test_loops_are_solved_not_truncated() -> None:
    # A ⇄ B cycles: a simulation capped at the longest observed path would lose conversions.
    paths = [PathCount(("A", "B", "A", "B", "A"), 3, 1), PathCount(("B", "A"), 1, 4), PathCount(("A",), 0, 3)]
    for order in markov.ORDERS:
        assert markov.removal_effects(markov.fit(paths, order)) == pytest.approx(
            oracle.removal_effects([(p.channels, p.conversions, p.nulls) for p in paths], order), abs=1e-12
        )


def test_nothing_converted_means_no_effect() -> None:
    chain = markov.fit([PathCount(("A", "B"), 0, 5)], 1)
    assert markov.removal_effects(chain) == {"A": 0.0, "B": 0.0}


@st.composite
def path_sets(draw: Any) -> list[PathCount]:
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    for _ in range(draw(st.integers(1, 25))):
        path = tuple(draw(st.lists(st.sampled_from(CHANNELS[:4]), min_size=1, max_size=5)))
        c, n = found.get(path, (0, 0))
        found[path] = (c + draw(st.integers(0, 5)), n + draw(st.integers(0, 20)))
    paths = [PathCount(p, c, n) for p, (c, n) in found.items() if c + n > 0]
    if not any(p.conversions for p in paths):
        paths.append(PathCount(paths[0].channels if paths else ("Email",), 1, 0))
    return paths


@settings(max_examples=oracle.examples(30), deadline=None)
@given(paths=path_sets(), order=st.sampled_from(markov.ORDERS))
def test_equals_the_exact_oracle(paths: list[PathCount], order: int) -> None:
    want = oracle.removal_effects([(p.channels, p.conversions, p.nulls) for p in paths], order)
    chain = markov.fit(paths, order)
    got = markov.removal_effects(chain)
    assert got == pytest.approx(want, abs=1e-9)
    assert markov.shares(got) == pytest.approx(oracle.normalised(want), abs=1e-9)
    # Large chains are iterated instead of solved directly: the same effects.
    assert markov.removal_effects(chain, dense_max_states=0) == pytest.approx(want, abs=1e-9)


# ------------------------------------------------------------------ ChannelAttribution (GPL, tests only)


def synthetic_paths(count: int, seed: int) -> list[PathCount]:
    """Journeys whose conversion odds depend on their channels, so the effects differ."""
    rng = random.Random(seed)
    found: dict[tuple[str, ...], list[int]] = {}
    for _ in range(count):
        path = tuple(rng.choice(CHANNELS) for _ in range(rng.randint(1, 5)))
        converts = rng.random() < 0.04 + 0.12 * ("Email" in path) + 0.06 * ("Paid Search" in path)
        found.setdefault(path, [0, 0])[0 if converts else 1] += 1
    return [PathCount(p, c, n) for p, (c, n) in found.items()]


def channelattribution(paths: list[PathCount], order: int, nsim: int) -> dict[str, Any]:
    import pandas as pd
    from ChannelAttribution import markov_model, transition_matrix

    frame = pd.DataFrame(
        {
            "path": [" > ".join(p.channels) for p in paths],
            "conv": [p.conversions for p in paths],
            "null": [p.nulls for p in paths],
        }
    )
    model = markov_model(
        frame,
        "path",
        "conv",
        var_null="null",
        order=order,
        out_more=True,
        verbose=False,
        flg_pro=False,
        # Simulated journeys must not be cut at the longest observed one (its default), which would
        # count long loops as non-conversions; the definition has no such cap.
        nsim_start=nsim,
        max_step=10_000,
        seed=0,
    )
    matrix = transition_matrix(frame, "path", "conv", var_null="null", order=order, flg_equal=False)
    names = dict(
        zip(matrix["channels"]["id_channel"].astype(str), matrix["channels"]["channel_name"], strict=True)
    )

    def state(text: str) -> str:
        return text if text.startswith("(") else " > ".join(names[i] for i in text.split(" "))

    return {
        "transitions": {
            (state(str(a)), state(str(b))): float(p)
            for a, b, p in matrix["transition_matrix"].itertuples(index=False)
        },
        "removal_effects": dict(
            zip(
                model["removal_effects"]["channel_name"],
                model["removal_effects"]["removal_effect"],
                strict=True,
            )
        ),
        "total_conversions": dict(
            zip(model["result"]["channel_name"], model["result"]["total_conversions"], strict=True)
        ),
    }


@pytest.mark.parametrize("order", markov.ORDERS)
def test_transition_matrix_equals_channelattribution(order: int) -> None:
    paths = synthetic_paths(4000, seed=order)
    theirs = channelattribution(paths, order, nsim=10_000)["transitions"]
    ours = markov.fit(paths, order).transition_probabilities()
    assert ours.keys() == theirs.keys()
    for key, probability in ours.items():
        assert probability == pytest.approx(theirs[key], abs=1e-12), key


@pytest.mark.parametrize("order", markov.ORDERS)
def test_removal_effects_agree_with_channelattribution_simulation(order: int) -> None:
    """ChannelAttribution estimates the effects by simulating journeys (10 folds of nsim/10, the
    fold closest to the median kept); ours are exact. They agree within the simulation's error."""
    paths = synthetic_paths(4000, seed=10 + order)
    nsim = 2_000_000 if oracle.LONG_RUN else 400_000  # the tolerance follows the simulation's size
    chain = markov.fit(paths, order)
    ours = markov.removal_effects(chain)
    theirs = channelattribution(paths, order, nsim)
    simulated_conversions = nsim / 10 * markov.conversion_probability(chain)
    for channel, effect in ours.items():
        error = math.sqrt(effect * (1 - effect) / simulated_conversions)
        assert abs(theirs["removal_effects"][channel] - effect) < 5 * error + 1e-9, channel
    total = sum(p.conversions for p in paths)
    shares = markov.shares(ours)
    for channel, conversions in theirs["total_conversions"].items():
        assert conversions / total == pytest.approx(shares[channel], abs=0.01), channel
