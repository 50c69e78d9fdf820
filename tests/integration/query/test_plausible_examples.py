"""Plausible's Stats API v2 documentation examples, unchanged, on a known site.

Source of the queries: tests/fixtures/plausible_stats_api_v2/README.md. Every expected answer is
counted in Python from the generated hits and the oracle's sessions (tests/query_world.py), in
the order Plausible documents: time dimensions ascending, then the first metric descending (ties
by the dimensions, which Touchline adds so pages are stable).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from query_world import DOCS_TODAY as TODAY
from query_world import Expect, Visit, World, WorldHit, local_day, local_hour

from touchline.query.errors import QueryError

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "plausible_stats_api_v2"


def example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / f"{name}-query.json").read_text())
    return data


def days(first: date | str, last: date | str) -> tuple[datetime, datetime]:
    start = datetime.fromisoformat(str(first)).replace(tzinfo=UTC)
    return start, datetime.fromisoformat(str(last)).replace(tzinfo=UTC) + timedelta(days=1)


def ordered(rows: list[dict[str, Any]], time_dims: int = 0) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["dimensions"][:time_dims], -_num(r["metrics"][0]), r["dimensions"]))


def _num(value: Any) -> float:
    return value["value"] if isinstance(value, dict) else float(value)


def expected(name: str, world: World, today: date) -> Any:
    """The answer to the docs example `name` on `world`, asked on `today` (UTC site)."""
    LAST_7 = days(today - timedelta(days=7), today - timedelta(days=1))
    everything = (
        min(h.hit.at for h in world.hits).replace(hour=0, minute=0, second=0, microsecond=0),
        days(today, today)[1],
    )
    if name == "aggregate":
        e = Expect(world, *LAST_7)
        hits = e.events()
        return [{"metrics": [e.visitors(hits), len(hits)], "dimensions": []}]
    if name == "custom-date-range":
        e = Expect(world, *days("2024-08-01", "2024-08-15"))
        return [{"metrics": [e.visitors(e.events())], "dimensions": []}]
    if name == "country-and-city":
        e = Expect(world, *LAST_7)
        visits = e.sessions(lambda v: v.value("visit:country_name") != "")
        groups = e.group(visits, lambda v: (v.value("visit:country_name"), v.value("visit:city_name")))
        rows = []
        for key, members in groups.items():
            m = e.session_metrics(members)
            rows.append(
                {"metrics": [m["visitors"], m["pageviews"], m["bounce_rate"]], "dimensions": list(key)}
            )
        return ordered(rows)
    if name in ("utm", "pagination"):
        e = Expect(world, *LAST_7)
        groups = e.group(e.sessions(), lambda v: (v.value("visit:utm_medium"), v.value("visit:utm_source")))
        rows = []
        for key, members in groups.items():
            m = e.session_metrics(members)
            rows.append({"metrics": [m["visitors"], m["events"], m["pageviews"]], "dimensions": list(key)})
        rows = ordered(rows)
        return rows[1:4] if name == "pagination" else rows
    if name == "filtering-basics":
        e = Expect(world, *LAST_7)

        def match(h: WorldHit, v: Visit | None) -> bool:
            page = any(s in h.hit.pathname for s in ("/docs", "/pricing"))
            campaign = v.value("visit:utm_campaign") if v else ""
            country = v.value("visit:country_name") if v else ""
            return page and (campaign != "Referral" or country in ("Estonia", "United States of America"))

        return [{"metrics": [e.visitors(e.events(match))], "dimensions": []}]
    if name == "filtering-case-insensitive":
        e = Expect(world, *LAST_7)
        hits = e.events(lambda h, v: "blog" in h.hit.pathname.lower())
        return [{"metrics": [e.visitors(hits)], "dimensions": []}]
    if name == "timeseries":
        e = Expect(world, *LAST_7)
        visits = e.sessions(lambda v: v.value("visit:os") in ("GNU/Linux", "Mac"))
        groups = e.group(visits, lambda v: (local_day(v.session.start, "UTC"),))
        rows = []
        for key, members in groups.items():
            m = e.session_metrics(members)
            rows.append({"metrics": [m["visitors"], m["events"]], "dimensions": list(key)})
        return ordered(rows, time_dims=1)
    if name == "time-labels":
        e = Expect(world, *days(today, today))
        groups = e.group(e.events(), lambda h: (local_hour(h.hit.at, "UTC"),))
        rows = [{"metrics": [e.visitors(hits)], "dimensions": list(k)} for k, hits in groups.items()]
        return ordered(rows, time_dims=1)
    if name == "custom-properties":
        e = Expect(world, *LAST_7)
        groups = e.group(
            e.events(), lambda h: (local_day(h.hit.at, "UTC"), h.prop.get("is_customer", "(none)"))
        )
        rows = [{"metrics": [e.visitors(hits)], "dimensions": list(k)} for k, hits in groups.items()]
        # order_by: time:day asc, event:props:is_customer desc
        rows.sort(key=lambda r: r["dimensions"][1], reverse=True)
        rows.sort(key=lambda r: r["dimensions"][0])
        return rows
    if name in ("imports", "imports-bad-filter"):
        e = Expect(world, *everything)
        test = (
            (lambda v: v.value("visit:country_name") == "Estonia") if name == "imports-bad-filter" else None
        )
        visits = e.sessions(test) if test else e.sessions()
        groups = e.group(visits, lambda v: (v.value("visit:source"),))
        rows = [
            {"metrics": [e.session_metrics(m)["visitors"]], "dimensions": list(k)} for k, m in groups.items()
        ]
        return ordered(rows)
    if name == "revenue-metrics":
        e = Expect(world, *everything)
        rows = []
        for goal in ("Signup", "PurchaseUSD", "PurchaseEUR"):
            hits = [h for h in e.events() if h.hit.name == goal]
            amounts: dict[str, Decimal] = {}
            for h in hits:
                if h.hit.revenue is not None:
                    amounts[h.hit.currency] = amounts.get(h.hit.currency, Decimal(0)) + h.hit.revenue
            if not hits:
                continue
            value = None
            if amounts:
                (currency, amount), *_ = amounts.items()
                value = {"value": float(amount), "currency": currency, "amount": f"{amount:.2f}"}
            rows.append({"metrics": [value], "dimensions": [goal]})
        return sorted(rows, key=lambda r: (-(r["metrics"][0] or {"value": -1})["value"], r["dimensions"]))
    if name == "revenue-warning":
        return [{"metrics": [None], "dimensions": []}]
    if name == "behavioral-filters":
        e = Expect(world, *everything)
        with_pricing = {
            id(v.session) for v in e.visits if any(h.pathname == "/pricing" for h in v.session.hits)
        }
        hits = e.events(
            lambda h, v: h.hit.name == "Signup" and v is not None and id(v.session) in with_pricing
        )
        return [{"metrics": [e.visitors(hits)], "dimensions": []}]
    raise AssertionError(name)


def comparable(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Revenue objects compared on value, currency and exact amount (short/long are display)."""
    out = []
    for row in results:
        metrics = [
            {k: m[k] for k in ("value", "currency", "amount")} if isinstance(m, dict) else m
            for m in row["metrics"]
        ]
        out.append({"metrics": metrics, "dimensions": row["dimensions"]})
    return out


RUNNABLE = [
    "aggregate",
    "custom-date-range",
    "country-and-city",
    "utm",
    "pagination",
    "filtering-basics",
    "filtering-case-insensitive",
    "timeseries",
    "time-labels",
    "custom-properties",
    "imports",
    "imports-bad-filter",
    "revenue-metrics",
    "revenue-warning",
    "behavioral-filters",
]


@pytest.mark.parametrize("name", RUNNABLE)
def test_docs_example(loaded: Any, name: str) -> None:
    response = loaded.run(example(name))
    assert comparable(response["results"]) == expected(name, loaded.world, TODAY)
    assert response["query"]["metrics"] == example(name)["metrics"]


def test_non_trivial_world(loaded: Any) -> None:
    """The examples above would prove little on empty groups."""
    assert sum(r["metrics"][0] for r in loaded.run(example("utm"))["results"]) > 50
    assert loaded.run(example("behavioral-filters"))["results"][0]["metrics"][0] > 5
    assert len(loaded.run(example("country-and-city"))["results"]) == 6


def test_meta_of_examples(loaded: Any) -> None:
    labels = loaded.run(example("time-labels"))["meta"]["time_labels"]
    assert labels[0] == "2024-09-11 00:00:00" and labels[-1] == "2024-09-11 23:00:00" and len(labels) == 24
    pagination = loaded.run(example("pagination"))
    assert pagination["meta"]["total_rows"] == len(expected("utm", loaded.world, TODAY))
    imports = loaded.run(example("imports"))["meta"]
    assert imports["imports_included"] is False and imports["imports_skip_reason"] == "no_imported_data"
    warning = loaded.run(example("revenue-warning"))["meta"]["metric_warnings"]["total_revenue"]
    assert warning["code"] == "no_single_revenue_currency"
    echo = loaded.run(example("aggregate"))["query"]
    assert echo["date_range"] == ["2024-09-04T00:00:00+00:00", "2024-09-10T23:59:59+00:00"]
    assert echo["order_by"] == [["visitors", "desc"]]


def test_segment_example_is_a_clear_error(loaded: Any) -> None:
    """Touchline has no saved segments: the docs' segment filter names one that does not exist."""
    with pytest.raises(QueryError, match="segments don't exist"):
        loaded.run(example("filtering-by-segment"))
