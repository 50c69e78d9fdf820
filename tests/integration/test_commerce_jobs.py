"""The commerce jobs on the embedded ClickHouse: every table filled, cadences, idempotence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from commerce_shop import SITE, load_shop
from touchline.commerce.models import ModelSettings
from touchline.commerce.run import BASKETS, PROFILES, ROLLUPS, CommerceRunner, CommerceSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.warehouse.client import connect

AS_OF = date(2026, 11, 1)
SETTINGS = CommerceSettings(models=ModelSettings(min_customers=5, min_repeat_customers=3))
TABLES = (
    "customer_profiles",
    "customer_models",
    "products_master",
    "product_relationships",
    "account_metrics_daily",
)


@pytest.fixture
def client(warehouse_url: str) -> Iterator[Any]:
    yield connect(warehouse_url)


def counts(client: Any) -> dict[str, int]:
    return {t: int(client.query(f"SELECT count() FROM {t} FINAL").result_rows[0][0]) for t in TABLES}


def test_every_table_is_filled_and_a_rerun_changes_nothing(client: Any) -> None:
    load_shop(client)
    runner = CommerceRunner(client, MemoryWatermarks(), margin_ms=0)
    first = runner.run(SITE, SETTINGS, as_of=AS_OF)
    assert all(job.ran for job in first.jobs)
    filled = counts(client)
    assert all(n > 0 for n in filled.values()), filled
    assert filled["customer_profiles"] == 150
    models = client.query("SELECT currency, status FROM customer_models FINAL ORDER BY currency").result_rows
    assert models == [("EUR", "fitted"), ("USD", "fitted")]
    # Nothing new: the whole-table jobs rewrite nothing, even when forced to run.
    again = runner.run(SITE, SETTINGS, as_of=AS_OF, full=True)
    written = {job.job: job.rows_written for job in again.jobs}
    assert written[PROFILES] == 0 and written[BASKETS] == 0, written
    assert counts(client) == filled


def test_cadences_skip_jobs_that_are_not_due(client: Any) -> None:
    load_shop(client, customers=20)
    watermarks = MemoryWatermarks()
    runner = CommerceRunner(client, watermarks, margin_ms=0)
    runner.run(SITE, SETTINGS, as_of=AS_OF)
    second = {job.job: job.reason for job in runner.run(SITE, SETTINGS, as_of=AS_OF).jobs}
    assert second[ROLLUPS] == "changed"  # every run looks for changed days
    assert second[PROFILES] == second[BASKETS] == "not due"


def test_the_hourly_profiles_recompute_only_the_customers_who_ordered(client: Any) -> None:
    """Between two daily fits: a new order and a refund touch two customers; the run predicts them
    with the day's stored fit, rescores everyone, and writes only rows that changed."""
    client.command("TRUNCATE TABLE customer_profiles")
    client.command("TRUNCATE TABLE customer_models")
    load_shop(client, customers=60, seed=11)
    runner = CommerceRunner(client, MemoryWatermarks(), margin_ms=0)
    runner.run(SITE, SETTINGS, as_of=AS_OF, jobs=(PROFILES,))
    fit = client.query("SELECT r, alpha, a, b FROM customer_models FINAL ORDER BY currency").result_rows
    assert len(fit) == 2
    client.command(
        "INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, "
        f"customer_id_type, customer_id, version) VALUES ('{SITE}', 'api', 'late1', 'paid', "
        "'2026-10-31 12:00:00', 'USD', 40, 'user', 'u1', 2)"
    )
    client.command(
        "INSERT INTO refunds (site_id, source, refund_id, order_id, payment_id, kind, refunded_at, "
        f"currency, amount, version) VALUES ('{SITE}', 'api', 'rf1', 'o0', 'o0', 'refund', "
        "'2026-10-31 13:00:00', 'EUR', 1, 2)"
    )
    before = {
        r[0]: r[1:]
        for r in client.query(
            "SELECT person_id, total_orders, net_revenue, p_alive FROM customer_profiles FINAL"
        ).result_rows
    }
    job = runner.run(SITE, SETTINGS, as_of=AS_OF, jobs=(PROFILES,), due_only=False).jobs[0]
    assert job.reason == "changed" and job.detail["fit"] == "today's", job.detail
    assert job.detail["recomputed"] == 2 and job.detail["customers"] == len(before)
    # The day's fit is kept; the late order's customer has one order more.
    assert (
        client.query("SELECT r, alpha, a, b FROM customer_models FINAL ORDER BY currency").result_rows == fit
    )
    after = {
        r[0]: r[1:]
        for r in client.query(
            "SELECT person_id, total_orders, net_revenue, p_alive FROM customer_profiles FINAL"
        ).result_rows
    }
    assert after["user:u1"][0] == before["user:u1"][0] + 1
    unchanged = [p for p in before if p not in ("user:u1", "user:u0") and after[p] != before[p]]
    assert unchanged == []
    assert job.rows_written < len(before) // 2
