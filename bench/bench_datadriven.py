"""Data-driven attribution figures: fitting Markov (k = 1…3) and Shapley on 1M events / 200k
visitors / 20k orders and their non-converting journeys, including the path aggregation in
ClickHouse, then on 10x the journeys; on-demand variant credits beside the stored ones.

The 10x case copies every journey ten times under new ids (sessionising 10M events is the rule-
based bench's job, not this one's): the path aggregation reads ten times the rows, the fits see
the same distinct paths with ten times the counts.
"""

from __future__ import annotations

import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.bench_aggregate import EVENTS, ORDERS, ORDERS_SQL, SITE, VISITORS, _events

COPIES = 10
BIG = "bench10x"


def run() -> list[tuple[str, str]]:
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal, Thresholds
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.datadriven.credits import credit_parameters, credits_select
    from touchline.datadriven.fit import fit_site
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        client.command(_events(EVENTS, id_offset=0, hit_offset=0))
        client.command(ORDERS_SQL)
        settings = AttributionSettings(goals=(ConversionGoal("Signup", Decimal("5.00"), "USD"),))
        started = time.perf_counter()
        full = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0).run(SITE, settings, full=True)
        full_s = time.perf_counter() - started
        client.command(
            f"""INSERT INTO journeys SELECT * REPLACE ('{BIG}' AS site_id,
                    concat(journey_id, '#', toString(copy)) AS journey_id,
                    concat(person_id, '#', toString(copy)) AS person_id)
                FROM (SELECT * FROM journeys FINAL WHERE site_id = '{SITE}')
                ARRAY JOIN range({COPIES}) AS copy"""
        )

        def rows(sql: str, parameters: dict[str, Any]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in client.query(sql, parameters=parameters).result_rows]

        thresholds = Thresholds()
        figures: dict[tuple[str, str], tuple[float, float]] = {}
        for site in (SITE, BIG):
            for model in ("markov", "markov_k2", "markov_k3", "shapley"):
                seconds, fit_s = _fit(rows, site, model, thresholds, fit_site)
                figures[(site, model)] = (seconds, fit_s)
        scan_s = _best(lambda: client.query(f"SELECT count() FROM journeys FINAL WHERE site_id = '{SITE}'"))
        journeys = client.query(f"SELECT count() FROM journeys FINAL WHERE site_id = '{SITE}'").result_rows[
            0
        ][0]
        paths = client.query(
            f"SELECT uniqExact(channels) FROM journeys FINAL WHERE site_id = '{SITE}' AND touch_count > 0"
        ).result_rows[0][0]
        variant_models = ("markov", "shapley", "linear")
        parameters = {
            "site": SITE,
            "version": 0,
            **credit_parameters("paid_only", variant_models, 7 * 86_400_000.0),
        }
        stored_s = _best(
            lambda: client.query(
                "SELECT model, channel, currency, sum(attributed_revenue) FROM attribution_credits FINAL "
                f"WHERE site_id = '{SITE}' GROUP BY model, channel, currency"
            )
        )
        variant_s = _best(
            lambda: client.query(
                "SELECT model, channel, currency, sum(attributed_revenue) "
                f"FROM ({credits_select('paid_only')}) "
                "GROUP BY model, channel, currency",
                parameters=parameters,
            )
        )
    result = [
        ("events / visitors / orders", f"{EVENTS:,} / {VISITORS:,} / {ORDERS:,}"),
        ("journeys (converted + not) / distinct paths", f"{journeys:,} / {paths:,}"),
        ("full aggregation s (rule-based + journeys + all fits + credits)", f"{full_s:.2f}"),
        (
            "  of which journeys / data-driven (3 variants x 4 models x 2 kinds) s",
            f"{full.seconds['journeys']:.2f} / {full.seconds['data_driven']:.2f}",
        ),
        ("baseline: scan journeys FINAL s", f"{scan_s:.3f}"),
    ]
    for model, goal in (
        ("markov", " (goal <= 5)"),
        ("shapley", " (goal <= 5)"),
        ("markov_k2", ""),
        ("markov_k3", ""),
    ):
        seconds, fit_s = figures[(SITE, model)]
        big_s, big_fit_s = figures[(BIG, model)]
        result.append(
            (
                f"{model}: paths in ClickHouse + fit s{goal}",
                f"{seconds:.2f} (fit {fit_s:.2f}; {seconds / scan_s:.0f}x the scan)",
            )
        )
        result.append(
            (f"  with {COPIES}x the journeys s", f"{big_s:.2f} (fit {big_fit_s:.2f}; {big_s / seconds:.1f}x)")
        )
    result.append(("stored credits by channel, 10 models s", f"{stored_s:.3f}"))
    result.append(
        (
            "paid_only credits on demand (markov, shapley, linear) s",
            f"{variant_s:.3f} ({variant_s / stored_s:.1f}x)",
        )
    )
    return result


def _fit(rows: Any, site: str, model: str, thresholds: Any, fit_site: Any) -> tuple[float, float]:
    """Best of two: the path aggregation and one model's fit for orders, and the fit alone."""
    best = (float("inf"), float("inf"))
    for _ in range(2):
        started = time.perf_counter()
        (fit,) = fit_site(rows, site, "all", thresholds, models=(model,), kinds=("order",))
        best = min(best, (time.perf_counter() - started, fit.seconds))
        assert fit.ok, fit.status
    return best


def _best(action: Any, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return min(times)


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<72} {figure}")
