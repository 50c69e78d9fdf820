"""The commerce jobs on the embedded ClickHouse: every table filled, cadences, idempotence."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from touchline.commerce.models import ModelSettings
from touchline.commerce.run import BASKETS, PROFILES, ROLLUPS, CommerceRunner, CommerceSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue.rows import OrderLineItemRow, OrderRow
from touchline.warehouse.client import connect

SITE = "site1"
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


def load_shop(client: Any, customers: int = 150, seed: int = 7) -> None:
    """Customers who buy at their own rate and drop out after a purchase with some chance
    (the BG/NBD story), two to three products per order, USD and EUR."""
    rng = random.Random(seed)
    order_rows: list[str] = []
    line_rows: list[str] = []
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for customer in range(customers):
        currency = "EUR" if customer % 3 == 0 else "USD"
        rate, drop = rng.gammavariate(1.5, 1 / 30), rng.betavariate(1.0, 3.0)
        spend_scale = rng.gammavariate(3.0, 20.0)  # Gamma-Gamma: each customer's own typical spend
        at = start + timedelta(days=rng.uniform(0, 250))
        while at < datetime(2026, 11, 1, tzinfo=UTC):
            number = len(order_rows)
            order_rows.append(
                OrderRow(
                    site_id=SITE,
                    source="api",
                    order_id=f"o{number}",
                    status="paid",
                    ordered_at=at,
                    currency=currency,
                    amount=Decimal(f"{rng.gammavariate(4.0, spend_scale / 4):.2f}"),
                    customer_id_type="user",
                    customer_id=f"u{customer}",
                    version=1,
                ).to_json()
            )
            for line in range(rng.randrange(1, 4)):
                product = rng.randrange(10)
                line_rows.append(
                    OrderLineItemRow(
                        site_id=SITE,
                        source="api",
                        order_id=f"o{number}",
                        line_item_id=str(line),
                        product_id=f"p{product}",
                        product_name=f"Product {product}",
                        quantity=rng.randrange(1, 3),
                        unit_price=Decimal("10.00"),
                        line_total=Decimal("10.00"),
                        currency=currency,
                        version=1,
                    ).to_json()
                )
            if rng.random() < drop:
                break
            at += timedelta(days=rng.expovariate(rate))
    sink = ClickHouseRowSink(client)
    sink.insert_rows("orders", order_rows, uuid.uuid4().hex)
    sink.insert_rows("order_line_items", line_rows, uuid.uuid4().hex)


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
