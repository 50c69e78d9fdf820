"""A small shop for commerce tests: customers following the BG/NBD story, two currencies."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.revenue.rows import OrderLineItemRow, OrderRow

SITE = "site1"


def load_shop(client: Any, customers: int = 150, seed: int = 7, site_id: str = SITE) -> None:
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
                    site_id=site_id,
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
                        site_id=site_id,
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
