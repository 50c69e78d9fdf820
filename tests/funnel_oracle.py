"""Funnels restated in plain Python, independently of the fold in touchline.funnels.compute:
for every hit that completes step 1, the chain it starts, taken greedily (each next step at the
first hit after the previous one that completes it, inside the window; strict: at the very next
hit or not at all). A visitor's level is their longest chain; the chain kept for times and the
breakdown is, of the longest, the latest-starting (loose: by start time, the first hit of that
time; strict: the latest start hit).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    visitor: str
    at_ms: int
    event_id: str
    steps: tuple[bool, ...]  # which funnel steps this hit completes
    dimension: str = ""


def chain_of(hits: list[Hit], start: int, window_ms: int, strict: bool) -> list[int]:
    """Positions of the chain starting at `hits[start]` (sorted hits of one visitor)."""
    n = len(hits[start].steps)
    chain = [start]
    position = start
    for step in range(1, n):
        found = None
        candidates = [position + 1] if strict else range(position + 1, len(hits))
        for j in candidates:
            if j >= len(hits):
                break
            if hits[j].steps[step] and hits[j].at_ms - hits[start].at_ms <= window_ms:
                found = j
                break
        if found is None:
            break
        chain.append(found)
        position = found
    return chain


def visitor_chain(hits: list[Hit], window_ms: int, strict: bool) -> tuple[list[int], str]:
    """(step timestamps of the kept chain, its start's dimension); ([], "") when step 1 never happens."""
    ordered = sorted(hits, key=lambda h: (h.at_ms, h.event_id))
    chains = [(i, chain_of(ordered, i, window_ms, strict)) for i, h in enumerate(ordered) if h.steps[0]]
    if not chains:
        return [], ""
    deepest = max(len(c) for _, c in chains)
    longest = [(i, c) for i, c in chains if len(c) == deepest]
    if strict:
        start, chain = longest[-1]
    else:
        latest = max(ordered[i].at_ms for i, _ in longest)
        start, chain = next((i, c) for i, c in longest if ordered[i].at_ms == latest)
    return [ordered[j].at_ms for j in chain], ordered[start].dimension


@dataclass
class Figures:
    visitors: list[int]
    median_ms: list[float | None]  # from the previous step; None for step 1 and when nobody got there


def figures(chains: Iterable[list[int]], n: int) -> Figures:
    chains = [c for c in chains if c]
    visitors = [sum(1 for c in chains if len(c) >= k) for k in range(1, n + 1)]
    medians: list[float | None] = [None]
    for k in range(2, n + 1):
        gaps = [c[k - 1] - c[k - 2] for c in chains if len(c) >= k]
        medians.append(float(statistics.median(gaps)) if gaps else None)
    return Figures(visitors, medians)


def funnel(hits: Iterable[Hit], n: int, window_ms: int, strict: bool) -> tuple[Figures, dict[str, Figures]]:
    """The totals and the figures per breakdown value."""
    by_visitor: dict[str, list[Hit]] = defaultdict(list)
    for hit in hits:
        by_visitor[hit.visitor].append(hit)
    kept = [visitor_chain(v, window_ms, strict) for v in by_visitor.values()]
    groups: dict[str, list[list[int]]] = defaultdict(list)
    for chain, dimension in kept:
        if chain:
            groups[dimension].append(chain)
    return figures((c for c, _ in kept), n), {d: figures(c, n) for d, c in groups.items()}
