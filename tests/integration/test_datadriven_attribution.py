"""Data-driven models through the real aggregation on ClickHouse, held to the plain-Python oracle.

Random journeys (the rule-based oracle test's generator) are aggregated with the sample-size
minimum lowered to 1; the stored fits must equal the oracle's (exact Markov removal effects,
brute-force Shapley values) and every conversion's credits must split its revenue by them, to
the minor unit.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import datadriven_oracle as oracle
import pytest
from hypothesis import given, settings
from test_attribution_oracle import GOALS, SITE, hypothesis_settings, journeys, load, reset

from attribution_oracle import Conversion, attribute, conversions, largest_remainder, sessionize
from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.datadriven import MARKOV_ORDERS, MODELS
from touchline.warehouse.client import connect

LOW = AttributionSettings(goals=GOALS, min_journeys=1, min_conversions=1)


@pytest.fixture
def client(warehouse_url: str) -> Any:
    return connect(warehouse_url)


Effects = dict[tuple[str, str], dict[str, float]]


def oracle_fits(journey: dict[str, Any]) -> tuple[Effects, list[Conversion], dict[str, tuple[str, ...]]]:
    sessions = sessionize(journey["hits"])
    goals = {g.name: (g.value, g.currency) for g in GOALS}
    found = conversions(journey["hits"], journey["orders"], journey["refunds"], journey["identity"], goals)
    credits = attribute(sessions, found, journey["identity"])
    all_journeys = oracle.journeys(sessions, found, credits, journey["identity"])
    nulls = [(j.channels, 0, 1) for j in all_journeys if not j.converted and j.channels]
    fits = {}
    for kind in ("order", "goal"):
        paths = [(j.channels, 1, 0) for j in all_journeys if j.converted and j.kind == kind and j.channels]
        if not paths:
            continue
        paths += nulls
        for model, order in MARKOV_ORDERS.items():
            fits[(model, kind)] = oracle.removal_effects(paths, order)
        players, worth = oracle.rate_game(paths)
        fits[("shapley", kind)] = oracle.brute_force_shapley(players, worth)
    return fits, found, {j.journey_id: j.channels for j in all_journeys if j.converted}


def stored_effects(client: Any) -> dict[tuple[str, str], dict[str, float]]:
    found: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for model, kind, channel, effect in client.query(
        "SELECT model, conversion_kind, channel, effect FROM attribution_fits FINAL "
        "WHERE touches = 'all' AND status = 'ok' AND channel != ''"
    ).result_rows:
        found[(model, kind)][channel] = effect
    return dict(found)


def expected_credits(
    effects: Effects, found: list[Conversion], paths: dict[str, tuple[str, ...]]
) -> dict[tuple[str, str, int], tuple[float, Decimal]]:
    """The split rule of docs/attribution.md, with the same float operations as the SQL."""
    result = {}
    for conversion in found:
        channels = paths[conversion.conversion_id]
        for model in MODELS:
            weights = effects.get((model, conversion.kind))
            if weights is None:
                continue
            if not channels:
                result[(conversion.conversion_id, model, 0)] = (1.0, conversion.revenue)
                continue
            distinct = list(dict.fromkeys(channels))
            total = 0.0
            for c in distinct:
                total += weights.get(c, 0.0)
            shares = [
                (weights.get(c, 0.0) / total if total > 0 else 1 / len(distinct)) / channels.count(c)
                for c in channels
            ]
            amounts = largest_remainder(shares, conversion.revenue, conversion.currency)
            for i, (share, amount) in enumerate(zip(shares, amounts, strict=True), 1):
                if share > 0:
                    result[(conversion.conversion_id, model, i)] = (share, amount)
    return result


def stored_credits(client: Any) -> dict[tuple[str, str, int], tuple[float, Decimal]]:
    rows = client.query(
        "SELECT conversion_id, model, touch_index, credit, attributed_revenue FROM attribution_credits FINAL "
        f"WHERE model IN {MODELS!r}"
    ).result_rows
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def assert_credits_match(client: Any, journey: dict[str, Any]) -> None:
    want_effects, found, paths = oracle_fits(journey)
    got_effects = stored_effects(client)
    assert got_effects.keys() == want_effects.keys()
    for key, want in want_effects.items():
        assert got_effects[key] == pytest.approx(want, abs=1e-9), key
    want = expected_credits(got_effects, found, paths)
    got = stored_credits(client)
    assert got.keys() == want.keys()
    for key, (credit, amount) in want.items():
        assert got[key][0] == pytest.approx(credit, abs=1e-12), key
        assert got[key][1] == amount, key
    # Each conversion's rows add up to its revenue under every fitted model.
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (conversion_id, model, _), (_, amount) in got.items():
        sums[(conversion_id, model)] += amount
    revenue = {c.conversion_id: c.revenue for c in found}
    for (conversion_id, _), total in sums.items():
        assert total == revenue[conversion_id]


@settings(hypothesis_settings, max_examples=10)
@given(journey=journeys())
def test_fits_and_credits_equal_the_oracle(client: Any, journey: dict[str, Any]) -> None:
    reset(client)
    client.command("TRUNCATE TABLE attribution_fits")
    load(client, journey["hits"], journey["orders"], journey["refunds"], journey["identity"])
    aggregator = Aggregator(client, MemoryWatermarks(), margin_ms=0)
    aggregator.run(SITE, LOW, full=True)
    assert_credits_match(client, journey)
