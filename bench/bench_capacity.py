"""Capacity plan to 1M events/s (docs/performance.md): measured per-event costs, then the plan.

The simulation drives the real loader (`LoadBatch` + `ClickHouseRowSink`, the planned SQS batch
sizes) and the real incremental aggregation (two 15-minute windows of different sizes, so the
fixed and per-event parts of a run separate) on the embedded engine, then extrapolates to 1k,
10k, 100k and 1M events/s. Every extrapolated figure is a product of a measured cost and a
stated assumption (ASSUMPTIONS below); the docs copy this output, not hand arithmetic.
"""

from __future__ import annotations

import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT

RATES = (1_000, 10_000, 100_000, 1_000_000)
LOADER_BATCHES = (1_000, 10_000)  # SQS BatchSize: a quiet queue's batches, and the template's
LOADER_EVENTS = 40_000
HISTORY_EVENTS = 200_000
WINDOWS = (5_000, 20_000)  # new events in two successive incremental runs
SECONDS_PER_MONTH = 730 * 3600
# What-if, not built: the tag sends this many hits per request. Each request's rows are one SQS
# message since issue 20 (bench_sqs_requests: a 100-event tracking-API batch is one message), but
# the tag still sends one hit per request, so the collector path stays one message per hit.
PACKED = 10

ASSUMPTIONS = {
    # Lambda gives 1 vCPU at 1,769 MB; a vCPU is taken to be one core of the bench machine.
    "lambda_mb_per_vcpu": 1769,
    "collector_mb": 256,
    "loader_mb": 1024,
    # The collector waits for SQS SendMessage (p50 a few ms in-region); its CPU time is measured.
    "sqs_send_latency_s": 0.008,
    # us-east-1 list prices: arm64 Lambda, HTTP API, SQS standard (first tiers; larger tiers are cheaper).
    "lambda_gb_s_usd": 0.0000133334,
    "lambda_request_usd": 0.20e-6,
    "http_api_request_usd": 1.00e-6,
    "sqs_request_usd": 0.40e-6,
    # A self-managed ClickHouse core (general-purpose EC2 on demand, per vCPU-hour), 2 replicas.
    "clickhouse_core_hour_usd": 0.045,
    "replicas": 2,
    # Merges re-read and re-write what inserts wrote: as much CPU again as the insert itself.
    "merge_cost_per_insert_cost": 1.0,
    # Cores kept free for queries and spikes.
    "clickhouse_headroom": 0.5,
    # ClickHouse's guidance: about one insert per second per table per server.
    "inserts_per_s_per_table_guidance": 1.0,
    # Events per site-sharded shard before the plan adds one (a shard node of 16 cores).
    "cores_per_shard": 16,
    # MergeTree's parts_to_delay_insert (per partition; an insert into events touches one month).
    "parts_to_delay_insert": 1000,
}


@dataclass(frozen=True)
class Costs:
    collector_cpu_s: float  # per hit
    loader_python_s: dict[int, float]  # per event, by batch size
    loader_insert_s: dict[int, float]  # per event, ClickHouse side, by batch size
    aggregation_fixed_s: float  # per run
    aggregation_per_event_s: float


def measure(workdir: Path) -> Costs:
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from bench.bench_aggregate import SITE, _events
    from bench.bench_collector import collector_seconds_per_hit
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import ClickHouseRowSink
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate
    from touchline.warehouse.sql import ClientSql

    client = connect(f"chdb://{workdir / 'clickhouse'}?database=capacity")
    migrate(client)
    bodies = factories.envelope_bodies(LOADER_EVENTS)

    class TimedSink:
        def __init__(self) -> None:
            self.inner, self.seconds = ClickHouseRowSink(client), 0.0

        def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
            started = time.perf_counter()
            self.inner.insert_rows(table, json_rows, dedup_token)
            self.seconds += time.perf_counter() - started

    python_s: dict[int, float] = {}
    insert_s: dict[int, float] = {}
    for size in LOADER_BATCHES:
        best_total, best_insert = math.inf, math.inf
        for _ in range(2):
            client.command("TRUNCATE TABLE events")
            sink = TimedSink()
            started = time.perf_counter()
            for i in range(0, LOADER_EVENTS, size):
                batch = LoadBatch(sink)
                for body in bodies[i : i + size]:
                    batch.add(body)
                batch.flush()
            total = time.perf_counter() - started
            if total < best_total:
                best_total, best_insert = total, sink.seconds
        python_s[size] = (best_total - best_insert) / LOADER_EVENTS
        insert_s[size] = best_insert / LOADER_EVENTS
    client.command("TRUNCATE TABLE events")

    client.command(_events(HISTORY_EVENTS, id_offset=0, hit_offset=0))
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)
    aggregator.run(SITE, AttributionSettings(), full=True)
    runs: list[float] = []
    for n, new in enumerate(WINDOWS):
        time.sleep(0.01)
        client.command(
            _events(
                new,
                id_offset=(n + 1) * 10 * HISTORY_EVENTS,
                hit_offset=0,
                first_visit=f"({67 + 10 * n}) * 86400 + v * 4",
            )
        )
        started = time.perf_counter()
        aggregator.run(SITE, AttributionSettings())
        runs.append(time.perf_counter() - started)
    per_event = max((runs[1] - runs[0]) / (WINDOWS[1] - WINDOWS[0]), runs[1] / WINDOWS[1] / 10)
    fixed = max(runs[0] - per_event * WINDOWS[0], 0.0)
    return Costs(collector_seconds_per_hit(), python_s, insert_s, fixed, per_event)


@dataclass(frozen=True)
class Tier:
    rate: int
    collector_concurrency: float
    sqs_messages_s: float
    sqs_requests_s: float
    loader_batch: int
    loader_invocations_s: float
    loader_concurrency: float
    shards: int
    inserts_per_table_per_shard_s: float
    inserts_per_table_per_shard_s_routed: float
    clickhouse_cores: float
    aggregation_run_s: float
    usd_month: dict[str, float]
    usd_month_packed: float


def plan(costs: Costs, rate: int) -> Tier:
    a = ASSUMPTIONS
    collector_cpu = costs.collector_cpu_s * max(1.0, a["lambda_mb_per_vcpu"] / a["collector_mb"])
    collector_s = collector_cpu + a["sqs_send_latency_s"]
    # A quiet queue hands the loader small batches within its 1 s window; a busy one, full ones.
    batch = 1_000 if rate <= 1_000 else 10_000
    loader_event_s = costs.loader_python_s[batch] * max(1.0, a["lambda_mb_per_vcpu"] / a["loader_mb"])
    loader_event_s += costs.loader_insert_s[batch]  # the loader waits for ClickHouse
    insert_core_s = costs.loader_insert_s[batch] * (1 + a["merge_cost_per_insert_cost"])
    # Aggregation every 15 minutes: all of a window's events, spread over the shards' cores.
    work_cores = rate * (insert_core_s + costs.aggregation_per_event_s)
    cores = work_cores * (1 + a["clickhouse_headroom"])
    shards = max(1, math.ceil(cores / a["cores_per_shard"]))
    window_events_per_shard = rate * 900 / shards
    aggregation_run_s = (
        costs.aggregation_fixed_s
        + costs.aggregation_per_event_s
        * window_events_per_shard
        / (
            a["cores_per_shard"] * 0.5  # half a shard's cores for the run
        )
    )
    loader_invocations = rate / batch
    # Each batch holds many sites, so it reaches every shard: one insert per table per shard.
    inserts = loader_invocations
    routed = loader_invocations / shards  # with one queue (and loader) per shard
    month = SECONDS_PER_MONTH
    usd = {
        "http_api": rate * a["http_api_request_usd"] * month,
        "collector": rate
        * (a["lambda_request_usd"] + collector_s * a["collector_mb"] / 1024 * a["lambda_gb_s_usd"])
        * month,
        "sqs": rate * 1.2 * a["sqs_request_usd"] * month,  # send 1, receive + delete 0.1 each
        "loader": (
            loader_invocations * a["lambda_request_usd"]
            + rate * loader_event_s * a["loader_mb"] / 1024 * a["lambda_gb_s_usd"]
        )
        * month,
        "clickhouse": max(cores, 2) * a["replicas"] * a["clickhouse_core_hour_usd"] * 730,
    }
    per_request_s = PACKED * collector_cpu + a["sqs_send_latency_s"]
    packed = (
        usd["loader"]
        + usd["clickhouse"]
        + rate
        / PACKED
        * month
        * (
            a["http_api_request_usd"]
            + a["lambda_request_usd"]
            + per_request_s * a["collector_mb"] / 1024 * a["lambda_gb_s_usd"]
            + 1.2 * a["sqs_request_usd"]
        )
    )
    return Tier(
        rate=rate,
        collector_concurrency=rate * collector_s,
        sqs_messages_s=rate,
        sqs_requests_s=rate * 1.2,
        loader_batch=batch,
        loader_invocations_s=loader_invocations,
        loader_concurrency=rate * loader_event_s,
        shards=shards,
        inserts_per_table_per_shard_s=inserts,
        inserts_per_table_per_shard_s_routed=routed,
        clickhouse_cores=cores,
        aggregation_run_s=aggregation_run_s,
        usd_month=usd,
        usd_month_packed=packed,
    )


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        costs = measure(Path(tmp))
    out: list[tuple[str, str]] = [
        (
            "measured: collector CPU µs/hit (pipeline, this machine's core)",
            f"{costs.collector_cpu_s * 1e6:.1f}",
        ),
    ]
    for size in LOADER_BATCHES:
        out.append(
            (
                f"measured: loader µs/event at batch {size:,}: Python / ClickHouse insert",
                f"{costs.loader_python_s[size] * 1e6:.1f} / {costs.loader_insert_s[size] * 1e6:.1f}",
            )
        )
    ratio = costs.loader_insert_s[1_000] / costs.loader_insert_s[10_000]
    out.append(("  insert cost per event, batch 1,000 / batch 10,000", f"{ratio:.2f}x"))
    out += [
        ("measured: aggregation per incremental run, fixed s", f"{costs.aggregation_fixed_s:.2f}"),
        ("measured: aggregation µs/new event", f"{costs.aggregation_per_event_s * 1e6:.1f}"),
    ]
    for rate in RATES:
        t = plan(costs, rate)
        total = sum(t.usd_month.values())
        out += [
            (
                f"plan {rate:>9,} ev/s: collector / loader Lambda concurrency",
                f"{t.collector_concurrency:,.0f} / {t.loader_concurrency:,.1f}",
            ),
            (
                f"plan {rate:>9,} ev/s: SQS messages/s, requests/s",
                f"{t.sqs_messages_s:,.0f}, {t.sqs_requests_s:,.0f}",
            ),
            (
                f"plan {rate:>9,} ev/s: loader batch, invocations/s",
                f"{t.loader_batch:,}, {t.loader_invocations_s:,.1f}",
            ),
            (
                f"plan {rate:>9,} ev/s: shards, ClickHouse cores (x{ASSUMPTIONS['replicas']} replicas)",
                f"{t.shards}, {t.clickhouse_cores:,.1f}",
            ),
            (
                f"plan {rate:>9,} ev/s: inserts/s per table per shard (mixed / routed queues)",
                f"{t.inserts_per_table_per_shard_s:,.1f} / {t.inserts_per_table_per_shard_s_routed:,.2f}",
            ),
            (
                f"plan {rate:>9,} ev/s: parts headroom, s merges may stall (mixed / routed)",
                f"{ASSUMPTIONS['parts_to_delay_insert'] / t.inserts_per_table_per_shard_s:,.0f} / "
                f"{ASSUMPTIONS['parts_to_delay_insert'] / t.inserts_per_table_per_shard_s_routed:,.0f}",
            ),
            (f"plan {rate:>9,} ev/s: aggregation run per 15 min, s", f"{t.aggregation_run_s:,.1f}"),
            (
                f"plan {rate:>9,} ev/s: $/month API GW + collector + SQS + loader + ClickHouse",
                " + ".join(f"{v:,.0f}" for v in t.usd_month.values()) + f" = {total:,.0f}",
            ),
            (
                f"plan {rate:>9,} ev/s: $/month if {PACKED} hits per request and message (not built)",
                f"{t.usd_month_packed:,.0f}",
            ),
        ]
    return out


def _format(rows: list[tuple[str, Any]]) -> str:
    return "\n".join(f"{label:<80} {figure}" for label, figure in rows)


if __name__ == "__main__":
    print(_format(run()))
