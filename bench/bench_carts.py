"""Cart figures: what the cart rows add to a tracking-API call, and what judging carts costs a query.

1. Conversion (`MessageConverter.convert`, µs per call, best of 7 over 2,000 calls): a `Product
   Added` with a `cart_id` (events row + one `cart_events` line) against the same call without
   the cart id (events row only: the baseline, measured in the same run).
2. Query (ms, median of 7, embedded engine): the query API's cart metrics (`carts`,
   `abandoned_carts`, `recovered_carts`, `cart_abandonment_rate`, `abandoned_cart_value`: the
   `shopping_carts` state, identity and orders joined, status judged) over CARTS carts of five
   lines each with one order per ten carts, against a plain `count()` of the same site's
   `cart_events FINAL` lines in the same run.

`python -m bench bench_carts` (TOUCHLINE_BENCH_CARTS=… for another size).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from typing import Any

CARTS = int(os.environ.get("TOUCHLINE_BENCH_CARTS", "100000"))
SITE = "cartsite"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

LINES_SQL = """
INSERT INTO cart_events (site_id, cart_id, at, message_id, line, action, visitor_id, product_id, quantity,
                         price, price_known, currency)
SELECT {site:String}, concat('c', toString(c)), toDateTime64('2026-11-01 00:00:00', 3, 'UTC')
           + toIntervalSecond(c * 13 + k * 60), concat('m', toString(number)), 0, 'added',
       concat('v', toString(c % 50000)), concat('p', toString(cityHash64(number) % 500)), 1 + k % 3,
       toDecimal64(5 + (cityHash64(number) % 5000) / 100, 4), 1, 'USD'
FROM (SELECT number, intDiv(number, 5) AS c, number % 5 AS k FROM numbers({lines:UInt64}))
"""
ORDERS_SQL = """
INSERT INTO orders (site_id, source, order_id, payment_id, status, ordered_at, currency, amount, visitor_id,
                    version)
SELECT {site:String}, 'api', concat('o', toString(number)), concat('o', toString(number)), 'paid',
       toDateTime64('2026-11-01 00:00:00', 3, 'UTC') + toIntervalSecond(number * 130 + 40 * 3600), 'USD',
       toDecimal64(30, 4), concat('v', toString((number * 10) % 50000)), 1
FROM numbers({orders:UInt64})
"""


def _median_ms(fn: Any, runs: int = 7) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def conversion() -> tuple[float, float]:
    from touchline.enrichment import FullEnricher
    from touchline.tracking.convert import MessageConverter, SiteRef
    from touchline.tracking.enrich import ContextEnricher
    from touchline.tracking.messages import Message

    converter = MessageConverter(ContextEnricher(FullEnricher()))
    site = SiteRef(SITE, "shop.example.com")
    product = {"product_id": "507f1f77bcf86cd799439011", "sku": "G-32", "name": "Monopoly", "price": 18.99}

    def messages(with_cart: bool) -> list[Any]:
        out = []
        for i in range(2000):
            properties = {**product, "quantity": 1 + i % 3}
            if with_cart:
                properties["cart_id"] = f"cart-{i % 200}"
            raw = {
                "type": "track",
                "userId": f"u{i % 200}",
                "event": "Product Added",
                "properties": properties,
            }
            out.append((Message.model_validate(raw), f"m{i}"))
        return out

    def per_call_us(batch: list[Any]) -> float:
        best = float("inf")
        for _ in range(7):
            started = time.perf_counter()
            for message, message_id in batch:
                converter.convert(message, message_id, site, NOW)
            best = min(best, (time.perf_counter() - started) / len(batch) * 1e6)
        return best

    return per_call_us(messages(True)), per_call_us(messages(False))


def query(directory: str) -> tuple[float, float]:
    from touchline.query.engine import QueryEngine
    from touchline.query.model import SiteContext
    from touchline.query.sql import ClientWarehouse
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    client = connect(f"chdb://{directory}?database=carts_{uuid.uuid4().hex[:8]}")
    migrate(client)
    params = {"site": SITE, "lines": CARTS * 5, "orders": CARTS // 10}
    client.command(LINES_SQL, parameters=params)
    client.command(ORDERS_SQL, parameters=params)
    engine = QueryEngine(ClientWarehouse(client), clock=lambda: NOW)
    site = SiteContext(SITE, "shop.example.com")
    body = {
        "site_id": SITE,
        "date_range": ["2026-11-01", "2026-11-20"],
        "metrics": [
            "carts",
            "abandoned_carts",
            "recovered_carts",
            "cart_abandonment_rate",
            "abandoned_cart_value",
        ],
    }
    compiled = engine.compile(engine.parse(body, site))

    def cart_metrics() -> None:
        client.query(compiled.sql, parameters=compiled.parameters)

    def baseline() -> None:
        client.query("SELECT count() FROM cart_events FINAL WHERE site_id = {site:String}", parameters=params)

    answer = client.query(compiled.sql, parameters=compiled.parameters).result_rows
    print(f"  {CARTS:,} carts: {answer[0][:4]}")
    return _median_ms(cart_metrics), _median_ms(baseline)


def main() -> None:
    with_cart, without = conversion()
    print(
        f"convert Product Added: {with_cart:.1f} µs with a cart_id, {without:.1f} µs without "
        f"({with_cart / without:.2f}x)"
    )
    with tempfile.TemporaryDirectory() as directory:
        carts, lines = query(directory)
    print(f"cart metrics query: {carts:.0f} ms; count of the lines: {lines:.0f} ms ({carts / lines:.1f}x)")


if __name__ == "__main__":
    main()
