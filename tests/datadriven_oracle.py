"""A plain-Python reference for the data-driven models of docs/attribution.md, the oracle for
touchline.datadriven and the journeys SQL.

Written from the published definitions and sharing nothing with the code under test: Markov
absorption probabilities by exact rational Gaussian elimination (fractions, no floats, no
numpy), Shapley values by averaging marginal contributions over every ordering of the players,
journeys by walking each person's sessions one by one.
"""

from __future__ import annotations

import itertools
import math
import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction

from attribution_oracle import DAY_MS, Conversion, Credit, Session, ms, session_person

# CI runs few cases (issue budget ~60 s); TOUCHLINE_ORACLE_EXAMPLES=200 for a long run, which also
# simulates ChannelAttribution's journeys five times longer.
LONG_RUN = "TOUCHLINE_ORACLE_EXAMPLES" in os.environ


def examples(default: int) -> int:
    """The number of property-test cases: `default`, or TOUCHLINE_ORACLE_EXAMPLES if higher."""
    return max(default, int(os.environ.get("TOUCHLINE_ORACLE_EXAMPLES", "0")))


# ------------------------------------------------------------------------------------ journeys


@dataclass(frozen=True)
class Journey:
    journey_id: str
    person_id: str
    converted: bool
    kind: str
    session_ids: tuple[str, ...]
    channels: tuple[str, ...]


def journeys(
    sessions: list[Session],
    found: list[Conversion],
    credits: list[Credit],
    identity: dict[tuple[str, str], str],
    lookback_days: int = 30,
) -> list[Journey]:
    """Each conversion's touchpoints; then each person's other sessions, cut into pieces of at most
    the lookback window from each piece's first session."""
    by_id = {s.session_id: s for s in sessions}
    touches: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for credit in credits:
        if credit.model == "linear" and credit.touch_index > 0:
            touches[credit.conversion_id].append((credit.touch_index, credit.session_id))
    result = []
    touched: set[str] = set()
    for conversion in found:
        ids = [sid for _, sid in sorted(touches[conversion.conversion_id])]
        touched.update(ids)
        result.append(
            Journey(
                conversion.conversion_id,
                conversion.person_id,
                True,
                conversion.kind,
                tuple(ids),
                tuple(by_id[i].channel for i in ids),
            )
        )
    by_person: dict[str, list[Session]] = defaultdict(list)
    for session in sessions:
        if session.session_id not in touched:
            person = session_person(session, identity)
            by_person[person].append(session)
    for person, own in by_person.items():
        own.sort(key=lambda s: (ms(s.start), s.session_id))
        piece: list[Session] = []
        for session in own:
            if piece and ms(session.start) - ms(piece[0].start) > lookback_days * DAY_MS:
                result.append(_open(person, piece))
                piece = []
            piece.append(session)
        if piece:
            result.append(_open(person, piece))
    return result


def _open(person: str, piece: list[Session]) -> Journey:
    return Journey(
        f"none:{piece[0].session_id}",
        person,
        False,
        "",
        tuple(s.session_id for s in piece),
        tuple(s.channel for s in piece),
    )


# ------------------------------------------------------------------------------------ Markov

Path = tuple[tuple[str, ...], int, int]  # channels, conversions, non-conversions
START, CONVERSION, NULL = ("(start)",), ("(conversion)",), ("(null)",)


def chain_states(channels: tuple[str, ...], order: int) -> list[tuple[str, ...]]:
    """ChannelAttribution's states: sliding windows of `order` touches, equal neighbours merged."""
    windows = (
        [channels]
        if len(channels) <= order
        else [channels[i : i + order] for i in range(len(channels) - order + 1)]
    )
    merged: list[tuple[str, ...]] = []
    for window in windows:
        if not merged or merged[-1] != window:
            merged.append(window)
    return merged


def transition_counts(paths: Iterable[Path], order: int) -> dict[tuple[str, ...], dict[tuple[str, ...], int]]:
    counts: dict[tuple[str, ...], dict[tuple[str, ...], int]] = defaultdict(lambda: defaultdict(int))
    for channels, conversions, nulls in paths:
        if not channels or conversions + nulls == 0:
            continue
        walk = [START, *chain_states(channels, order)]
        for a, b in itertools.pairwise(walk):
            counts[a][b] += conversions + nulls
        if conversions:
            counts[walk[-1]][CONVERSION] += conversions
        if nulls:
            counts[walk[-1]][NULL] += nulls
    return counts


def conversion_probability(
    counts: dict[tuple[str, ...], dict[tuple[str, ...], int]], removed: str | None = None
) -> Fraction:
    """P(start reaches conversion), states containing `removed` leading to null, solved exactly."""
    states = [s for s in counts if s != START and removed not in s]
    index = {s: i for i, s in enumerate(states)}
    size = len(states)
    # (I - Q) x = r, as an augmented matrix of fractions.
    matrix = [[Fraction(0)] * (size + 1) for _ in range(size)]
    for s, i in index.items():
        total = sum(counts[s].values())
        matrix[i][i] += 1
        for target, n in counts[s].items():
            if target == CONVERSION:
                matrix[i][size] += Fraction(n, total)
            elif target in index:
                matrix[i][index[target]] -= Fraction(n, total)
    for col in range(size):
        pivot = next(r for r in range(col, size) if matrix[r][col] != 0)
        matrix[col], matrix[pivot] = matrix[pivot], matrix[col]
        lead = matrix[col][col]
        matrix[col] = [v / lead for v in matrix[col]]
        for r in range(size):
            if r != col and matrix[r][col] != 0:
                factor = matrix[r][col]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[col], strict=True)]
    x = {s: matrix[i][size] for s, i in index.items()}
    start_total = sum(counts[START].values())
    return sum((Fraction(n, start_total) * x[s] for s, n in counts[START].items() if s in x), Fraction(0))


def removal_effects(paths: list[Path], order: int) -> dict[str, float]:
    counts = transition_counts(paths, order)
    channels = sorted({c for p, _, _ in paths for c in p})
    base = conversion_probability(counts)
    return {c: float(1 - conversion_probability(counts, c) / base) for c in channels}


def normalised(values: dict[str, float]) -> dict[str, float]:
    total = sum(values.values())
    return {k: v / total for k, v in values.items()}


# ------------------------------------------------------------------------------------ Shapley


def brute_force_shapley(players: list[str], worth: Callable[[frozenset[str]], float]) -> dict[str, float]:
    """The definition: each player's marginal contribution averaged over all n! orderings."""
    totals = dict.fromkeys(players, 0.0)
    for ordering in itertools.permutations(players):
        coalition: frozenset[str] = frozenset()
        for player in ordering:
            joined = coalition | {player}
            totals[player] += worth(joined) - worth(coalition)
            coalition = joined
    count = math.factorial(len(players))
    return {p: t / count for p, t in totals.items()}


def rate_game(paths: list[Path]) -> tuple[list[str], Callable[[frozenset[str]], float]]:
    """v(S) = sum over channel sets T within S of conversions(T) / journeys(T)."""
    conversions: dict[frozenset[str], int] = defaultdict(int)
    total: dict[frozenset[str], int] = defaultdict(int)
    for channels, c, n in paths:
        conversions[frozenset(channels)] += c
        total[frozenset(channels)] += c + n
    players = sorted({p for s in total for p in s})

    def worth(coalition: frozenset[str]) -> float:
        return sum(conversions[t] / total[t] for t in total if t and t <= coalition)

    return players, worth
