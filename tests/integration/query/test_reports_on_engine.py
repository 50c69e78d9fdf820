"""`touchline report overview|attribution|revenue` are thin clients of the engine: same numbers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from query_world import DOMAIN

from touchline.reports import client_runner, engine_runner
from touchline.reports.attribution import attribution_report
from touchline.reports.overview import overview_report
from touchline.reports.revenue import revenue_report

MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
START, END = date(2024, 8, 1), date(2024, 9, 11)
RANGE = [START.isoformat(), END.isoformat()]


def runner(loaded: Any) -> Any:
    engine = loaded.engine()
    return lambda body: engine.run(body, loaded.site)


def test_six_model_revenue_query_equals_the_attribution_report(loaded: Any) -> None:
    api = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "dimensions": ["visit:channel", "revenue:currency"],
            "metrics": [f"attributed_revenue:{m}" for m in MODELS],
        }
    )
    from_api = {
        (model, r["dimensions"][0], r["dimensions"][1]): Decimal(r["metrics"][i]["amount"])
        for r in api["results"]
        for i, model in enumerate(MODELS)
        if r["metrics"][i] is not None
    }
    # The attribution report runs its own SQL (with the data-driven variants): same numbers.
    start = datetime.combine(START, time(), UTC)
    end = datetime.combine(END + timedelta(days=1), time(), UTC)
    report = attribution_report(
        client_runner(loaded.client), loaded.site.site_id, start, end, "all", "channel"
    )
    report = report.as_dict()
    from_report = {
        (m["model"], row["channel"], amount["currency"]): Decimal(amount["amount"])
        for m in report["models"]
        for row in m["rows"]
        for amount in row["revenue"]
    }
    assert from_api == from_report and len({k[0] for k in from_api}) == 6
    counts = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "dimensions": ["visit:channel"],
            "metrics": ["attributed_conversions:linear", "attributed_orders:linear"],
        }
    )
    linear = next(m for m in report["models"] if m["model"] == "linear")
    assert {r["dimensions"][0]: r["metrics"] for r in counts["results"] if r["metrics"][0]} == {
        row["channel"]: [row["conversions"], row["orders"]] for row in linear["rows"]
    }


@pytest.mark.parametrize(("touches", "basis"), [("clicks_only", "cash"), ("paid_only", "accrual")])
def test_touches_and_basis_variants_equal_the_attribution_report(
    loaded: Any, touches: str, basis: str
) -> None:
    """`--touches` / `--basis` of the report and the engine's include options: same credits."""
    api = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "dimensions": ["visit:channel", "revenue:currency"],
            "metrics": [f"attributed_revenue:{m}" for m in MODELS],
            "include": {"attribution_touches": touches, "attribution_basis": basis},
        }
    )
    from_api = {
        (model, r["dimensions"][0], r["dimensions"][1]): Decimal(r["metrics"][i]["amount"])
        for r in api["results"]
        for i, model in enumerate(MODELS)
        if r["metrics"][i] is not None and Decimal(r["metrics"][i]["amount"])
    }
    start = datetime.combine(START, time(), UTC)
    end = datetime.combine(END + timedelta(days=1), time(), UTC)
    report = attribution_report(
        client_runner(loaded.client), loaded.site.site_id, start, end, "all", "channel", touches, basis
    ).as_dict()
    from_report = {
        (m["model"], row["channel"], amount["currency"]): Decimal(amount["amount"])
        for m in report["models"]
        if m["model"] in MODELS
        for row in m["rows"]
        for amount in row["revenue"]
        if Decimal(amount["amount"])
    }
    assert from_report and from_api == from_report


def test_revenue_report_equals_the_api(loaded: Any) -> None:
    report = revenue_report(runner(loaded), DOMAIN, START, END)
    api = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "dimensions": ["revenue:currency"],
            "metrics": ["orders", "gross_revenue", "net_revenue", "linked_order_share"],
        }
    )
    by_currency = {r["dimensions"][0]: r["metrics"] for r in api["results"]}
    assert {c.currency for c in report.currencies} == set(by_currency) == {"USD", "EUR"}
    for c in report.currencies:
        orders, gross, net, share = by_currency[c.currency]
        assert (c.orders, c.gross, c.net, round(c.linked_share, 4)) == (
            orders,
            Decimal(gross["amount"]),
            Decimal(net["amount"]),
            share,
        )


def test_overview_report_equals_the_api(loaded: Any) -> None:
    overview = overview_report(runner(loaded), DOMAIN, START, END).as_dict()
    [row] = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"],
        }
    )["results"]
    totals = overview["totals"]
    assert [
        totals[k] for k in ("visitors", "sessions", "pageviews", "bounce_rate", "visit_duration_s")
    ] == row["metrics"]
    sources = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": RANGE,
            "metrics": ["visitors", "visits"],
            "dimensions": ["visit:source"],
            "pagination": {"limit": 10},
        }
    )["results"]
    assert overview["top_sources"] == [
        {"source": r["dimensions"][0], "visitors": r["metrics"][0], "sessions": r["metrics"][1]}
        for r in sources
    ]
    assert overview["totals"]["revenue"] and overview["totals"]["conversions"] > 0


def test_client_runner_reads_a_site_by_id(loaded: Any) -> None:
    report = revenue_report(engine_runner(loaded.client), loaded.site.site_id, START, END)
    assert {c.currency for c in report.currencies} == {"USD", "EUR"}
