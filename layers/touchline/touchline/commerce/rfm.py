"""RFM scores and the segment map (docs/commerce.md, "RFM").

Each score is a quintile within the site and currency that ties cannot split, at the mid-rank of
the tie: a customer scores 1 + ⌊5 · (worse + equal / 2) / customers⌋, where `worse` counts the
customers strictly worse and `equal` those with the same value (themselves included). Equal
values always score the same, and a tie sits in the middle: a new shop whose customers all
bought today scores them R = 3, not 1 (Lost) as the tie's lowest rank would.
Recency is better when fewer days have passed since the last order, frequency with more orders,
monetary with more net revenue. Segments read the recency score R against FM, the mean of the
frequency and monetary scores rounded half up (frequency alone is too tied to spread: most
customers order once).
"""

from __future__ import annotations

# (segment, recency scores, FM scores): every one of the 25 cells belongs to exactly one segment.
SEGMENTS: tuple[tuple[str, tuple[int, ...], tuple[int, ...]], ...] = (
    ("Champions", (5,), (4, 5)),
    ("Loyal", (3, 4), (4, 5)),
    ("Potential Loyalist", (4, 5), (2, 3)),
    ("New", (5,), (1,)),
    ("Promising", (4,), (1,)),
    ("Need Attention", (3,), (3,)),
    ("About to Sleep", (3,), (1, 2)),
    ("At Risk", (1, 2), (3, 4)),
    ("Can't Lose", (1, 2), (5,)),
    ("Hibernating", (1, 2), (1, 2)),  # except (1, 1):
    ("Lost", (1,), (1,)),
)


def score(strictly_worse: int, equal: int, customers: int) -> int:
    return 1 + (5 * (2 * strictly_worse + equal)) // (2 * customers)


def fm_score(frequency: int, monetary: int) -> int:
    return (frequency + monetary + 1) // 2


def segment(recency: int, fm: int) -> str:
    if (recency, fm) == (1, 1):
        return "Lost"
    for name, recencies, fms in SEGMENTS:
        if recency in recencies and fm in fms:
            return name
    raise ValueError(f"scores out of range: {recency}, {fm}")


def segment_sql(recency: str, fm: str) -> str:
    """The segment of SQL expressions `recency` and `fm` (UInt8 scores)."""
    branches = [f"{recency} = 1 AND {fm} = 1, 'Lost'"]
    for name, recencies, fms in SEGMENTS:
        if name == "Lost":
            continue
        quoted = name.replace("'", "\\'")
        branches.append(f"{recency} IN {_tuple(recencies)} AND {fm} IN {_tuple(fms)}, '{quoted}'")
    return f"multiIf({', '.join(branches)}, '')"


def _tuple(values: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(v) for v in values) + ")"
