"""The `goal.completed` source's read each minute (touchline.outgoing_webhooks.sources.GoalCompleted)
on a site with EVENTS hits over the last 30 days (a session per visitor, one in twenty with an
order), beside the query API's visitors-by-source over the same 30 days (the baseline, same
engine, uncached), and the same rows read with `revenue_after` (what the source skips).

The site's hits (ten per visitor, one in ten a Signup goal, the same shape as bench_funnels) are
stored first; then one minute's worth of new hits (MINUTE, a tenth of them goals) arrives, and
the source reads the window holding it, as the dispatcher does every minute: the hits stored in
the window, looked for among those timestamped in the 7 days before it. Each figure is the p50 of
RUNS runs with its ratio to the baseline. `python -m bench.bench_goal_webhooks`
(TOUCHLINE_BENCH_GOAL_EVENTS for a quick look).
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import median_seconds

EVENTS = int(os.environ.get("TOUCHLINE_BENCH_GOAL_EVENTS", "1000000"))
MINUTE = int(os.environ.get("TOUCHLINE_BENCH_GOAL_MINUTE", "2000"))
VISITORS = max(1, EVENTS // 10)
RUNS = int(os.environ.get("TOUCHLINE_BENCH_GOAL_RUNS", "7"))
SITE = "goalsite"

# `{start}`: the first hit's time (Unix seconds), hits spread over the following `{span}` seconds.
EVENTS_SQL = """
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, url,
                    hostname, pathname, props)
SELECT generateUUIDv4(number), '{site}', ts, ts,
       if((v + k) % 10 = 9, 'goal', 'pageview'), if((v + k) % 10 = 9, 'Signup', 'pageview'),
       concat('{prefix}', toString(v)), 'https://g.test/', 'g.test',
       ['/', '/pricing', '/blog/a', '/docs/start', '/signup', '/thanks'][cityHash64(number) % 6 + 1],
       map('plan', ['free', 'pro'][v % 2 + 1])
FROM (SELECT number, number % {visitors} AS v, intDiv(number, {visitors}) AS k,
             toDateTime64({start}, 3, 'UTC') + toIntervalSecond(cityHash64(v, number) % {span}) AS ts
      FROM numbers({events}))
"""

# One visitor in twenty orders once (what revenue_after joins).
ORDERS_SQL = """
INSERT INTO orders (site_id, source, order_id, status, ordered_at, currency, amount, visitor_id, version)
SELECT '{site}', 'stripe', concat('o', toString(number)), 'paid',
       toDateTime64({start}, 3, 'UTC') + toIntervalSecond(cityHash64(number, 7) % {span}), 'EUR',
       toDecimal64(10 + number % 90, 2), concat('v', toString(number * 20)), 1
FROM numbers(intDiv({visitors}, 20))
"""

SESSIONS_SQL = """
INSERT INTO sessions (site_id, visitor_id, session_id, session_start, session_end, source, channel, version)
SELECT '{site}', concat('v', toString(number)), toString(number),
       toDateTime64({start}, 3, 'UTC') + toIntervalSecond(cityHash64(number) % {span}),
       toDateTime64({start}, 3, 'UTC') + toIntervalSecond(cityHash64(number) % {span} + 400),
       ['', 'Google', 'newsletter'][number % 3 + 1], 'Direct', 1
FROM numbers({visitors})
"""


def run() -> list[tuple[str, str]]:
    from touchline.config.attribution_settings import AttributionSettings
    from touchline.goals.conversions import goal_conversions
    from touchline.goals.definition import make_goal
    from touchline.outgoing_webhooks.sources import GoalCompleted
    from touchline.query.engine import QueryEngine
    from touchline.query.model import Goal, SiteContext
    from touchline.query.sql import ClientWarehouse
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    figures: list[tuple[str, str]] = []
    now = int(time.time())
    with tempfile.TemporaryDirectory() as directory:
        client = connect(f"chdb://{directory}/ch")
        migrate(client, retention=3650)
        started = time.perf_counter()
        client.command(
            EVENTS_SQL.format(
                site=SITE,
                prefix="v",
                visitors=VISITORS,
                events=EVENTS,
                start=now - 30 * 86400,
                span=30 * 86400,
            )
        )
        client.command(
            SESSIONS_SQL.format(site=SITE, visitors=VISITORS, start=now - 30 * 86400, span=30 * 86400)
        )
        client.command("OPTIMIZE TABLE events FINAL")
        figures.append(
            (
                f"load {EVENTS:,} events over 30 days, {VISITORS:,} visitors",
                f"{time.perf_counter() - started:.1f} s",
            )
        )
        time.sleep(0.01)
        since = int(time.time() * 1000)
        time.sleep(0.01)
        client.command(
            EVENTS_SQL.format(
                site=SITE, prefix="n", visitors=max(1, MINUTE // 10), events=MINUTE, start=now - 60, span=60
            )
        )
        time.sleep(0.01)
        until = int(time.time() * 1000)

        class NoCache:
            def get(self, key: str) -> Any | None:
                return None

            def put(self, key: str, value: Any) -> None:
                return None

        engine = QueryEngine(ClientWarehouse(client), cache=NoCache())
        site = SiteContext(SITE, "g.test", goals=(Goal("Signup", "Signup"),))
        baseline = median_seconds(
            RUNS,
            lambda: engine.run(
                {
                    "site_id": "g.test",
                    "metrics": ["visitors"],
                    "date_range": "30d",
                    "dimensions": ["visit:source"],
                },
                site,
            ),
        )
        figures.append(
            ("baseline: visitors by visit:source, 30d (query API, uncached)", f"{baseline * 1000:.0f} ms")
        )
        settings = AttributionSettings(
            goals=(
                make_goal("Signup"),
                make_goal("Pricing", track_method="page_url", page_pattern="/pricing"),
            )
        )
        source = GoalCompleted(lambda _: settings, lambda _: until + 60_000, settle_ms=0)
        sql = ClientSql(client)
        events = source.read(sql, SITE, since, until)
        took = median_seconds(RUNS, lambda: source.read(sql, SITE, since, until))
        figures.append(
            (
                f"goal.completed: one minute's {MINUTE:,} new hits -> {len(events):,} events",
                f"{took * 1000:.0f} ms ({took / baseline:.2f}x baseline)",
            )
        )
        rows = list(source.rows(sql, SITE, since, until))
        assert len(rows) == len(events)

        def at(ms: int) -> datetime:
            return datetime.fromtimestamp(ms / 1000, UTC)

        with_revenue = median_seconds(
            RUNS,
            lambda: goal_conversions(
                sql,
                SITE,
                settings,
                at(since - 7 * 86_400_000),
                at(until + 120_000),
                inserted_since=at(since + 1),
                inserted_until=at(until),
            ),
        )
        figures.append(
            (
                "the same rows with revenue_after (orders joined, as the conversions API reads)",
                f"{with_revenue * 1000:.0f} ms ({with_revenue / baseline:.2f}x baseline)",
            )
        )
        empty = median_seconds(RUNS, lambda: source.read(sql, SITE, until, until + 60_000))
        figures.append(
            ("goal.completed: a minute with no new hits", f"{empty * 1000:.0f} ms ({empty / baseline:.2f}x)")
        )
    return figures


if __name__ == "__main__":
    for label, figure in run():
        print(f"  {label:<72} {figure}")
