"""Query API figures: 8 representative queries on a 5M-event site, uncached, cached and as raw SQL.

One site with 5,000,000 events, 500,000 visitors over 60 days (ten hits each: five sessions of
two hits, each session with its own acquisition, device and place), 50,000 USD orders, among 20
smaller sites (50,000 events each), on the embedded engine; sessions and all six attribution
models built by the real aggregation. For each query: p50/p95 of the engine uncached (parse,
compile, data version, SQL, render), cached, and the same SQL with the same bound parameters
run directly on the client (so `uncached / direct` is the engine's overhead). Run it alone:
`python -m bench.bench_query` (about 10 minutes here, most of it building the data).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EVENTS = int(os.environ.get("TOUCHLINE_BENCH_QUERY_EVENTS", "5000000"))
VISITORS = EVENTS // 10
ORDERS = EVENTS // 100
SMALL_SITES = 20
SMALL_EVENTS = 50_000
SITE = "bigsite"
DOMAIN = "big.example.com"
START = "2026-09-01 00:00:00"
DAYS = 60
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)  # the day after the 60 days
RUNS = int(os.environ.get("TOUCHLINE_BENCH_QUERY_RUNS", "15"))

# Each visitor: 5 sessions of 2 hits three minutes apart, 12 days apart, first visit spread over
# the first 12 days, so every day has traffic; every 25th hit is a Signup goal.
EVENTS_SQL = """
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, url,
                    hostname, pathname, referrer_source, utm_source, utm_medium, utm_campaign, click_id,
                    channel, device_type, browser, os, country, props)
SELECT generateUUIDv4(number + {id_offset}), {site}, ts, ts,
       if(number % 25 = 0, 'goal', 'pageview'), if(number % 25 = 0, 'Signup', 'pageview'),
       concat({site}, ':v', toString(v)), 'https://shop.test/', 'shop.test',
       ['/', '/pricing', '/blog/launch', '/docs/start', '/buy', '/blog/pricing-update'][number % 6 + 1],
       a.1, lower(a.1), a.2, a.3, a.4, a.5,
       ['desktop', 'mobile', 'tablet'][v % 3 + 1], ['Chrome', 'Firefox', 'Safari'][v % 3 + 1],
       ['Windows', 'Mac', 'iOS', 'Android'][v % 4 + 1],
       ['US', 'DE', 'FR', 'GB', 'JP', 'BR', 'IN', 'EE'][cityHash64(v) % 8 + 1],
       map('plan', ['free', 'pro'][v % 2 + 1])
FROM (
    SELECT number, number % {visitors} AS v, intDiv(number, {visitors}) AS k,
           toDateTime64('{start}', 3, 'UTC') + toIntervalSecond(cityHash64(v) % (12 * 86400))
               + toIntervalSecond(intDiv(k, 2) * 12 * 86400 + (k % 2) * 180) AS ts,
           [('', '', '', '', 'Direct'), ('Google', '', '', '', 'Organic Search'),
            ('Google', 'cpc', 'brand', 'gclid', 'Paid Search'), ('newsletter', 'email', 'nov', '', 'Email'),
            ('Facebook', '', '', '', 'Organic Social'),
            ('Facebook', 'paid_social', 'retarget', '', 'Paid Social'),
            ('ChatGPT', '', '', '', 'AI Assistants'), ('Bing', '', '', '', 'Organic Search'),
            ('', '', '', '', 'Direct'), ('', '', '', '', 'Direct'), ('partner.io', '', '', '', 'Referral'),
            ('YouTube', '', '', '', 'Organic Video')][cityHash64(v, intDiv(k, 2)) % 12 + 1] AS a
    FROM numbers({first}, {count}))
"""

ORDERS_SQL = """
INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, visitor_id, version)
SELECT {site}, 'stripe', concat('pi_', toString(number)), 'paid',
       toDateTime64('{start}', 3, 'UTC') + toIntervalSecond(cityHash64(number) % ({days} * 86400)),
       {currency}, toDecimal64((999 + number % 20000) / 100, 4),
       concat({site}, ':v', toString((number * 10007) % {visitors})), 1
FROM numbers({count})
"""


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


SIX_MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
D30 = {"date_range": "30d"}
AGGREGATE = {**D30, "metrics": ["visitors", "visits", "pageviews", "bounce_rate", "visit_duration"]}
MONTHLY = {"metrics": ["visitors", "pageviews"], "date_range": "12mo", "dimensions": ["time:month"]}
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("aggregate metrics, 30d", AGGREGATE),
    ("time series by day, 30d", {**D30, "metrics": ["visitors", "pageviews"], "dimensions": ["time:day"]}),
    (
        "top 10 sources, 30d",
        {
            **D30,
            "metrics": ["visitors", "visits"],
            "dimensions": ["visit:source"],
            "pagination": {"limit": 10},
        },
    ),
    (
        "pages with a contains filter, 30d",
        {
            **D30,
            "metrics": ["visitors", "pageviews"],
            "dimensions": ["event:page"],
            "filters": [["contains", "event:page", ["/blog"]]],
        },
    ),
    ("countries, 30d", {**D30, "metrics": ["visitors", "percentage"], "dimensions": ["visit:country_name"]}),
    (
        "goal conversion rate by channel, 30d",
        {
            **D30,
            "metrics": ["visitors", "conversion_rate", "group_conversion_rate"],
            "dimensions": ["visit:channel"],
            "filters": [["is", "event:goal", ["Signup"]]],
        },
    ),
    (
        "revenue by channel, all six models, 30d",
        {**D30, "metrics": [f"attributed_revenue:{m}" for m in SIX_MODELS], "dimensions": ["visit:channel"]},
    ),
    ("12-month monthly series", MONTHLY),
]


class NoCache:
    def get(self, key: str) -> Any | None:
        return None

    def put(self, key: str, value: Any) -> None:
        return None


def _emit(figures: list[tuple[str, str]], figure: tuple[str, str]) -> None:
    """Print each figure as it is measured (a run takes long; a failure keeps what came before)."""
    figures.append(figure)
    print(f"  {figure[0]:<100} {figure[1]}", flush=True)


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _build(client: Any) -> dict[str, float]:
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.sql import ClientSql

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    chunk = 1_000_000
    for first in range(0, EVENTS, chunk):
        count = min(chunk, EVENTS - first)
        sql = EVENTS_SQL.format(
            id_offset=0, site=_quote(SITE), visitors=VISITORS, start=START, first=first, count=count
        )
        client.command(sql)
    for i in range(SMALL_SITES):
        sql = EVENTS_SQL.format(
            id_offset=EVENTS + i * SMALL_EVENTS,
            site=_quote(f"small{i}"),
            visitors=SMALL_EVENTS // 10,
            start=START,
            first=0,
            count=SMALL_EVENTS,
        )
        client.command(sql)
    client.command(
        ORDERS_SQL.format(
            site=_quote(SITE), start=START, days=DAYS, currency="'USD'", visitors=VISITORS, count=ORDERS
        )
    )
    client.command("OPTIMIZE TABLE events FINAL")
    seconds["load"] = time.perf_counter() - started
    started = time.perf_counter()
    goals = (ConversionGoal("Signup"),)
    Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0).run(
        SITE, AttributionSettings(goals=goals), full=True
    )
    for table in ("sessions", "attribution_credits"):
        client.command(f"OPTIMIZE TABLE {table} FINAL")
    seconds["aggregate"] = time.perf_counter() - started
    return seconds


def run() -> list[tuple[str, str]]:
    from touchline.query.cache import MemoryCache
    from touchline.query.engine import QueryEngine, RunInfo
    from touchline.query.model import Goal, SiteContext
    from touchline.query.service import QUERY_SETTINGS
    from touchline.query.sql import ClientWarehouse
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client, retention=3650)
        build = _build(client)
        rows = client.query(
            "SELECT count(), uniqExact(visitor_id) FROM events WHERE site_id = {s:String}",
            parameters={"s": SITE},
        ).result_rows[0]
        sessions = client.query(
            "SELECT count() FROM sessions FINAL WHERE site_id = {s:String}", parameters={"s": SITE}
        ).result_rows[0][0]
        _emit(
            figures,
            (
                "data: events / visitors / sessions of the big site",
                f"{rows[0]:,} / {rows[1]:,} / {sessions:,}",
            ),
        )
        _emit(
            figures,
            (
                "load s (events of 21 sites, orders) / aggregate s (sessions + 6 models)",
                f"{build['load']:.0f} / {build['aggregate']:.0f}",
            ),
        )
        site = SiteContext(SITE, DOMAIN, "UTC", (Goal("Signup", "Signup"),))
        warehouse = ClientWarehouse(client, QUERY_SETTINGS)
        uncached = QueryEngine(warehouse, cache=NoCache(), clock=lambda: NOW)
        cached = QueryEngine(warehouse, cache=MemoryCache(), clock=lambda: NOW)
        version_ms = []
        cached_parts: dict[str, list[float]] = {"compile": [], "version": []}
        round_trip_ms = []
        for _ in range(RUNS * 4):  # the floor: one trivial statement through the same client
            started = time.perf_counter()
            client.query("SELECT 1")
            round_trip_ms.append((time.perf_counter() - started) * 1000)
        for label, body in QUERIES:
            body = {"site_id": DOMAIN, **body}
            compiled = uncached.compile(uncached.parse(body, site))
            try:
                for _ in range(2):  # warm up
                    uncached.run(body, site)
                    client.query(compiled.sql, parameters=compiled.parameters, settings=QUERY_SETTINGS)
            except Exception as exc:  # the engine's statement limit (max_execution_time)
                _emit(figures, (f"{label}: FAILED", str(exc).splitlines()[0][:120]))
                continue
            engine_ms, direct_ms, cached_ms = [], [], []
            for _ in range(RUNS):
                started = time.perf_counter()
                client.query(compiled.sql, parameters=compiled.parameters, settings=QUERY_SETTINGS)
                direct_ms.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                uncached.run(body, site)
                engine_ms.append((time.perf_counter() - started) * 1000)
            cached.run(body, site)
            for _ in range(RUNS):
                info = RunInfo()
                started = time.perf_counter()
                cached.run(body, site, info=info)
                cached_ms.append((time.perf_counter() - started) * 1000)
                assert info.cached
                cached_parts["compile"].append(info.seconds["compile"] * 1000)
                cached_parts["version"].append(info.seconds["version"] * 1000)
            started = time.perf_counter()
            from touchline.query.cache import DataVersion

            DataVersion(warehouse).current(site.site_id)
            version_ms.append((time.perf_counter() - started) * 1000)
            ratio = statistics.median(engine_ms) / statistics.median(direct_ms)
            _emit(
                figures,
                (
                    f"{label}: uncached p50/p95 ms | cached p50/p95 ms | direct SQL p50 ms | engine/direct",
                    f"{_pct(engine_ms, 0.5):.0f}/{_pct(engine_ms, 0.95):.0f} | "
                    f"{_pct(cached_ms, 0.5):.1f}/{_pct(cached_ms, 0.95):.1f} | "
                    f"{_pct(direct_ms, 0.5):.0f} | {ratio:.2f}x",
                ),
            )
        _emit(
            figures,
            (
                "data version query (data_versions, one site) median ms",
                f"{statistics.median(version_ms):.1f}",
            ),
        )
        _emit(
            figures,
            (
                "cached answers: parse+compile / data version median ms | SELECT 1 round trip median ms",
                f"{statistics.median(cached_parts['compile']):.1f} / "
                f"{statistics.median(cached_parts['version']):.1f} | {statistics.median(round_trip_ms):.1f}",
            ),
        )
    return figures


if __name__ == "__main__":
    run()
    sys.exit(0)
