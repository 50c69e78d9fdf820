"""The dashboard overview's round of queries, statement by statement, on the embedded engine.

Why the overview is slow (issue 16) is a question about ClickHouse statements, so this bench
runs the very round the page sends (13 queries for "last 30 days" with the previous period, and
the round after a channel filter click) through `QueryEngine` without its result cache, on the
same data as `bench_dashboard` (1,000,000 events over 58 days, aggregated), and prints for each
statement its wall and CPU milliseconds (the embedded engine runs in this process, so its CPU is
the process's; it keeps no query_log). CPU time moves less with the machine's load than wall time.

The same-run baseline is one plain scan of the site's 30 days of events (`count()`,
`uniqExact(visitor_id)`, no FINAL): each round's CPU is printed as a multiple of it.

Each round runs twice: as the engine now compiles it, and as it compiled it before the latest
change to these statements (`old_statement`: revenue under a visit filter reading every order
credit of the site), so the change is measured and its answers compared in one run.

`python -m bench.bench_overview_sql` (a few minutes: it loads and aggregates 1M events);
`TOUCHLINE_BENCH_DASHBOARD_EVENTS=20000` for a quick look.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bench_dashboard import EVENTS, EVENTS_SQL, VISITORS

SITE = "bench-site"
DOMAIN = "bench.test"
RUNS = 3
TRAFFIC = ["visitors", "visits", "pageviews", "views_per_visit", "bounce_rate", "visit_duration"]
ANY_GOAL = ["contains", "event:goal", [""]]


def overview_round(today: date, filters: list[Any]) -> list[tuple[str, dict[str, Any]]]:
    """The 13 bodies `dashboard/src/views/overview-data.ts` sends for "30d" with comparison."""
    current = [str(today - timedelta(days=29)), str(today)]
    previous = [str(today - timedelta(days=59)), str(today - timedelta(days=30))]

    def body(range_: list[str], extra: list[Any] | None = None, **parts: Any) -> dict[str, Any]:
        out: dict[str, Any] = {"site_id": DOMAIN, "date_range": range_, **parts}
        every = [*filters, *(extra or [])]
        if every:
            out["filters"] = every
        return out

    goal = [] if any(f[1] == "event:goal" for f in filters) else [ANY_GOAL]
    money: dict[str, Any] = {
        "metrics": ["net_revenue"],
        "dimensions": ["revenue:currency"],
        "order_by": [["net_revenue", "desc"]],
    }
    chart: dict[str, Any] = {
        "metrics": ["visitors"],
        "dimensions": ["time:day"],
        "order_by": [["time:day", "asc"]],
    }

    def listing(dimension: str, metrics: list[str], limit: int) -> dict[str, Any]:
        return body(
            current,
            metrics=metrics,
            dimensions=[dimension],
            order_by=[[metrics[0], "desc"]],
            pagination={"limit": limit},
        )

    return [
        ("top stats", body(current, metrics=TRAFFIC)),
        ("top stats, previous", body(previous, metrics=TRAFFIC)),
        ("net revenue", body(current, **money)),
        ("net revenue, previous", body(previous, **money)),
        (
            "goals",
            body(
                current,
                metrics=["visitors", "events", "conversion_rate", "total_revenue"],
                dimensions=["event:goal"],
                order_by=[["visitors", "desc"]],
                pagination={"limit": 100},
            ),
        ),
        ("chart", body(current, **chart, include={"time_labels": True, "annotations": True})),
        ("chart, previous", body(previous, **chart, include={"time_labels": True})),
        ("channels", listing("visit:channel", ["visitors"], 10)),
        ("top pages", listing("event:page", ["visitors", "pageviews"], 10)),
        ("countries", listing("visit:country", ["visitors"], 250)),
        ("devices", listing("visit:device", ["visitors", "percentage"], 10)),
        ("conversion rate", body(current, goal, metrics=["conversion_rate"])),
        ("conversion rate, previous", body(previous, goal, metrics=["conversion_rate"])),
    ]


class _NoCache:
    def get(self, key: str) -> Any | None:
        return None

    def put(self, key: str, value: Any) -> None:
        return None


# The statements as they were before revenue under a visit filter read only the credits of the
# range's orders (`CompileContext.journeys_matching`: docs/query-api.md): the same round is run
# both ways in the same run, and their answers compared.
CANDIDATE_CONVERSIONS = re.compile(r" AND c\.conversion_id IN \(SELECT .*?\) AND c\.model", re.DOTALL)


def old_statement(sql: str) -> str:
    return CANDIDATE_CONVERSIONS.sub(" AND c.model", sql)


class _Measured:
    """A `Warehouse` that records each statement's wall and CPU milliseconds under `label`
    (and, with `old`, runs the statement as it was before: `old_statement`)."""

    def __init__(self, client: Any, settings: dict[str, Any]) -> None:
        self._client = client
        self._settings = settings
        self.label = ""
        self.old = False
        self.stats: dict[str, list[tuple[float, float]]] = {}
        self.rows: dict[str, list[Any]] = {}

    def select(self, sql: str, parameters: dict[str, Any]) -> tuple[list[str], list[tuple[Any, ...]]]:
        if self.old:
            sql = old_statement(sql)
        cpu, wall = _cpu(), time.perf_counter()
        result = self._client.query(sql, parameters=parameters, settings=self._settings)
        figures = ((time.perf_counter() - wall) * 1000, (_cpu() - cpu) * 1000)
        self.stats.setdefault(self.label, []).append(figures)
        rows = [tuple(r) for r in result.result_rows]
        self.rows.setdefault(self.label, []).append(rows)
        return list(result.column_names), rows


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _build(client: Any) -> None:
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings, ConversionGoal
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.sql import ClientSql

    client.command(EVENTS_SQL.format(site=SITE, visitors=VISITORS, events=EVENTS))
    settings = AttributionSettings(goals=(ConversionGoal("Signup"),))
    Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0).run(SITE, settings, full=True)


def run() -> list[tuple[str, str]]:
    from touchline.query.engine import QueryEngine
    from touchline.query.errors import QueryError
    from touchline.query.model import Goal, SiteContext
    from touchline.query.service import QUERY_SETTINGS
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    figures: list[tuple[str, str]] = []

    def show(label: str, figure: str) -> None:
        figures.append((label, figure))
        print(f"  {label:<60} {figure}", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        client = connect(f"chdb://{Path(tmp) / 'clickhouse'}?database=bench")
        migrate(client, retention=3650)
        started = time.perf_counter()
        _build(client)
        show(f"load and aggregate {EVENTS:,} events", f"{time.perf_counter() - started:.0f} s")
        sessions = client.query(
            "SELECT count() FROM sessions FINAL WHERE site_id = {s:String}", parameters={"s": SITE}
        ).result_rows[0][0]
        show("sessions", f"{sessions:,}")
        warehouse = _Measured(client, dict(QUERY_SETTINGS))
        engine = QueryEngine(warehouse, cache=_NoCache())
        site = SiteContext(SITE, DOMAIN, "UTC", (Goal("Signup", "Signup"),))
        today = datetime.now(UTC).date()
        baseline = (
            "SELECT count(), uniqExact(visitor_id) FROM events WHERE site_id = {s:String} "
            "AND timestamp >= now64(3, 'UTC') - INTERVAL 30 DAY"
        )
        rounds = {
            "overview": overview_round(today, []),
            "channel filter": overview_round(today, [["is", "visit:channel", ["Email"]]]),
        }
        for run_no in range(RUNS + 1):  # the first run warms ClickHouse's caches
            warehouse.label = "baseline" if run_no else "warm-up"
            warehouse.select(baseline, {"s": SITE})
            warehouse.label = "data version" if run_no else "warm-up"
            # Read once per run and handed to every query, as a batch does: a read inside each
            # `run` would be recorded under that query's label and halve its median.
            version = engine.data_version(SITE)
            for old in (True, False):
                warehouse.old = old
                for name, bodies in rounds.items():
                    for label, body in bodies:
                        tag = f"{'before' if old else 'now'}: {name}"
                        warehouse.label = f"{tag}|{label}" if run_no else "warm-up"
                        with contextlib.suppress(QueryError):  # a refused query is in the page's round too
                            engine.run(body, site, version=version)
            warehouse.old = False
        stats = warehouse.stats
        # Each statement's answers, before and now, in every run: the change keeps them identical.
        differ = [
            key
            for key, rows in warehouse.rows.items()
            if key.startswith("now: ") and rows != warehouse.rows.get("before: " + key[5:])
        ]
        show("statements whose answers differ before / now", f"{len(differ)} {differ if differ else ''}")

        def median(label: str, i: int) -> float:
            return statistics.median(s[i] for s in stats.get(label, [(0.0, 0.0)]))

        base_cpu = max(median("baseline", 1), 0.001)
        show("load average (1 min)", f"{os.getloadavg()[0]:.2f}")
        show(
            "baseline scan (30d of events, no FINAL): wall / CPU ms",
            f"{median('baseline', 0):.0f} / {base_cpu:.0f}",
        )
        show(
            "data version read: wall / CPU ms",
            f"{median('data version', 0):.1f} / {median('data version', 1):.1f}",
        )
        for name, bodies in ((f"{tag}: {n}", b) for n, b in rounds.items() for tag in ("before", "now")):
            total_wall = total_cpu = 0.0
            for label, _ in bodies:
                key = f"{name}|{label}"
                wall, cpu = median(key, 0), median(key, 1)
                total_wall, total_cpu = total_wall + wall, total_cpu + cpu
                show(f"{name}: {label}", f"{wall:.0f} ms, CPU {cpu:.0f} ms")
            show(
                f"{name}: the round, summed (wall / CPU ms, CPU / baseline)",
                f"{total_wall:.0f} / {total_cpu:.0f}, {total_cpu / base_cpu:.1f}x",
            )
    return figures


if __name__ == "__main__":
    run()
    sys.exit(0)
