"""Commerce figures: the four jobs at 1M orders / 200k customers / 5k products / 2.5M line items,
where their time goes, the model fit's dependency cost (own BFGS vs scipy), and the CDNOW
calibration / holdout comparison through the whole pipeline."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from bench.common import ROOT

SITE = "bench"
CUSTOMERS = int(os.environ.get("BENCH_COMMERCE_CUSTOMERS", "200000"))
PRODUCTS = 5_000
AS_OF = date(2026, 11, 1)
START = "2024-11-01 00:00:00"
SPAN_DAYS = 730

# Each customer (the BG/NBD story): a first purchase day, a rate, a drop-out chance after each
# purchase; ~5 orders each on average (~1M orders). Two to three products per order on average,
# popular products far more often than the long tail.
ORDERS_SQL = f"""
INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, discount_amount,
                    customer_id_type, customer_id, version)
SELECT '{SITE}', 'api', concat('o', toString(c), '-', toString(k)), 'paid', at,
       if(c % 10 = 0, 'EUR', 'USD'),
       toDecimal64(round(spend * (0.5 + (cityHash64(c, k, 3) % 1000) / 1000), 2), 4),
       toDecimal64(if(cityHash64(c, k, 4) % 5 = 0, 5, 0), 4), 'user', concat('u', toString(c)), 1
FROM (
    SELECT c, k, spend,
           toDateTime64('{START}', 3, 'UTC') + toIntervalSecond(toInt64((first + offset) * 86400)) AS at
    FROM (
        SELECT number AS c,
               -- purchases before dropping out: geometric with the customer's own drop-out chance
               0.03 + 0.5 * pow((cityHash64(number, 7) % 1000000) / 1e6, 2) AS drop,
               toUInt32(least(60, 1 + floor(log(1 - (cityHash64(number, 5) % 999999) / 1e6)
                                              / log(1 - drop)))) AS n,
               10 + (cityHash64(number, 2) % 1000000) / 1e6 * 90 AS gap,
               20 + (cityHash64(number, 6) % 200) AS spend,
               (cityHash64(number, 1) % 1000000) / 1e6 * {SPAN_DAYS} AS first,
               -- a Poisson process: exponential gaps around the customer's mean gap
               arrayConcat([0.], arrayPopBack(arrayCumSum(arrayMap(
                   i -> -log(1 - (cityHash64(number, i, 9) % 999999) / 1e6) * gap, range(n))))) AS offsets
        FROM numbers({{customers}}))
    ARRAY JOIN offsets AS offset, range(n) AS k)
WHERE at < toDateTime64('{AS_OF}', 3, 'UTC')
"""

# The last day's 1,000 orders, by returning customers.
NEW_ORDERS_SQL = f"""
INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, customer_id_type,
                    customer_id, version)
SELECT '{SITE}', 'api', concat('new', toString(number)), 'paid',
       toDateTime64('{AS_OF}', 3, 'UTC') - toIntervalSecond(1 + number * 60), 'USD',
       toDecimal64(25 + number % 50, 4), 'user', concat('u', toString(number * 97 % {CUSTOMERS})), 2
FROM numbers(1000)
"""

LINES_SQL = f"""
INSERT INTO order_line_items (site_id, source, order_id, line_item_id, product_id, product_name, quantity,
                              unit_price, line_total, discount_amount, currency, version)
SELECT '{SITE}', 'api', order_id, toString(j), concat('p', toString(p)), concat('Product ', toString(p)),
       q, price, price * q, toDecimal64(0, 4), currency, 1
FROM (
    SELECT order_id, currency, j,
           toUInt32(floor({PRODUCTS} * pow((cityHash64(h, j) % 1000000) / 1e6, 2))) AS p,
           toUInt32(1 + cityHash64(h, j, 1) % 2) AS q, toDecimal64(5 + p % 95, 4) AS price
    FROM (SELECT order_id, currency, cityHash64(order_id) AS h FROM orders WHERE site_id = '{SITE}')
    ARRAY JOIN range(toUInt32(1 + h % 4)) AS j)
"""


def run() -> list[tuple[str, str]]:
    from touchline.commerce.run import BASKETS, PROFILES, ROLLUPS, CommerceRunner
    from touchline.commerce.run import PRODUCTS as PRODUCTS_JOB
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    figures = _Figures()
    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        client.command(ORDERS_SQL.replace("{customers}", str(CUSTOMERS)))
        client.command(LINES_SQL)
        counts = [
            int(client.query(f"SELECT {expr} FROM {table}").result_rows[0][0])
            for table, expr in (
                ("orders", "count()"),
                ("orders", "uniqExact(customer_id)"),
                ("order_line_items", "uniqExact(product_id)"),
                ("order_line_items", "count()"),
            )
        ]
        figures.append(("orders / customers / products / line items", " / ".join(f"{n:,}" for n in counts)))
        started = time.perf_counter()
        baseline = client.query(
            f"SELECT count(), sum(amount) FROM orders FINAL WHERE site_id = '{SITE}'"
        ).result_rows
        baseline_s = time.perf_counter() - started
        del baseline
        figures.append(("baseline: one pass over orders FINAL (count, sum) s", f"{baseline_s:.2f}"))
        runner = CommerceRunner(client, MemoryWatermarks(), margin_ms=0)
        separate = 0.0
        for job, goal in ((PROFILES, 20), (PRODUCTS_JOB, 10), (BASKETS, 20), (ROLLUPS, 2)):
            started = time.perf_counter()
            report = runner.run(SITE, as_of=AS_OF, jobs=(job,), full=True).jobs[0]
            took = time.perf_counter() - started
            separate += took
            figures.append(
                (f"{job} full s (goal <= {goal})", f"{took:.2f}  ({took / baseline_s:.0f}x baseline)")
            )
            figures.append(
                (
                    "  where: " + ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items()),
                    f"rows {report.rows_written:,}",
                )
            )
            if job == PROFILES:
                for model in report.detail.get("models", []):
                    figures.append(
                        (f"  model {model['currency']}: {model['status']}", str(model.get("bgnbd", "")))
                    )
        # What a scheduled run that finds every job due pays: the orders are staged once for all.
        started = time.perf_counter()
        together = runner.run(SITE, as_of=AS_OF, full=True)
        took = time.perf_counter() - started
        figures.append(
            (
                "all four jobs in one full run s (orders and lines staged once)",
                f"{took:.2f}  (one job per run: {separate:.2f}, {took / separate:.2f}x)",
            )
        )
        staging = sum(j.seconds.get("orders", 0) + j.seconds.get("lines", 0) for j in together.jobs)
        figures.append(("  of which staging s", f"{staging:.2f}"))
        # An incremental 15-minute run after the last day's 1,000 orders.
        client.command(NEW_ORDERS_SQL)
        started = time.perf_counter()
        report = runner.run(SITE, as_of=AS_OF, jobs=(ROLLUPS,)).jobs[0]
        took = time.perf_counter() - started
        figures.append(
            ("commerce_rollups incremental after the last day's 1k orders s (goal <= 2)", f"{took:.2f}")
        )
        figures.append(
            ("  where: " + ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items()), str(report.detail))
        )
        # The hourly profiles after them: only the changed customers, with the day's fit; then,
        # as the baseline, what every hourly run did before (all customers, refitted): a full run.
        started = time.perf_counter()
        report = runner.run(SITE, as_of=AS_OF, jobs=(PROFILES,), due_only=False).jobs[0]
        hourly = time.perf_counter() - started
        started = time.perf_counter()
        refit = runner.run(SITE, as_of=AS_OF, jobs=(PROFILES,), full=True).jobs[0]
        everyone = time.perf_counter() - started
        figures.append(
            (
                "commerce_profiles hourly after them s / rows written",
                f"{hourly:.2f} / {report.rows_written:,}  ({hourly / everyone:.2f}x all customers refitted)",
            )
        )
        figures.append(
            ("  where: " + ", ".join(f"{k} {v:.2f}" for k, v in report.seconds.items()), str(report.detail))
        )
        figures.append(
            (
                "  all customers refitted (the hourly run before) s / rows written",
                f"{everyone:.2f} / {refit.rows_written:,}",
            )
        )
        # chdb holds one engine per process: CDNOW gets its own database in the same one.
        cdnow = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=cdnow")
        migrate(cdnow)
        figures.extend(cdnow_holdout(cdnow))
    figures.extend(dependency_figures())
    return list(figures)


def dependency_figures() -> list[tuple[str, str]]:
    """What scipy would cost the layer, against the own implementation."""
    python = sys.executable

    def import_seconds(statement: str) -> float:
        code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        return min(float(subprocess.check_output([python, "-c", code], text=True)) for _ in range(3))

    def size(package: str) -> int:
        code = f"import {package}, os; print(os.path.dirname({package}.__file__))"
        folder = Path(subprocess.check_output([python, "-c", code], text=True).strip())
        return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

    own = import_seconds("import touchline.commerce.clv")
    scipy_s = import_seconds("import scipy.optimize, scipy.special")
    scipy_mb = (size("scipy") + size("numpy")) / 1e6
    own_kb = (ROOT / "layers/touchline/touchline/commerce/clv.py").stat().st_size / 1e3
    from lifetimes import BetaGeoFitter
    from lifetimes.datasets import load_cdnow_summary

    from touchline.commerce.clv import ListBgNbdSample, fit_bgnbd

    frame = load_cdnow_summary(index_col=[0])
    started = time.perf_counter()
    BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
    lifetimes_s = time.perf_counter() - started
    sample = ListBgNbdSample(
        list(zip(frame["frequency"].astype(int), frame["recency"], frame["T"], strict=True))
    )
    started = time.perf_counter()
    fit_bgnbd(sample, time_scale=float(frame["T"].max()) / 10)
    own_fit_s = time.perf_counter() - started
    return [
        ("layer size: scipy + numpy MB / own clv.py kB", f"{scipy_mb:.0f} / {own_kb:.0f}"),
        ("cold import: scipy.optimize+special s / own s", f"{scipy_s:.3f} / {own:.3f}"),
        ("CDNOW BG/NBD fit: lifetimes (scipy BFGS) s / own s", f"{lifetimes_s:.3f} / {own_fit_s:.3f}"),
    ]


class _Figures(list[tuple[str, str]]):
    """Figures, also printed as they come (a long run that fails late keeps what it measured)."""

    def append(self, figure: tuple[str, str]) -> None:
        print(f"  {figure[0]:<72} {figure[1]}", file=sys.stderr, flush=True)
        super().append(figure)

    def extend(self, figures: Any) -> None:
        for figure in figures:
            self.append(figure)


def cdnow_holdout(client: Any) -> list[tuple[str, str]]:
    """CDNOW through the pipeline: fit as of 1997-09-30, predicted vs actual repeat purchases in
    the 39-week holdout, per number of calibration repeat purchases."""
    sys.path.insert(0, str(ROOT / "tests"))
    from cdnow import holdout_table

    rows, params = holdout_table(client)
    figures = [("CDNOW via the pipeline: r, alpha (weeks), a, b", ", ".join(f"{v:.3f}" for v in params))]
    figures.append(("  x in calibration: customers, actual mean holdout, predicted mean", ""))
    for label, n, actual, predicted in rows:
        figures.append((f"    {label}", f"{n:5d}  {actual:6.3f}  {predicted:6.3f}"))
    return figures


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<72} {figure}")
