"""Top converting paths (`conversion:path`) on the known world, against the attribution oracle:
each conversion's touchpoint channels in order, counted and summed per currency."""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

from query_world import GOALS

from attribution_oracle import attribute, conversions
from touchline.query.builtin.paths import ARROW


def _expected(loaded: Any, start: str, end: str) -> tuple[Counter[str], dict[tuple[str, str], Decimal]]:
    goals = {g: (None, "") for g in GOALS}
    # Goal completions and the world's orders are both conversions.
    hits = [h.hit for h in loaded.world.hits]
    found = conversions(hits, loaded.world.oracle_orders(), [], {}, goals)
    credits = attribute(loaded.world.sessions, found, {})
    paths: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for credit in credits:
        if credit.model == "linear":
            paths[credit.conversion_id].append((credit.touch_index, credit.channel))
    counts: Counter[str] = Counter()
    revenue: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for conversion in found:
        day = conversion.at.date().isoformat()
        if not start <= day <= end:
            continue
        path = ARROW.join(channel for _, channel in sorted(paths[conversion.conversion_id]))
        counts[path] += 1
        if conversion.currency:
            revenue[(path, conversion.currency)] += conversion.revenue
    return counts, revenue


def test_paths_count_every_conversion_once_in_touch_order(loaded: Any) -> None:
    start, end = "2024-08-12", "2024-09-10"
    counts, _ = _expected(loaded, start, end)
    answer = loaded.run(
        {
            "site_id": "dummy.site",
            "metrics": ["path_conversions"],
            "date_range": [start, end],
            "dimensions": ["conversion:path"],
            "pagination": {"limit": 10000},
        }
    )
    got = {r["dimensions"][0]: r["metrics"][0] for r in answer["results"]}
    assert got == dict(counts)
    assert any(ARROW in path for path in got), "the world should have multi-touch paths"
    ordered = [r["metrics"][0] for r in answer["results"]]
    assert ordered == sorted(ordered, reverse=True)  # most converting first


def test_path_revenue_per_currency(loaded: Any) -> None:
    start, end = "2024-08-12", "2024-09-10"
    _, revenue = _expected(loaded, start, end)
    answer = loaded.run(
        {
            "site_id": "dummy.site",
            "metrics": ["path_revenue", "path_conversions"],
            "date_range": [start, end],
            "dimensions": ["conversion:path", "revenue:currency"],
            "pagination": {"limit": 10000},
        }
    )
    got = {
        (r["dimensions"][0], r["dimensions"][1]): Decimal(r["metrics"][0]["amount"])
        for r in answer["results"]
        if r["dimensions"][1]
    }
    assert got == {k: v for k, v in revenue.items() if v}


def test_paths_cannot_be_mixed_with_visit_dimensions(loaded: Any) -> None:
    from touchline.query.errors import QueryError

    try:
        loaded.run(
            {
                "site_id": "dummy.site",
                "metrics": ["path_conversions"],
                "date_range": "30d",
                "dimensions": ["visit:source"],
            }
        )
    except QueryError as error:
        assert "cannot be grouped by `visit:source`" in str(error)
    else:
        raise AssertionError("path metrics grouped by a visit dimension should be a 400")
