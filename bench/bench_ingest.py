"""Ingestion figures: loader events/s into embedded ClickHouse (the collector's are bench_collector's)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.common import ROOT, best_of, load_function, timed

LOADER_EVENTS = 100_000
BATCH_SIZE = 10_000  # the template's SQS BatchSize


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


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        return bench_loader(Path(tmp))


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<70} {figure}")
