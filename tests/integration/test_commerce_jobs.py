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
