"""Markov-chain attribution: a chain of order k over channels, fitted on journey counts, and each
channel's removal effect, computed exactly (docs/attribution.md, "Markov chain").

States follow ChannelAttribution's convention, so its transition matrix is comparable: a
journey's states are its windows of k consecutive touches (a journey shorter than k is one
state), consecutive equal states are one visit, and every journey runs start → states →
conversion or null. A channel's removal effect is RE(c) = 1 - P(conversion | c removed) /
P(conversion), where removing c sends every transition into a state that contains c to null.

Absorption probabilities come from the linear system x = r + Qx (x_s: the probability of
converting from state s), solved directly: no simulation, so the effects are exact to float
precision and the same on every run.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

State = tuple[str, ...]
ORDERS = (1, 2, 3)


@dataclass(frozen=True, slots=True)
class PathCount:
    """A distinct path (channels in touch order) with how many journeys took it and converted or not."""

    channels: tuple[str, ...]
    conversions: int
    nulls: int


def states_of(channels: Sequence[str], order: int) -> list[State]:
    """The chain states one journey visits: windows of `order` touches, repeats collapsed."""
    if order < 1:
        raise ValueError("order must be at least 1")
    if len(channels) <= order:
        windows = [tuple(channels)] if channels else []
    else:
        windows = [tuple(channels[i : i + order]) for i in range(len(channels) - order + 1)]
    collapsed: list[State] = []
    for window in windows:
        if not collapsed or collapsed[-1] != window:
            collapsed.append(window)
    return collapsed


@dataclass
class MarkovChain:
    """Transition counts between transient states, from start, and into conversion and null."""

    order: int
    states: list[State]
    start: np.ndarray  # counts start → state
    between: np.ndarray  # counts state → state
    to_conversion: np.ndarray  # counts state → conversion
    to_null: np.ndarray  # counts state → null
    journeys: int
    conversions: int

    @property
    def channels(self) -> list[str]:
        return sorted({c for state in self.states for c in state})

    def transition_probabilities(self) -> dict[tuple[str, str], float]:
        """`(from, to)` → probability, states written as ChannelAttribution writes them."""
        names = [" > ".join(s) for s in self.states]
        result: dict[tuple[str, str], float] = {}
        start_total = float(self.start.sum())
        for j in np.nonzero(self.start)[0]:
            result[("(start)", names[j])] = float(self.start[j]) / start_total
        outgoing = self.between.sum(axis=1) + self.to_conversion + self.to_null
        for i, name in enumerate(names):
            for j in np.nonzero(self.between[i])[0]:
                result[(name, names[j])] = float(self.between[i, j]) / float(outgoing[i])
            if self.to_conversion[i]:
                result[(name, "(conversion)")] = float(self.to_conversion[i]) / float(outgoing[i])
            if self.to_null[i]:
                result[(name, "(null)")] = float(self.to_null[i]) / float(outgoing[i])
        return result


def fit(paths: Iterable[PathCount], order: int) -> MarkovChain:
    """Count the transitions of every journey (each distinct path weighted by its journeys)."""
    index: dict[State, int] = {}
    start: dict[int, int] = defaultdict(int)
    between: dict[tuple[int, int], int] = defaultdict(int)
    to_conversion: dict[int, int] = defaultdict(int)
    to_null: dict[int, int] = defaultdict(int)
    journeys = conversions = 0
    for path in paths:
        weight = path.conversions + path.nulls
        states = states_of(path.channels, order)
        if weight <= 0 or not states:
            continue
        ids = [index.setdefault(s, len(index)) for s in states]
        start[ids[0]] += weight
        for a, b in itertools.pairwise(ids):
            between[(a, b)] += weight
        to_conversion[ids[-1]] += path.conversions
        to_null[ids[-1]] += path.nulls
        journeys += weight
        conversions += path.conversions
    size = len(index)
    chain = MarkovChain(
        order,
        [s for s, _ in sorted(index.items(), key=lambda item: item[1])],
        np.zeros(size),
        np.zeros((size, size)),
        np.zeros(size),
        np.zeros(size),
        journeys,
        conversions,
    )
    for i, n in start.items():
        chain.start[i] = n
    for (a, b), n in between.items():
        chain.between[a, b] = n
    for i, n in to_conversion.items():
        chain.to_conversion[i] = n
    for i, n in to_null.items():
        chain.to_null[i] = n
    return chain


def conversion_probability(chain: MarkovChain, removed: str | None = None) -> float:
    """P(conversion) from start; with `removed`, every state containing that channel leads to null."""
    keep = np.array([removed not in s for s in chain.states], dtype=bool)
    if not keep.any() or chain.start.sum() == 0:
        return 0.0
    outgoing = chain.between.sum(axis=1) + chain.to_conversion + chain.to_null
    q = chain.between[np.ix_(keep, keep)] / outgoing[keep][:, None]
    r = chain.to_conversion[keep] / outgoing[keep]
    x = np.linalg.solve(np.eye(int(keep.sum())) - q, r)
    return float(chain.start[keep] @ x / chain.start.sum())


def removal_effects(chain: MarkovChain) -> dict[str, float]:
    """RE(c) for every channel of the chain; all 0 when nothing converted."""
    base = conversion_probability(chain)
    if base <= 0:
        return {c: 0.0 for c in chain.channels}
    # Clamped: float error may leave a hair below 0 for a channel that never leads to conversion.
    return {c: min(1.0, max(0.0, 1.0 - conversion_probability(chain, c) / base)) for c in chain.channels}


def shares(effects: dict[str, float]) -> dict[str, float]:
    """Removal effects normalised to sum to 1 (ChannelAttribution's `total_conversions` / conversions)."""
    total = sum(effects.values())
    return {c: (e / total if total > 0 else 0.0) for c, e in effects.items()}
