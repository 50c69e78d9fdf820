"""Data-driven models through the real aggregation on ClickHouse, held to the plain-Python oracle.

Random journeys (the rule-based oracle test's generator) are aggregated with the sample-size
minimum lowered to 1; the stored fits must equal the oracle's (exact Markov removal effects,
brute-force Shapley values) and every conversion's credits must split its revenue by them, to
the minor unit.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import datadriven_oracle as oracle
import pytest
from hypothesis import given, settings
from test_attribution_oracle import BASE, GOALS, SITE, hypothesis_settings, journeys, load, reset

from attribution_oracle import Conversion, Hit, Order, attribute, conversions, largest_remainder, sessionize
from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.datadriven import MARKOV_ORDERS, MODELS
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

LOW = AttributionSettings(goals=GOALS, min_journeys=1, min_conversions=1)


@pytest.fixture(scope="module")
def client(chdb_path: Path) -> Any:
    """One database for the module (migrating one per test cost more than the tests): every test
    starts from `reset` (the oracle's tables) and an empty `attribution_fits`."""
    url = f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"
    migrate(connect(url))
    return connect(url)


Effects = dict[tuple[str, str], dict[str, float]]


def oracle_fits(journey: dict[str, Any]) -> tuple[Effects, list[Conversion], dict[str, tuple[str, ...]]]:
    sessions = sessionize(journey["hits"])
    goals = {g.name: (g.value, g.currency) for g in GOALS}
    found = conversions(journey["hits"], journey["orders"], journey["refunds"], journey["identity"], goals)
    credits = attribute(sessions, found, journey["identity"])
    all_journeys = oracle.journeys(sessions, found, credits, journey["identity"])
    nulls = [(j.channels, 0, 1) for j in all_journeys if not j.converted and j.channels]
    fits = {}
    for kind in ("order", "goal"):
        paths = [(j.channels, 1, 0) for j in all_journeys if j.converted and j.kind == kind and j.channels]
        if not paths:
            continue
        paths += nulls
        for model, order in MARKOV_ORDERS.items():
            fits[(model, kind)] = oracle.removal_effects(paths, order)
        players, worth = oracle.rate_game(paths)
        fits[("shapley", kind)] = oracle.brute_force_shapley(players, worth)
    return fits, found, {j.journey_id: j.channels for j in all_journeys if j.converted}


def stored_effects(client: Any) -> dict[tuple[str, str], dict[str, float]]:
    found: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for model, kind, channel, effect in client.query(
        "SELECT model, conversion_kind, channel, effect FROM attribution_fits FINAL "
        "WHERE touches = 'all' AND status = 'ok' AND channel != ''"
    ).result_rows:
        found[(model, kind)][channel] = effect
    return dict(found)


def expected_credits(
    effects: Effects, found: list[Conversion], paths: dict[str, tuple[str, ...]]
) -> dict[tuple[str, str, int], tuple[float, Decimal]]:
    """The split rule of docs/attribution.md, with the same float operations as the SQL."""
    result = {}
    for conversion in found:
        channels = paths[conversion.conversion_id]
        for model in MODELS:
            weights = effects.get((model, conversion.kind))
            if weights is None:
                continue
            if not channels:
                result[(conversion.conversion_id, model, 0)] = (1.0, conversion.revenue)
                continue
            distinct = list(dict.fromkeys(channels))
            total = 0.0
            for c in distinct:
                total += weights.get(c, 0.0)
            shares = [
                (weights.get(c, 0.0) / total if total > 0 else 1 / len(distinct)) / channels.count(c)
                for c in channels
            ]
            amounts = largest_remainder(shares, conversion.revenue, conversion.currency)
            for i, (share, amount) in enumerate(zip(shares, amounts, strict=True), 1):
                if share > 0:
                    result[(conversion.conversion_id, model, i)] = (share, amount)
    return result


def stored_credits(client: Any) -> dict[tuple[str, str, int], tuple[float, Decimal]]:
    rows = client.query(
        "SELECT conversion_id, model, touch_index, credit, attributed_revenue FROM attribution_credits FINAL "
        f"WHERE model IN {MODELS!r}"
    ).result_rows
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def assert_credits_match(client: Any, journey: dict[str, Any]) -> None:
    want_effects, found, paths = oracle_fits(journey)
    got_effects = stored_effects(client)
    assert got_effects.keys() == want_effects.keys()
    for key, want in want_effects.items():
        assert got_effects[key] == pytest.approx(want, abs=1e-9), key
    want = expected_credits(got_effects, found, paths)
    got = stored_credits(client)
    assert got.keys() == want.keys()
    for key, (credit, amount) in want.items():
        assert got[key][0] == pytest.approx(credit, abs=1e-12), key
        assert got[key][1] == amount, key
    # Each conversion's rows add up to its revenue under every fitted model.
    sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for (conversion_id, model, _), (_, amount) in got.items():
        sums[(conversion_id, model)] += amount
    revenue = {c.conversion_id: c.revenue for c in found}
    for (conversion_id, _), total in sums.items():
        assert total == revenue[conversion_id]


@settings(hypothesis_settings, max_examples=oracle.examples(4))
@given(journey=journeys())
def test_fits_and_credits_equal_the_oracle(client: Any, journey: dict[str, Any]) -> None:
    reset(client)
    client.command("TRUNCATE TABLE attribution_fits")
    load(client, journey["hits"], journey["orders"], journey["refunds"], journey["identity"])
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)
    aggregator.run(SITE, LOW, full=True)
    assert_credits_match(client, journey)


# ------------------------------------------------------------------ the worked example of the docs


def _hit(
    visitor: str, hours: float, channel: str, source: str = "", medium: str = "", click: str = ""
) -> Hit:
    return Hit(
        str(uuid.uuid4()),
        visitor,
        BASE + timedelta(hours=hours),
        source=source,
        medium=medium,
        click_id=click,
        channel=channel,
    )


ORGANIC = {"channel": "Organic Search", "source": "Google"}
EMAIL = {"channel": "Email", "source": "newsletter", "medium": "email"}
WORKED = AttributionSettings(min_journeys=3, min_conversions=2)


def worked_example(client: Any) -> Aggregator:
    """Three journeys: Organic Search > Direct > Email → $10.00; Organic Search alone, no order;
    Email → $5.00 (docs/attribution.md, "Data-driven models: worked example")."""
    hits = [
        _hit("v1", 0, **ORGANIC),
        _hit("v1", 5, "Direct"),
        _hit("v1", 24, **EMAIL),
        _hit("v2", 1, **ORGANIC),
        _hit("v3", 48, **EMAIL),
    ]
    orders = [
        Order("stripe", "o1", BASE + timedelta(hours=24.5), Decimal("10.00"), "USD", visitor_id="v1"),
        Order("stripe", "o3", BASE + timedelta(hours=48.2), Decimal("5.00"), "USD", visitor_id="v3"),
    ]
    reset(client)
    client.command("TRUNCATE TABLE attribution_fits")
    load(client, hits, orders, [], {})
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)
    aggregator.run(SITE, WORKED, full=True)
    return aggregator


def credits_of(
    client: Any, conversion: str, model: str, source: str = "attribution_credits FINAL"
) -> list[Any]:
    return [
        (r[0], str(r[1]))
        for r in client.query(
            f"SELECT channel, attributed_revenue FROM {source} WHERE conversion_id = %(c)s AND model = %(m)s "
            "ORDER BY touch_index",
            parameters={"c": conversion, "m": model},
        ).result_rows
    ]


def test_worked_example(client: Any) -> None:
    worked_example(client)
    effects = stored_effects(client)
    # P(conversion) = 2/3; without Organic Search or Direct 1/3, without Email 0.
    for model in MARKOV_ORDERS:
        assert effects[(model, "order")] == pytest.approx(
            {"Organic Search": 0.5, "Direct": 0.5, "Email": 1.0}, abs=1e-12
        )
        assert credits_of(client, "stripe:o1", model) == [
            ("Organic Search", "2.5000"),
            ("Direct", "2.5000"),
            ("Email", "5.0000"),
        ]
        assert credits_of(client, "stripe:o3", model) == [("Email", "5.0000")]
    # R({OS, Direct, Email}) = 1, R({OS}) = 0, R({Email}) = 1: φ = 1/3, 1/3, 4/3. $10 x 1/6 = 166.67
    # cents twice and x 4/6 = 666.67: 998 rounded down, the 2 cents left to the earliest ties.
    assert effects[("shapley", "order")] == pytest.approx(
        {"Organic Search": 1 / 3, "Direct": 1 / 3, "Email": 4 / 3}, abs=1e-12
    )
    assert credits_of(client, "stripe:o1", "shapley") == [
        ("Organic Search", "1.6700"),
        ("Direct", "1.6700"),
        ("Email", "6.6600"),
    ]
    shares = dict(
        client.query(
            "SELECT channel, share FROM attribution_fits FINAL WHERE model = 'markov' "
            "AND conversion_kind = 'order' AND touches = 'all' AND channel != ''"
        ).result_rows
    )
    assert shares == pytest.approx({"Organic Search": 0.25, "Direct": 0.25, "Email": 0.5}, abs=1e-12)


def variant(client: Any, touches: str, models: tuple[str, ...]) -> str:
    from touchline.datadriven.credits import credit_parameters, credits_select

    client.command("DROP TABLE IF EXISTS variant_credits")
    client.command("CREATE TABLE variant_credits AS attribution_credits ENGINE = Memory")
    ClientSql(client).command(
        f"INSERT INTO variant_credits {credits_select(touches)}",
        {"site": SITE, "version": 1, **credit_parameters(touches, models, 7 * 86_400_000.0)},
    )
    return "variant_credits"


def test_touches_variants(client: Any) -> None:
    aggregator = worked_example(client)
    clicks = variant(client, "clicks_only", ("markov", "linear", "last_touch", "shapley"))
    # Direct is dropped from o1's path; the clicks-only fit is that of OS > Email, OS, Email:
    # RE(OS) = 1/2, RE(Email) = 1.
    assert credits_of(client, "stripe:o1", "markov", clicks) == [
        ("Organic Search", "3.3300"),
        ("Email", "6.6700"),
    ]
    assert credits_of(client, "stripe:o1", "linear", clicks) == [
        ("Organic Search", "5.0000"),
        ("Email", "5.0000"),
    ]
    assert credits_of(client, "stripe:o1", "last_touch", clicks) == [("Email", "10.0000")]
    # A paid touch takes all of its journey's credit under paid_only, whatever the model.
    load(
        client,
        [_hit("v4", 72, "Paid Search", "Google", "cpc", "gclid-1"), _hit("v4", 73, **ORGANIC)],
        [Order("stripe", "o4", BASE + timedelta(hours=73.5), Decimal("20.00"), "USD", visitor_id="v4")],
        [],
        {},
    )
    report = aggregator.run(SITE, WORKED, refit=True)
    assert report.refitted
    paid = variant(client, "paid_only", ("markov", "shapley", "first_touch", "time_decay"))
    for model in ("markov", "shapley", "first_touch", "time_decay"):
        assert credits_of(client, "stripe:o4", model, paid) == [("Paid Search", "20.0000")]


def test_all_touches_variant_equals_the_stored_rule_based_credits(client: Any) -> None:
    """The journeys-based credit SQL and the stored credits are two routes to the same numbers."""
    from touchline.aggregate.attribution import MODELS as RULE_BASED

    worked_example(client)
    table = variant(client, "all", (*RULE_BASED, *MODELS))
    columns = "conversion_id, model, touch_index, session_id, channel, credit, attributed_revenue, touch_at"
    stored = client.query(f"SELECT {columns} FROM attribution_credits FINAL ORDER BY 1, 2, 3").result_rows
    computed = client.query(f"SELECT {columns} FROM {table} ORDER BY 1, 2, 3").result_rows
    assert computed == stored


def test_too_few_journeys_credit_nothing_and_say_why(client: Any) -> None:
    from touchline.reports import engine_runner
    from touchline.reports.attribution import attribution_report

    worked_example(client)
    # The default minimum is 1,000 journeys.
    Aggregator(ClientSql(client), MemoryWatermarks()).run(SITE, AttributionSettings(), full=True)
    assert stored_credits(client) == {}
    report = attribution_report(engine_runner(client), SITE, None, None, "markov").as_dict()
    (markov,) = report["models"]
    assert markov["status"] == "too_few_journeys"
    assert markov["note"] == (
        "orders: not computed, 3 journeys with 2 conversions "
        "(the minimum is 1,000 journeys and 50 conversions)"
    )
    assert markov["rows"] == []
    linear = attribution_report(engine_runner(client), SITE, None, None, "linear").as_dict()["models"][0]
    assert linear["status"] == "ok" and linear["total"]["revenue"] == [{"currency": "USD", "amount": "15.00"}]


def test_report_cash_and_accrual(client: Any) -> None:
    from touchline.reports import engine_runner
    from touchline.reports.attribution import attribution_report

    worked_example(client)
    day = BASE.date()  # the report's days are the site's (UTC here), both ends included
    # o1 converts on day 2; its Organic Search and Direct touches were on day 1.
    cash = attribution_report(engine_runner(client), SITE, day, day, "markov", basis="cash")
    assert cash.as_dict()["models"][0]["rows"] == []
    accrual = attribution_report(engine_runner(client), SITE, day, day, "markov", basis="accrual").as_dict()[
        "models"
    ][0]
    assert {r["channel"]: r["revenue"] for r in accrual["rows"]} == {
        "Organic Search": [{"currency": "USD", "amount": "2.50"}],
        "Direct": [{"currency": "USD", "amount": "2.50"}],
    }
    everything = attribution_report(engine_runner(client), SITE, None, None, "shapley", touches="clicks_only")
    total = everything.as_dict()["models"][0]["total"]
    assert total["revenue"] == [{"currency": "USD", "amount": "15.00"}]


def test_incremental_runs_credit_new_conversions_with_the_stored_fit(client: Any) -> None:
    aggregator = worked_example(client)
    fitted = client.query("SELECT max(fitted_at) FROM attribution_fits FINAL").result_rows[0][0]
    # v2, who only browsed, now buys: an incremental run credits it with the current fit.
    load(
        client,
        [],
        [Order("stripe", "o2", BASE + timedelta(hours=2), Decimal("1.00"), "USD", visitor_id="v2")],
        [],
        {},
    )
    report = aggregator.run(SITE, WORKED)
    assert not report.refitted
    assert client.query("SELECT max(fitted_at) FROM attribution_fits FINAL").result_rows[0][0] == fitted
    assert credits_of(client, "stripe:o2", "markov") == [("Organic Search", "1.0000")]
    assert client.query("SELECT count() FROM journeys FINAL WHERE converted = 0").result_rows[0][0] == 0
    # A refit learns from the new journey set and re-credits every conversion.
    assert aggregator.run(SITE, WORKED, refit=True).refitted
    effects = stored_effects(client)[("markov", "order")]
    assert effects["Organic Search"] == pytest.approx(2 / 3, abs=1e-12)  # 1 - (1/4) / (3/4)


def test_query_api_serves_the_data_driven_models(client: Any) -> None:
    from datetime import UTC, datetime

    from touchline.query.engine import QueryEngine
    from touchline.query.model import SiteContext
    from touchline.query.sql import ClientWarehouse

    worked_example(client)
    engine = QueryEngine(ClientWarehouse(client), clock=lambda: datetime(2026, 10, 10, tzinfo=UTC))
    body = {
        "site_id": SITE,
        "metrics": ["attributed_revenue:markov", "attributed_revenue:shapley", "attributed_orders:markov_k3"],
        "date_range": ["2026-10-01", "2026-10-05"],
        "dimensions": ["visit:channel"],
    }
    response = engine.run(body, SiteContext(SITE, "s.test"))
    results = {
        r["dimensions"][0]: [m["amount"] if isinstance(m, dict) else m for m in r["metrics"]]
        for r in response["results"]
    }
    # The worked example's credits: o1 split 2.50 / 2.50 / 5.00 (Markov), 1.67 / 1.67 / 6.66
    # (Shapley); o3's $5.00 to Email under both.
    assert results == {
        "Email": ["10.00", "11.66", 1.5],
        "Organic Search": ["2.50", "1.67", 0.25],
        "Direct": ["2.50", "1.67", 0.25],
    }


def test_query_api_variants_and_the_minimum_sample_warning(client: Any) -> None:
    from datetime import UTC, datetime

    from touchline.query.engine import QueryEngine
    from touchline.query.model import SiteContext
    from touchline.query.sql import ClientWarehouse

    worked_example(client)

    def query(**extra: Any) -> dict[str, Any]:
        engine = QueryEngine(ClientWarehouse(client), clock=lambda: datetime(2026, 10, 10, tzinfo=UTC))
        body = {
            "site_id": SITE,
            "metrics": ["attributed_revenue:markov", "attributed_revenue:linear"],
            "date_range": ["2026-10-01", "2026-10-01"],
            "dimensions": ["visit:channel"],
            **extra,
        }
        return engine.run(body, SiteContext(SITE, "s.test"))

    def amounts(response: dict[str, Any]) -> dict[str, list[str]]:
        return {
            r["dimensions"][0]: [m["amount"] if isinstance(m, dict) else m for m in r["metrics"]]
            for r in response["results"]
        }

    # Day 1 holds no conversion (cash) but o1's Organic Search and Direct touches (accrual).
    assert amounts(query()) == {}
    accrual = query(include={"attribution_basis": "accrual"})
    assert amounts(accrual) == {"Organic Search": ["2.50", "3.34"], "Direct": ["2.50", "3.33"]}
    assert accrual["meta"]["attribution"] == {"touches": "all", "basis": "accrual"}
    # clicks_only drops Direct: o1 is Organic Search > Email, RE 1/2 and 1.
    clicks = query(include={"attribution_basis": "accrual", "attribution_touches": "clicks_only"})
    assert amounts(clicks) == {"Organic Search": ["3.33", "5.00"]}
    with pytest.raises(Exception, match="attribution_touches"):
        query(include={"attribution_touches": "views"})
    # Below the minimum sample the model credits nothing and the response says why.
    Aggregator(ClientSql(client), MemoryWatermarks()).run(SITE, AttributionSettings(), full=True)
    response = query(include={"attribution_basis": "accrual"})
    assert amounts(response) == {"Organic Search": [None, "3.34"], "Direct": [None, "3.33"]}
    assert response["meta"]["metric_warnings"] == {
        "attributed_revenue:markov": {
            "code": "model_not_fitted",
            "warning": "orders: not computed, 3 journeys with 2 conversions "
            "(the minimum is 1,000 journeys and 50 conversions)",
            "status": "too_few_journeys",
        }
    }


def test_query_api_variants_decay_with_the_sites_half_life(client: Any) -> None:
    """Under clicks_only, o1 is Organic Search (24.5 h before) > Email (0.5 h): with a 1-day
    half-life Organic Search weighs half as much, so $10.00 splits 3.33 / 6.67 (7 days: 4.75 / 5.25)."""
    from datetime import UTC, datetime

    from touchline.query.engine import QueryEngine
    from touchline.query.model import SiteContext
    from touchline.query.sql import ClientWarehouse

    worked_example(client)

    def time_decay(half_life_days: float) -> dict[str, str]:
        engine = QueryEngine(ClientWarehouse(client), clock=lambda: datetime(2026, 10, 10, tzinfo=UTC))
        body = {
            "site_id": SITE,
            "metrics": ["attributed_revenue:time_decay"],
            "date_range": ["2026-10-01", "2026-10-05"],
            "dimensions": ["visit:channel"],
            "include": {"attribution_touches": "clicks_only"},
        }
        site = SiteContext(SITE, "s.test", half_life_days=half_life_days)
        return {r["dimensions"][0]: r["metrics"][0]["amount"] for r in engine.run(body, site)["results"]}

    assert time_decay(1.0) == {"Organic Search": "3.33", "Email": "11.67"}
    assert time_decay(7.0) == {"Organic Search": "4.75", "Email": "10.25"}
