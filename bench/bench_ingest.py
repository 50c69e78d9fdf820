"""Ingestion figures: loader events/s into embedded ClickHouse, collector µs/hit, cold import."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, best_of, fresh_interpreter_ms, load_function, timed

LOADER_EVENTS = 100_000
BATCH_SIZE = 10_000  # the template's SQS BatchSize
COLLECTOR_HITS = 20_000


def _factories() -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    import factories

    return factories


def bench_loader(workdir: Path) -> list[tuple[str, str]]:
    from touchline.ingest.rows import EVENT_COLUMNS, EventRow
    from touchline.load import service
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    factories = _factories()
    url = f"chdb://{workdir / 'clickhouse'}?database=bench"
    client = connect(url)
    migrate(client)
    os.environ["TOUCHLINE_CLICKHOUSE_URL"] = url
    service.reset()
    loader = load_function("loader")
    bodies = factories.envelope_bodies(LOADER_EVENTS)
    batches = [factories.sqs_event(bodies[i : i + BATCH_SIZE]) for i in range(0, LOADER_EVENTS, BATCH_SIZE)]

    class Ctx:
        function_name = "bench"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
        aws_request_id = "bench"

    def run_loader() -> float:
        client.command("TRUNCATE TABLE events")
        return timed(lambda: [loader.handler(batch, Ctx()) for batch in batches])

    loader_s = best_of(3, run_loader)
    assert client.query("SELECT count() FROM events").result_rows[0][0] == LOADER_EVENTS

    # Baseline: the obvious way — json.loads each body into a dict, validate it, and insert
    # row-wise Python values through clickhouse-connect's native insert.
    def run_naive() -> float:
        client.command("TRUNCATE TABLE events")

        def insert_all() -> None:
            for batch in batches:
                events = [EventRow.model_validate(json.loads(r["body"])["row"]) for r in batch["Records"]]
                data = [[getattr(event, c) for c in EVENT_COLUMNS] for event in events]
                client.insert("events", data, column_names=list(EVENT_COLUMNS))

        return timed(insert_all)

    naive_s = best_of(2, run_naive)
    rate, naive_rate = LOADER_EVENTS / loader_s, LOADER_EVENTS / naive_s
    return [
        ("loader events/s (100k events, batches of 10,000 as in template, goal >= 150,000)", f"{rate:,.0f}"),
        ("loader naive row-wise insert events/s (baseline)", f"{naive_rate:,.0f}"),
        ("loader speed-up over naive", f"{rate / naive_rate:.1f}x"),
    ]


def _collector() -> tuple[Any, Any, dict[str, Any], Any]:
    """The collector pipeline on a one-site resolver and an in-memory queue, and its handler."""
    from touchline.config.sites import Site
    from touchline.ingest import service
    from touchline.ingest.collect import Collector
    from touchline.ingest.enrich import UrlEnricher
    from touchline.ingest.queue import ListQueue
    from touchline.ingest.site_cache import SiteResolver

    class OneSite:
        def by_domain(self, domain: str) -> Site | None:
            return Site("site1", domain, "") if domain == "shop.example.com" else None

    queue = ListQueue()
    service.collector.cache_clear()
    os.environ.setdefault("TOUCHLINE_CONFIG_TABLE", "bench")
    os.environ.setdefault("TOUCHLINE_EVENTS_QUEUE_URL", "bench")
    built = Collector(SiteResolver(OneSite(), ttl_seconds=3600), queue, UrlEnricher())
    service.collector = lambda: built  # type: ignore[assignment]
    app = load_function("collector")
    event = json.loads((ROOT / "events" / "collector_pageview.json").read_text())

    class Ctx:
        function_name = "bench"
        memory_limit_in_mb = 256
        invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
        aws_request_id = "bench"

    return built, app, event, Ctx()


def collector_seconds_per_hit() -> float:
    """The pipeline's CPU seconds per hit, without the handler (also bench_capacity's input)."""
    built, _, event, _ = _collector()
    for _ in range(500):
        built.collect(_incoming(event))
    core = best_of(3, lambda: timed(lambda: [built.collect(_incoming(event)) for _ in range(COLLECTOR_HITS)]))
    return core / COLLECTOR_HITS


def bench_collector() -> list[tuple[str, str]]:
    _, app, event, ctx = _collector()
    for _ in range(500):
        app.handler(event, ctx)
    per_hit = best_of(3, lambda: timed(lambda: [app.handler(event, ctx) for _ in range(COLLECTOR_HITS)]))
    core = collector_seconds_per_hit()
    return [
        (
            "collector µs/hit through the handler, URL/UTM enrichment (goal <= 150)",
            f"{per_hit / COLLECTOR_HITS * 1e6:.1f}",
        ),
        ("collector µs/hit, pipeline only (no API GW/Powertools)", f"{core * 1e6:.1f}"),
    ]


def _incoming(event: dict[str, Any]) -> Any:
    from touchline.ingest.collect import IncomingHit

    return IncomingHit(
        event["body"].encode(), event["headers"]["user-agent"], "203.0.113.7", event["headers"]
    )


IMPORT_COLLECTOR = """
import time, importlib.util, sys
t = time.perf_counter()
spec = importlib.util.spec_from_file_location('app', 'functions/collector/app.py')
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
elapsed = (time.perf_counter() - t) * 1000
heavy = [name for name in ('clickhouse_connect', 'chdb', 'stripe') if name in sys.modules]
assert not heavy, heavy
print(elapsed)
"""
FIRST_HIT_READY = IMPORT_COLLECTOR.replace(
    "elapsed =",
    "import os; os.environ.setdefault('AWS_DEFAULT_REGION', 'us-east-1')\n"
    "from touchline.aws import clients; clients.sqs(); clients.dynamodb()\nelapsed =",
)
IMPORT_BOTO3 = "import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1000)"


def bench_cold_start() -> list[tuple[str, str]]:
    collector_ms = fresh_interpreter_ms(IMPORT_COLLECTOR)
    boto3_ms = fresh_interpreter_ms(IMPORT_BOTO3)
    ready_ms = fresh_interpreter_ms(FIRST_HIT_READY)
    return [
        ("collector cold import ms, median of 5 (goal <= 400)", f"{collector_ms:.0f}"),
        ("collector import + boto3 SQS/DynamoDB clients created ms", f"{ready_ms:.0f}"),
        ("`import boto3` alone ms (for scale)", f"{boto3_ms:.0f}"),
        ("collector import / boto3 import", f"{collector_ms / boto3_ms:.2f}x"),
    ]


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        return bench_cold_start() + bench_collector() + bench_loader(Path(tmp))


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<70} {figure}")
