"""Aggregation figures: full rebuild and incremental run on 1M events, beside the Python oracle."""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import ROOT

EVENTS = 1_000_000
VISITORS = 200_000
ORDERS = 20_000
NEW_EVENTS = 10_000
SITE = "bench"
START = "2026-09-01 00:00:00"
DAYS = 60

# Each visitor (200k) has 5 hits: sessions of two hits three minutes apart, two days apart, each
# session with its own acquisition out of twelve; first visits spread over 60 days.
EVENTS_SQL = f"""
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, url,
                    hostname, pathname, referrer_source, utm_medium, utm_campaign, click_id, channel,
                    device_type, country)
SELECT generateUUIDv4(number + {{id_offset}}), '{SITE}', ts, ts,
       if(number % 25 = 0, 'goal', 'pageview'), if(number % 25 = 0, 'Signup', 'pageview'),
       concat('v', toString(v)), 'https://shop.test/', 'shop.test',
       ['/', '/pricing', '/blog', '/docs', '/buy'][number % 5 + 1],
       a.1, a.2, a.3, a.4, a.5,
       ['desktop', 'mobile', 'tablet'][v % 3 + 1], ['US', 'DE', 'FR', 'GB', 'JP'][v % 5 + 1]
FROM (
    SELECT number, number % {VISITORS} AS v, intDiv(number, {VISITORS}) + {{hit_offset}} AS k,
           toDateTime64('{START}', 3, 'UTC') + toIntervalSecond({{first_visit}})
               + toIntervalSecond(intDiv(k, 2) * 2 * 86400 + (k % 2) * 180) AS ts,
           [('', '', '', '', 'Direct'), ('Google', '', '', '', 'Organic Search'),
            ('Google', 'cpc', 'brand', 'gclid', 'Paid Search'), ('newsletter', 'email', 'nov', '', 'Email'),
            ('Facebook', '', '', '', 'Organic Social'),
            ('Facebook', 'paid_social', 'retarget', '', 'Paid Social'),
            ('ChatGPT', '', '', '', 'AI Assistants'), ('Bing', '', '', '', 'Organic Search'),
            ('', '', '', '', 'Direct'), ('', '', '', '', 'Direct'), ('partner.io', '', '', '', 'Referral'),
            ('YouTube', '', '', '', 'Organic Video')][cityHash64(v, intDiv(k, 2)) % 12 + 1] AS a
    FROM numbers({{count}}))
"""

ORDERS_SQL = f"""
INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, visitor_id, version)
SELECT '{SITE}', 'stripe', concat('pi_', toString(number)), 'paid',
       toDateTime64('{START}', 3, 'UTC')
           + toIntervalSecond(((number * 10007) % {VISITORS}) * 7919 % ({DAYS} * 86400) + 4 * 86400 + 600),
       ['USD', 'EUR', 'JPY'][number % 3 + 1],
       if(number % 3 = 2, toDecimal64(1000 + number % 9000, 4), toDecimal64((999 + number % 20000) / 100, 4)),
       concat('v', toString((number * 10007) % {VISITORS})), 1
FROM numbers({ORDERS})
"""


def run() -> list[tuple[str, str]]:
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client)
        client.command(_events(EVENTS, id_offset=0, hit_offset=0))
        client.command(ORDERS_SQL)
        settings = AttributionSettings(goals=(ConversionGoal("Signup", Decimal("5.00"), "USD"),))
        aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)
        started = time.perf_counter()
        full = aggregator.run(SITE, settings, full=True)
        full_s = time.perf_counter() - started
        time.sleep(0.01)
        # The next day's traffic: 10,000 hits by returning visitors, in new sessions.
        client.command(
            _events(
                NEW_EVENTS, id_offset=10 * EVENTS, hit_offset=0, first_visit=f"({DAYS} + 7) * 86400 + v * 4"
            )
        )
        started = time.perf_counter()
        incremental = aggregator.run(SITE, settings)
        incremental_s = time.perf_counter() - started
        oracle_s = _oracle_seconds(client, settings)
    return [
        ("events / visitors / orders", f"{EVENTS:,} / {VISITORS:,} / {ORDERS:,}"),
        ("full rebuild s (sessions + 6 models + rollups, goal <= 10)", f"{full_s:.2f}"),
        (
            "  of which sessions / attribution / rollups s",
            " / ".join(f"{full.seconds[k]:.2f}" for k in ("sessions", "attribution", "rollups")),
        ),
        (
            "  sessions / conversions / credit rows",
            f"{full.sessions:,} / {full.conversions:,} / {full.credit_rows:,}",
        ),
        (f"incremental run after {NEW_EVENTS:,} new events s (goal <= 1)", f"{incremental_s:.2f}"),
        ("  visitors / conversions re-scoped", f"{incremental.visitors:,} / {incremental.conversions:,}"),
        ("Python oracle, same data, s", f"{oracle_s:.1f}"),
        ("oracle / full rebuild", f"{oracle_s / full_s:.1f}x"),
    ]


def _events(count: int, id_offset: int, hit_offset: int, first_visit: str = "") -> str:
    return (
        EVENTS_SQL.replace("{count}", str(count))
        .replace("{id_offset}", str(id_offset))
        .replace("{hit_offset}", str(hit_offset))
        .replace("{first_visit}", first_visit or f"(v * 7919) % ({DAYS} * 86400)")
    )


def _oracle_seconds(client: Any, settings: Any) -> float:
    sys.path.insert(0, str(ROOT / "tests"))
    from attribution_oracle import Hit, Order, attribute, conversions, sessionize

    rows = client.query(
        "SELECT toString(event_id), visitor_id, timestamp, event_type, name, referrer_source, utm_medium, "
        f"utm_campaign, click_id, channel, pathname FROM events FINAL WHERE site_id = '{SITE}'"
    ).result_rows
    order_rows = client.query(
        "SELECT order_id, ordered_at, amount, currency, visitor_id FROM orders FINAL "
        f"WHERE site_id = '{SITE}'"
    ).result_rows
    started = time.perf_counter()
    hits = [
        Hit(
            r[0],
            r[1],
            r[2].replace(tzinfo=UTC) if r[2].tzinfo is None else r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            r[8],
            r[9],
            r[10],
        )
        for r in rows
    ]
    orders = [
        Order(
            "stripe",
            r[0],
            r[1].replace(tzinfo=UTC) if r[1].tzinfo is None else r[1],
            r[2],
            r[3],
            visitor_id=r[4],
        )
        for r in order_rows
    ]
    goals = {g.name: (g.value, g.currency) for g in settings.goals}
    sessions = sessionize(hits)
    attribute(sessions, conversions(hits, orders, [], {}, goals), {})
    return time.perf_counter() - started


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<70} {figure}")
