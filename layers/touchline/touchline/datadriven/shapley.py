"""Shapley-value attribution: channels are players, and a coalition is worth the conversion rates
of the journeys it can form (docs/attribution.md, "Shapley value").

R(T) is the conversion rate of the journeys whose set of channels is exactly T (conversions /
journeys, non-converting journeys included). The coalition S is worth v(S) = Σ_{T ⊆ S} R(T):
what the journeys that use only S's channels bring. Each channel's Shapley value is its
marginal contribution v(S + c) - v(S) averaged over every order in which the channels could
join.

Up to `EXACT_MAX_CHANNELS` channels the values are computed by the textbook formula over all
2^n coalitions. Beyond, by the simplified method of Ads Data Hub (Zhao, Mahboobi and Bagheri,
"Shapley Value Methods for Attribution Modeling in Online Advertising", 2018):
φ(c) = Σ_{T ∋ c} R(T) / |T|, linear in the number of distinct channel sets. For this game the two
agree (R are the game's Harsanyi dividends), which the tests check, so crossing the threshold
changes the cost, not the answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from math import factorial

EXACT_MAX_CHANNELS = 12


@dataclass(frozen=True, slots=True)
class SetCount:
    """Journeys whose distinct channels are `channels`, and how many of them converted."""

    channels: frozenset[str]
    conversions: int
    journeys: int


def rates(sets: Iterable[SetCount]) -> dict[frozenset[str], float]:
    """R(T) per distinct channel set (counts of equal sets are added first)."""
    conversions: dict[frozenset[str], int] = defaultdict(int)
    journeys: dict[frozenset[str], int] = defaultdict(int)
    for s in sets:
        if s.channels and s.journeys > 0:
            conversions[s.channels] += s.conversions
            journeys[s.channels] += s.journeys
    return {t: conversions[t] / journeys[t] for t in journeys}


def exact(players: list[str], worth: Callable[[frozenset[str]], float]) -> dict[str, float]:
    """Shapley values of any game on `players` (at most EXACT_MAX_CHANNELS), by coalitions."""
    n = len(players)
    if n > EXACT_MAX_CHANNELS:
        raise ValueError(f"exact Shapley values need at most {EXACT_MAX_CHANNELS} players, not {n}")
    values = [worth(frozenset(players[i] for i in range(n) if mask >> i & 1)) for mask in range(1 << n)]
    weights = [factorial(k) * factorial(n - k - 1) / factorial(n) for k in range(n)]
    result = {}
    for i, player in enumerate(players):
        bit = 1 << i
        total = 0.0
        for mask in range(1 << n):
            if not mask & bit:
                total += weights[mask.bit_count()] * (values[mask | bit] - values[mask])
        result[player] = total
    return result


def simplified(r: dict[frozenset[str], float]) -> dict[str, float]:
    """φ(c) = Σ_{T ∋ c} R(T) / |T| (Ads Data Hub's simplified Shapley value method)."""
    result: dict[str, float] = defaultdict(float)
    for channels, rate in r.items():
        for channel in channels:
            result[channel] += rate / len(channels)
    return dict(result)


def coalition_worth(r: dict[frozenset[str], float]) -> Callable[[frozenset[str]], float]:
    """v(S) = Σ_{T ⊆ S} R(T)."""
    items = list(r.items())
    return lambda coalition: sum(rate for channels, rate in items if channels <= coalition)


def shapley_values(sets: Iterable[SetCount]) -> tuple[dict[str, float], str]:
    """Every channel's Shapley value and the method used (`exact` or `simplified`)."""
    r = rates(sets)
    players = sorted({c for channels in r for c in channels})
    if len(players) <= EXACT_MAX_CHANNELS:
        return exact(players, _subset_sums(players, r)), "exact"
    return {c: simplified(r).get(c, 0.0) for c in players}, "simplified"


def _subset_sums(players: list[str], r: dict[frozenset[str], float]) -> Callable[[frozenset[str]], float]:
    """v over all 2^n coalitions at once (a subset-sum transform), looked up by coalition."""
    bit = {p: 1 << i for i, p in enumerate(players)}
    n = len(players)
    table = [0.0] * (1 << n)
    for channels, rate in r.items():
        table[sum(bit[c] for c in channels)] += rate
    for i in range(n):
        for mask in range(1 << n):
            if mask >> i & 1:
                table[mask] += table[mask ^ (1 << i)]
    return lambda coalition: table[sum(bit[c] for c in coalition)]
