"""`touchline report overview|attribution|revenue` are thin clients of the engine: same numbers.

The attribution report is held to the attribution oracle (tests/attribution_oracle.py: the
definitions of docs/attribution.md in plain Python, sharing nothing with the SQL), on local days,
and to the six-model query of the API.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from query_world import DOMAIN, GOALS, local_day

from attribution_oracle import Session, attribute, conversions
from touchline.reports import engine_runner
from touchline.reports.attribution import attribution_report
from touchline.reports.overview import overview_report
from touchline.reports.revenue import money, revenue_report

MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
START, END = date(2024, 8, 1), date(2024, 9, 11)
RANGE = [START.isoformat(), END.isoformat()]
# docs/attribution.md's touches variants; the world has no paid channel, so paid_only keeps all.
KEEP = {
    "all": lambda touches: touches,
    "clicks_only": lambda touches: [t for t in touches if t.channel != "Direct"] or touches,
}


def runner(loaded: Any) -> Any:
    engine = loaded.engine()
    return lambda body: engine.run(body, loaded.site)


def oracle(loaded: Any, start: date, end: date, touches: str = "all", basis: str = "cash") -> dict[str, Any]:
    """The report's numbers by the definitions: per (model, channel) conversions and orders, per
    (model, channel, currency) order revenue and goal value, for local days `start`..`end`."""
    world = loaded.world
    goals = {g: (None, "") for g in GOALS}  # conversion goals whose value is the event's revenue
    found = conversions([h.hit for h in world.hits], world.oracle_orders(), [], {}, goals)
    by_id = {c.conversion_id: c for c in found}
    sessions: dict[str, Session] = {s.session_id: s for s in world.sessions}
    out: dict[str, Any] = {"conversions": defaultdict(float), "orders": defaultdict(float)}
    out.update(revenue=defaultdict(Decimal), goal_value=defaultdict(Decimal))
    for credit in attribute(world.sessions, found, {}, keep=KEEP[touches]):
        conversion = by_id[credit.conversion_id]
        dated = (
            sessions[credit.session_id].start if basis == "accrual" and credit.session_id else conversion.at
        )
        if not start.isoformat() <= local_day(dated, loaded.site.timezone) <= end.isoformat():
            continue
        out["conversions"][(credit.model, credit.channel)] += credit.credit
        if conversion.kind == "order":
            out["orders"][(credit.model, credit.channel)] += credit.credit
            out["revenue"][(credit.model, credit.channel, credit.currency)] += credit.attributed_revenue
        elif credit.attributed_revenue:
            out["goal_value"][(credit.model, credit.channel, credit.currency)] += credit.attributed_revenue
    return out


def from_report(report: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"conversions": {}, "orders": {}, "revenue": {}, "goal_value": {}}
    for m in report["models"]:
        for row in m["rows"]:
            out["conversions"][(m["model"], row["channel"])] = row["conversions"]
            out["orders"][(m["model"], row["channel"])] = row["orders"]
            for kind in ("revenue", "goal_value"):
                for cell in row[kind]:
                    out[kind][(m["model"], row["channel"], cell["currency"])] = cell["amount"]
    return out


def assert_equal_to_oracle(report: dict[str, Any], expected: dict[str, Any]) -> None:
    got = from_report(report)
    for kind in ("revenue", "goal_value"):
        want = {k: money(v, k[2]) for k, v in expected[kind].items() if v}
        assert got[kind] == want, kind
    for kind in ("conversions", "orders"):
        want = {k: v for k, v in expected[kind].items() if v}
        assert {k: v for k, v in got[kind].items() if v} == pytest.approx(want, abs=1e-6), kind
    assert {k[0] for k in got["revenue"]} == set(MODELS) and got["goal_value"]


@pytest.mark.parametrize("world", ["loaded", "berlin"])
def test_attribution_report_equals_the_definitions_on_local_days(world: str, request: Any) -> None:
    """Every rule-based model's credits per channel, from the engine, equal the oracle's for the
    site's local days (Europe/Berlin days are not UTC days relabelled)."""
    loaded = request.getfixturevalue(world)
    report = attribution_report(runner(loaded), DOMAIN, START, END, "all", "channel").as_dict()
    assert_equal_to_oracle(report, oracle(loaded, START, END))
    assert {m["model"]: m["status"] for m in report["models"]}.keys() >= set(MODELS)


@pytest.mark.parametrize(("touches", "basis"), [("clicks_only", "cash"), ("all", "accrual")])
def test_touches_and_basis_variants_equal_the_definitions(loaded: Any, touches: str, basis: str) -> None:
    """`--touches clicks_only` credits only the kept touches; `--basis accrual` dates a credit by
    its touch, so a conversion after the period still credits the touches inside it."""
    start, end = date(2024, 8, 20), date(2024, 8, 31)
    report = attribution_report(runner(loaded), DOMAIN, start, end, "all", "channel", touches, basis)
    models = [m for m in report.as_dict()["models"] if m["model"] in MODELS]
    expected = oracle(loaded, start, end, touches, basis)
    assert expected != oracle(loaded, start, end)  # the variant changes the numbers
    assert_equal_to_oracle({"models": models}, expected)


def test_data_driven_models_below_the_minimum_say_why(loaded: Any) -> None:
    """The world's few hundred journeys are below the default minimum: the data-driven models
    credit nothing, and the report says so with the fit's status (the engine's warnings)."""
    report = attribution_report(runner(loaded), DOMAIN, START, END, "markov").as_dict()
    [markov] = report["models"]
    assert markov["rows"] == [] and markov["status"] == "too_few_journeys"
    assert (
        markov["note"].startswith("orders: not computed, ")
        and "the minimum is 1,000 journeys" in markov["note"]
    )


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
        (model, r["dimensions"][0], r["dimensions"][1]): r["metrics"][i]["amount"]
        for r in api["results"]
        for i, model in enumerate(MODELS)
        if r["metrics"][i] is not None
    }
    report = attribution_report(runner(loaded), DOMAIN, START, END, "all", "channel").as_dict()
    assert from_api == from_report(report)["revenue"] and len({k[0] for k in from_api}) == 6


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


def test_engine_runner_reads_a_site_by_id(loaded: Any) -> None:
    report = revenue_report(engine_runner(loaded.client), loaded.site.site_id, START, END)
    assert {c.currency for c in report.currencies} == {"USD", "EUR"}
