"""Markov-chain attribution: a chain of order k over channels, fitted on journey counts, and each
channel's removal effect, computed exactly (docs/attribution.md, "Markov chain").

States follow ChannelAttribution's convention, so its transition matrix is comparable: a
journey's states are its windows of k consecutive touches (a journey shorter than k is one
state), consecutive equal states are one visit, and every journey runs start → states →
conversion or null. A channel's removal effect is RE(c) = 1 - P(conversion | c removed) /
P(conversion), where removing c sends every transition into a state that contains c to null.

Absorption probabilities come from the linear system x = r + Qx (x_s: the probability of
converting from state s), solved directly (or, for chains of many states, iterated until it no
longer moves): no simulation, so the effects are exact to float precision and the same on every
run.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits

State = tuple[str, ...]
Floats = npt.NDArray[np.float64]
Indices = npt.NDArray[np.int64]
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
    """Transition counts between transient states (sparse: one entry per observed transition),
    from start, and into conversion and null."""

    order: int
    states: list[State]
    start: Floats  # counts start → state
    sources: Indices  # state → state transitions: from,
    targets: Indices  # to,
    counts: Floats  # and how many journeys took it
    to_conversion: Floats  # counts state → conversion
    to_null: Floats  # counts state → null
    journeys: int
    conversions: int

    @property
    def channels(self) -> list[str]:
        return sorted({c for state in self.states for c in state})

    @property
    def outgoing(self) -> Floats:
        between = np.bincount(self.sources, weights=self.counts, minlength=len(self.states))
        return np.asarray(between + self.to_conversion + self.to_null, dtype=float)

    def transition_probabilities(self) -> dict[tuple[str, str], float]:
        """`(from, to)` → probability, states written as ChannelAttribution writes them."""
        names = [" > ".join(s) for s in self.states]
        result: dict[tuple[str, str], float] = {}
        start_total = float(self.start.sum())
        for j in np.nonzero(self.start)[0]:
            result[("(start)", names[j])] = float(self.start[j]) / start_total
        outgoing = self.outgoing
        for a, b, n in zip(self.sources, self.targets, self.counts, strict=True):
            result[(names[a], names[b])] = float(n) / float(outgoing[a])
        for i, name in enumerate(names):
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
    pairs = sorted(between)
    return MarkovChain(
        order,
        [s for s, _ in sorted(index.items(), key=lambda item: item[1])],
        _dense(start, size),
        np.array([a for a, _ in pairs], dtype=np.int64),
        np.array([b for _, b in pairs], dtype=np.int64),
        np.array([between[p] for p in pairs], dtype=float),
        _dense(to_conversion, size),
        _dense(to_null, size),
        journeys,
        conversions,
    )


def _dense(counts: dict[int, int], size: int) -> Floats:
    vector = np.zeros(size)
    for i, n in counts.items():
        vector[i] = n
    return vector


# Up to this many states the system is solved directly (LU, O(n^3)); beyond, by iterating
# x <- r + Qx over the sparse transitions until it no longer moves (O(transitions) a step).
DENSE_MAX_STATES = 1500
_TOLERANCE = 1e-15
_MAX_ITERATIONS = 200_000


def conversion_probability(
    chain: MarkovChain, removed: str | None = None, dense_max_states: int = DENSE_MAX_STATES
) -> float:
    """P(conversion) from start; with `removed`, every state containing that channel leads to null."""
    keep = np.array([removed not in s for s in chain.states], dtype=bool)
    if not keep.any() or chain.start.sum() == 0:
        return 0.0
    outgoing = chain.outgoing
    live = keep[chain.sources] & keep[chain.targets]
    sources, targets = chain.sources[live], chain.targets[live]
    probabilities = chain.counts[live] / outgoing[sources]
    r = np.where(keep, chain.to_conversion / np.maximum(outgoing, 1), 0.0)
    if int(keep.sum()) <= dense_max_states:
        kept = np.flatnonzero(keep)
        position = np.full(len(keep), -1)
        position[kept] = np.arange(len(kept))
        q = np.zeros((len(kept), len(kept)))
        np.add.at(q, (position[sources], position[targets]), probabilities)
        x: Floats = np.zeros(len(keep))
        x[kept] = np.linalg.solve(np.eye(len(kept)) - q, r[kept])
    else:
        x = r.copy()
        for _ in range(_MAX_ITERATIONS):
            following: Floats = r + np.bincount(
                sources, weights=probabilities * x[targets], minlength=len(keep)
            )
            if float(np.max(np.abs(following - x))) <= _TOLERANCE:
                x = following
                break
            x = following
    return float(chain.start @ x / chain.start.sum())


def removal_effects(chain: MarkovChain, dense_max_states: int = DENSE_MAX_STATES) -> dict[str, float]:
    """RE(c) for every channel of the chain; all 0 when nothing converted."""
    # One BLAS thread: these systems are small, and a threaded BLAS on a busy machine spins
    # (measured: 35x slower for a 258-state chain with the other core loaded).
    with threadpool_limits(limits=1, user_api="blas"):
        base = conversion_probability(chain, None, dense_max_states)
        if base <= 0:
            return {c: 0.0 for c in chain.channels}
        # Clamped: float error may leave a hair below 0 for a channel that never leads to conversion.
        return {
            c: min(1.0, max(0.0, 1.0 - conversion_probability(chain, c, dense_max_states) / base))
            for c in chain.channels
        }


def shares(effects: dict[str, float]) -> dict[str, float]:
    """Removal effects normalised to sum to 1 (ChannelAttribution's `total_conversions` / conversions)."""
    total = sum(effects.values())
    return {c: (e / total if total > 0 else 0.0) for c, e in effects.items()}
