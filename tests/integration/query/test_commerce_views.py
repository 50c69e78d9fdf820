"""The query API's commerce views: what the dashboard's Customers and Products pages draw."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from commerce_shop import SITE, load_shop
from touchline.commerce.models import ModelSettings
from touchline.commerce.run import CommerceRunner, CommerceSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.query.engine import QueryEngine
from touchline.query.errors import QueryError
from touchline.query.model import SiteContext
from touchline.query.sql import ClientWarehouse
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate

AS_OF = date(2026, 11, 1)


@pytest.fixture(scope="module")
def shop(chdb_path: Path) -> tuple[Any, QueryEngine, SiteContext]:
    client = connect(f"chdb://{chdb_path}?database=cv_{uuid.uuid4().hex[:10]}")
    migrate(client)
    load_shop(client)
    settings = CommerceSettings(models=ModelSettings(min_customers=5, min_repeat_customers=3))
    CommerceRunner(client, MemoryWatermarks()).run(SITE, settings, as_of=AS_OF)
    engine = QueryEngine(ClientWarehouse(client), clock=lambda: datetime(2026, 11, 1, tzinfo=UTC))
    return client, engine, SiteContext(SITE, "shop.example.com", "UTC", ())


def run(shop: tuple[Any, QueryEngine, SiteContext], **body: Any) -> list[dict[str, Any]]:
    _, engine, site = shop
    results: list[dict[str, Any]] = engine.run({"site_id": SITE, "date_range": "all", **body}, site)[
        "results"
    ]
    return results


def scalar(client: Any, sql: str) -> Any:
    return client.query(sql).result_rows[0][0]


def test_segment_sizes_and_revenue(shop: tuple[Any, QueryEngine, SiteContext]) -> None:
    client = shop[0]
    rows = run(
        shop,
        metrics=["customers", "customer_net_revenue"],
        dimensions=["customer:segment"],
        filters=[["is", "customer:currency", ["USD"]]],
    )
    assert sum(r["metrics"][0] for r in rows) == scalar(
        client, "SELECT count() FROM customer_profiles FINAL WHERE currency = 'USD'"
    )
    total = sum(float(r["metrics"][1]["amount"]) for r in rows)
    expected = scalar(client, "SELECT sum(net_revenue) FROM customer_profiles FINAL WHERE currency = 'USD'")
    assert total == pytest.approx(float(expected))


def test_rfm_grid_and_churn_risk_list(shop: tuple[Any, QueryEngine, SiteContext]) -> None:
    grid = run(shop, metrics=["customers"], dimensions=["customer:recency_score", "customer:fm_score"])
    assert {tuple(r["dimensions"]) for r in grid} <= {
        (str(r), str(f)) for r in range(1, 6) for f in range(1, 6)
    }
    page = run(
        shop,
        metrics=["churn_risk", "predicted_clv_12m"],
        dimensions=["customer:id"],
        filters=[["is", "customer:currency", ["USD"]]],
        order_by=[["churn_risk", "desc"]],
        pagination={"limit": 5, "offset": 5},
    )
    risks = [r["metrics"][0] for r in page]
    assert len(page) == 5 and risks == sorted(risks, reverse=True)
    first = run(
        shop,
        metrics=["churn_risk"],
        dimensions=["customer:id"],
        filters=[["is", "customer:currency", ["USD"]]],
        order_by=[["churn_risk", "desc"]],
        pagination={"limit": 5},
    )
    assert min(r["metrics"][0] for r in first) >= max(risks)


def test_top_products_trends_and_bought_together(shop: tuple[Any, QueryEngine, SiteContext]) -> None:
    top = run(
        shop,
        metrics=["product_quantity_90d", "product_revenue_90d"],
        dimensions=["product:id", "product:name"],
        filters=[["is", "product:currency", ["USD"]]],
        order_by=[["product_quantity_90d", "desc"]],
        pagination={"limit": 3},
    )
    assert len(top) == 3 and top[0]["metrics"][0] >= top[-1]["metrics"][0]
    trend = run(
        shop,
        metrics=["sales_units"],
        dimensions=["time:month"],
        filters=[["is", "product:id", ["p1"]]],
        date_range=["2026-01-01", "2026-10-31"],
    )
    units = scalar(
        shop[0],
        "SELECT sum(quantity) FROM order_line_items FINAL WHERE product_id = 'p1' AND (source, order_id) IN "
        "(SELECT source, order_id FROM orders FINAL WHERE ordered_at < '2026-11-01')",
    )
    assert sum(r["metrics"][0] for r in trend) == units
    together = run(
        shop,
        metrics=["co_purchases", "basket_lift"],
        dimensions=["basket:product_b"],
        filters=[["is", "basket:product_a", ["p1"]]],
        order_by=[["basket_lift", "desc"]],
    )
    assert together and all(r["dimensions"][0] != "p1" for r in together)


def test_views_refuse_dimensions_of_other_tables(shop: tuple[Any, QueryEngine, SiteContext]) -> None:
    with pytest.raises(QueryError):
        run(shop, metrics=["customers"], dimensions=["product:id"])
