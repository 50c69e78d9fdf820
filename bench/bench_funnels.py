"""Funnel figures: a 3-step funnel (loose, strict, loose by source) on a 1M-event site, beside
the query API's visitors-by-source over the same range (the baseline, same engine, uncached).

One site with 1,000,000 hits from 100,000 visitors over 30 days (ten hits each: two sessions of
five hits on six paths, one of each visitor's ten a Signup goal), one session row per visit, on the
embedded engine. Each figure is the p50 of RUNS runs, printed with its ratio to the baseline.
`python -m bench.bench_funnels` (TOUCHLINE_BENCH_FUNNEL_EVENTS for a quick look).
"""

from __future__ import annotations

import functools
import os
import tempfile
import time
from datetime import UTC, datetime
from typing import Any

from bench.common import median_seconds

EVENTS = int(os.environ.get("TOUCHLINE_BENCH_FUNNEL_EVENTS", "1000000"))
VISITORS = max(1, EVENTS // 10)
RUNS = int(os.environ.get("TOUCHLINE_BENCH_FUNNEL_RUNS", "7"))
SITE = "funnelsite"
NOW = datetime(2026, 10, 2, tzinfo=UTC)

EVENTS_SQL = """
INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, url,
                    hostname, pathname, props)
SELECT generateUUIDv4(number), '{site}', ts, ts,
       if((v + k) % 10 = 9, 'goal', 'pageview'), if((v + k) % 10 = 9, 'Signup', 'pageview'),
       concat('v', toString(v)), 'https://f.test/', 'f.test',
       ['/', '/pricing', '/blog/a', '/docs/start', '/signup', '/thanks'][cityHash64(number) % 6 + 1],
       map('plan', ['free', 'pro'][v % 2 + 1])
FROM (SELECT number, number % {visitors} AS v, intDiv(number, {visitors}) AS k,
             toDateTime64('2026-09-01 00:00:00', 3, 'UTC') + toIntervalSecond(cityHash64(v) % (25 * 86400))
                 + toIntervalSecond(intDiv(k, 5) * 3 * 86400 + (k % 5) * 90) AS ts
      FROM numbers({events}))
"""

SESSIONS_SQL = """
INSERT INTO sessions (site_id, visitor_id, session_id, session_start, session_end, source, channel, version)
SELECT '{site}', concat('v', toString(v)), concat(toString(v), '-', toString(s)),
       toDateTime64('2026-09-01 00:00:00', 3, 'UTC') + toIntervalSecond(cityHash64(v) % (25 * 86400))
           + toIntervalSecond(s * 3 * 86400),
       toDateTime64('2026-09-01 00:00:00', 3, 'UTC') + toIntervalSecond(cityHash64(v) % (25 * 86400))
           + toIntervalSecond(s * 3 * 86400 + 400),
       ['', 'Google', 'newsletter', 'Facebook'][cityHash64(v, s) % 4 + 1], 'Direct', 1
FROM (SELECT number AS v, arrayJoin([0, 1]) AS s FROM numbers({visitors}))
"""


def run() -> list[tuple[str, str]]:
    from touchline.funnels.model import make_funnel
    from touchline.funnels.report import funnel_report
    from touchline.query.engine import QueryEngine
    from touchline.query.model import Goal, SiteContext
    from touchline.query.sql import ClientWarehouse
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as directory:
        client = connect(f"chdb://{directory}/ch")
        migrate(client, retention=3650)
        started = time.perf_counter()
        client.command(EVENTS_SQL.format(site=SITE, visitors=VISITORS, events=EVENTS))
        client.command(SESSIONS_SQL.format(site=SITE, visitors=VISITORS))
        client.command("OPTIMIZE TABLE events FINAL")
        figures.append(
            (f"load {EVENTS:,} events, {VISITORS:,} visitors", f"{time.perf_counter() - started:.1f} s")
        )

        class NoCache:
            def get(self, key: str) -> Any | None:
                return None

            def put(self, key: str, value: Any) -> None:
                return None

        engine = QueryEngine(ClientWarehouse(client), cache=NoCache(), clock=lambda: NOW)
        site = SiteContext(SITE, "f.test", goals=(Goal("Signup", "Signup"),))
        period = ["2026-09-01", "2026-09-30"]
        baseline = median_seconds(
            RUNS,
            lambda: engine.run(
                {
                    "site_id": "f.test",
                    "metrics": ["visitors"],
                    "date_range": period,
                    "dimensions": ["visit:source"],
                },
                site,
            ),
        )
        figures.append(
            ("baseline: visitors by visit:source (query API, uncached)", f"{baseline * 1000:.0f} ms")
        )
        steps = ["/", "/pricing", "Signup"]
        for label, strict, breakdown in (
            ("funnel / → /pricing → Signup, loose", False, None),
            ("the same, strict", True, None),
            ("the same, loose, by visit:source", False, "visit:source"),
        ):
            funnel = make_funnel(SITE, "bench", steps, 24, strict)
            compute = functools.partial(
                funnel_report, engine, site, funnel, date_range=period, breakdown=breakdown
            )
            report = compute()
            took = median_seconds(RUNS, compute)
            visitors = [s["visitors"] for s in report["steps"]]
            figures.append((f"{label} {visitors}", f"{took * 1000:.0f} ms ({took / baseline:.1f}x baseline)"))
    return figures


if __name__ == "__main__":
    for label, figure in run():
        print(f"  {label:<72} {figure}")
