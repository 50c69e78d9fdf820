"""Capacity plan to 1M events/s (docs/performance.md): measured costs, then the plan as tables.

The simulation measures, on this machine:
- the SQS messages of the real producers, packed as they ship (`SqsEventQueue.send`: one message
  per request): the collector's hits and the tracking API's 100-event batches
  (bench_sqs_requests' pipelines), their billed requests per event, and the size of each as a
  record of Lambda's SQS event, which decides how many events one loader invocation gets
  (BatchSize and Lambda's 6 MB payload limit, both read from template.yaml);
- the real loader (`LoadBatch` + `ClickHouseRowSink`) at exactly the batch sizes the plan uses;
- the real incremental aggregation (two 15-minute windows of different sizes after a history, so
  a run's fixed cost and its cost per new event separate);
- the collector pipeline's CPU per hit (bench_collector);
then extrapolates to 1k, 10k, 100k and 1M events/s with the stated ASSUMPTIONS. Run it as
`python -m bench.bench_capacity`: it prints its figures and then the markdown tables that
docs/performance.md copies (nothing there is hand arithmetic).
"""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import ROOT

RATES = (1_000, 10_000, 100_000, 1_000_000)
LOADER_EVENTS = 40_000
HISTORY_EVENTS = 200_000
WINDOWS = (5_000, 20_000)  # new events in successive incremental runs, each size repeated
AGGREGATION_REPEATS = 2
SECONDS_PER_MONTH = 730 * 3600
# What-if, not built: the tag sending this many hits per request (one message per request).
TAG_PACKED = 10
LAMBDA_PAYLOAD_BYTES = 6 * 1024 * 1024  # an SQS event source cuts a batch at Lambda's payload limit
SQS_CHUNK = 64 * 1024
LONG_WINDOW_S = 5.0  # the batching window the plan recommends below 25k events/s
PER_REQUEST = ("http_api", "collector", "sqs", "logs")  # the AWS lines that grow per request

ASSUMPTIONS: dict[str, float] = {
    # Lambda gives 1 vCPU at 1,769 MB; a vCPU is taken to be one core of the bench machine.
    "lambda_mb_per_vcpu": 1769,
    "collector_mb": 256,
    "loader_mb": 1024,
    # The collector waits for SQS SendMessage (p50 a few ms in-region); its CPU time is measured.
    "sqs_send_latency_s": 0.008,
    # Lambda starts 5 pollers on a standard queue and adds more only while batches come full:
    # below that, each poller's batch is what arrives in one batching window.
    "sqs_pollers_when_not_full": 5,
    # A receipt handle in Lambda's SQS record (AWS's are a few hundred characters).
    "receipt_handle_chars": 400,
    # us-east-1 list prices (bench_cost.PRICES): arm64 Lambda, HTTP API, SQS standard, Logs.
    "lambda_gb_s_usd": 0.0000133334,
    "lambda_request_usd": 0.20e-6,
    "http_api_request_usd": 1.00e-6,
    "sqs_request_usd": 0.40e-6,
    "logs_gb_usd": 0.50,
    # Lambda's platform START/REPORT lines per invocation (bench_cost).
    "platform_log_bytes": 600,
    # A self-managed ClickHouse core (general-purpose EC2 on demand, per vCPU-hour), 2 replicas.
    "clickhouse_core_hour_usd": 0.045,
    "replicas": 2,
    # Merges re-read and re-write what inserts wrote: as much CPU again as the insert itself.
    "merge_cost_per_insert_cost": 1.0,
    # Cores kept free for queries and spikes.
    "clickhouse_headroom": 0.5,
    # ClickHouse's guidance: about one insert per second per table per server.
    "inserts_per_s_per_table_guidance": 1.0,
    # A shard node's cores; an aggregation run uses half of them.
    "cores_per_shard": 16,
    # MergeTree's parts_to_delay_insert (per partition; an insert into events touches one month).
    "parts_to_delay_insert": 1000,
    # The AggregatesFunction's timeout (template.yaml), the budget of one run.
    "aggregation_timeout_s": 900,
}


@dataclass(frozen=True)
class Path_:
    """One producer's packed messages, as measured."""

    name: str
    events_per_message: float
    billed_sqs_per_event: float  # send + receive + delete, 64 KiB chunks
    record_bytes: float  # one message as a record of Lambda's SQS event
    events_per_full_batch: int


@dataclass(frozen=True)
class Costs:
    collector_cpu_s: float  # per hit
    loader_python_s: dict[int, float]  # per event, by batch size
    loader_insert_s: dict[int, float]  # per event, ClickHouse side, by batch size
    aggregation_fixed_s: float  # per run
    aggregation_per_event_s: float
    paths: dict[str, Path_]
    access_log_bytes: int
    batch_size: int
    window_s: float


def loader_settings() -> tuple[int, float]:
    """The loader's SQS BatchSize and MaximumBatchingWindowInSeconds, as template.yaml sets them
    (a parameter's default where the template refers to one)."""
    from touchline_dev.devstack.template import parse_template_text

    template = parse_template_text((ROOT / "template.yaml").read_text())
    source = template["Resources"]["LoaderFunction"]["Properties"]["Events"]["Events"]["Properties"]

    def value(key: str) -> Any:
        found = source[key]
        if isinstance(found, dict) and "Ref" in found:
            return template["Parameters"][found["Ref"]]["Default"]
        return found

    return int(value("BatchSize")), float(value("MaximumBatchingWindowInSeconds"))


def lambda_record(body: str) -> str:
    """`body` as one record of the SQS event Lambda hands the loader (AWS's documented shape)."""
    return json.dumps(
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "A" * int(ASSUMPTIONS["receipt_handle_chars"]),
            "body": body,
            "attributes": {
                "ApproximateReceiveCount": "1",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {},
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:touchline-EventsQueue-AbCdEfGhIjKl",
            "awsRegion": "us-east-1",
        }
    )


def measure_path(name: str, requests: list[list[str]], events: int, batch_size: int) -> Path_:
    """Send every request's envelopes through the real `SqsEventQueue.send` (packed) and measure
    the messages it makes."""
    from bench.bench_sqs_requests import CountingSqs
    from touchline.aws.sqs import SqsEventQueue

    bodies: list[str] = []

    class Capturing(CountingSqs):
        def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
            bodies.append(MessageBody)
            return super().send_message(QueueUrl, MessageBody)

        def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
            bodies.extend(e["MessageBody"] for e in Entries)
            return super().send_message_batch(QueueUrl, Entries)

    sqs = Capturing()
    queue = SqsEventQueue(sqs, "bench")  # type: ignore[arg-type]
    for envelopes in requests:
        queue.send(envelopes)
    _, consumer_billed = sqs.consumer()
    record = sum(len(lambda_record(b).encode()) for b in bodies) / len(bodies) + 1  # the comma
    per_message = events / len(bodies)
    messages_per_batch = min(batch_size, int(LAMBDA_PAYLOAD_BYTES // record))
    return Path_(
        name=name,
        events_per_message=per_message,
        billed_sqs_per_event=(sqs.billed + consumer_billed) / events,
        record_bytes=record,
        events_per_full_batch=int(messages_per_batch * per_message),
    )


def measure_paths(batch_size: int) -> dict[str, Path_]:
    from bench.bench_sqs_requests import _collector_requests, _tracking_requests

    collector = _collector_requests()
    tracking, events = _tracking_requests()
    # What-if (not built): TAG_PACKED hits per request, so their envelopes share one message.
    grouped = [
        [e for request in collector[i : i + TAG_PACKED] for e in request]
        for i in range(0, len(collector), TAG_PACKED)
    ]
    return {
        "tag": measure_path("tag", collector, len(collector), batch_size),
        "tracking": measure_path("tracking", tracking, events, batch_size),
        "tag_packed": measure_path("tag_packed", grouped, len(collector), batch_size),
    }


def batch_events(rate: float, path: Path_, window_s: float) -> int:
    """Events per loader invocation at `rate` events/s: what one window brings each of Lambda's
    pollers, up to a full batch (BatchSize messages or the 6 MB payload, whichever first)."""
    arriving = rate * window_s / ASSUMPTIONS["sqs_pollers_when_not_full"]
    return max(1, min(path.events_per_full_batch, int(arriving)))


def measure_loader(client: Any, sizes: list[int]) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds per event at each batch size (best of 2): the loader's Python outside the
    sink, and the insert (the sink's encoding and the embedded ClickHouse's parse and write, whose
    threads run in this process). CPU, not wall time: this machine's cores are shared."""
    sys.path.insert(0, str(ROOT / "tests"))
    import factories
    from touchline.load.batch import LoadBatch
    from touchline.load.clickhouse_sink import ClickHouseRowSink

    bodies = factories.envelope_bodies(LOADER_EVENTS)

    class TimedSink:
        def __init__(self) -> None:
            self.inner, self.seconds = ClickHouseRowSink(client), 0.0

        def __getattr__(self, name: str) -> Any:
            method = getattr(self.inner, name)

            def timed(*args: Any, **kwargs: Any) -> Any:
                started = time.process_time()
                try:
                    return method(*args, **kwargs)
                finally:
                    self.seconds += time.process_time() - started

            return timed

    python_s: dict[int, float] = {}
    insert_s: dict[int, float] = {}
    for size in sizes:
        best_total, best_insert = math.inf, math.inf
        for _ in range(2):
            client.command("TRUNCATE TABLE events")
            sink = TimedSink()
            started = time.process_time()
            for i in range(0, LOADER_EVENTS, size):
                batch = LoadBatch(sink)
                for body in bodies[i : i + size]:
                    batch.add(body)
                batch.flush()
            total = time.process_time() - started
            if total < best_total:
                best_total, best_insert = total, sink.seconds
        python_s[size] = (best_total - best_insert) / LOADER_EVENTS
        insert_s[size] = best_insert / LOADER_EVENTS
    client.command("TRUNCATE TABLE events")
    return python_s, insert_s


def measure_aggregation(client: Any) -> tuple[float, float]:
    """(fixed, per new event) CPU seconds of the real incremental aggregation: the best of
    AGGREGATION_REPEATS runs of each window size."""
    from bench.bench_aggregate import SITE, _events
    from touchline.aggregate.run import Aggregator
    from touchline.config.attribution_settings import AttributionSettings
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.sql import ClientSql

    client.command(_events(HISTORY_EVENTS, id_offset=0, hit_offset=0))
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks(), margin_ms=0)
    aggregator.run(SITE, AttributionSettings(), full=True)
    best: dict[int, float] = {}
    for n, new in enumerate(WINDOWS * AGGREGATION_REPEATS):
        time.sleep(0.01)
        client.command(
            _events(
                new,
                id_offset=(n + 1) * 10 * HISTORY_EVENTS,
                hit_offset=0,
                first_visit=f"({67 + 10 * n}) * 86400 + v * 4",
            )
        )
        started = time.process_time()
        aggregator.run(SITE, AttributionSettings())
        best[new] = min(best.get(new, math.inf), time.process_time() - started)
    small, large = best[WINDOWS[0]], best[WINDOWS[1]]
    per_event = max((large - small) / (WINDOWS[1] - WINDOWS[0]), large / WINDOWS[1] / 10)
    return max(small - per_event * WINDOWS[0], 0.0), per_event


def measure(workdir: Path) -> Costs:
    from bench.bench_collector import collector_seconds_per_hit
    from bench.bench_cost import access_log_bytes
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    batch_size, window_s = loader_settings()
    paths = measure_paths(batch_size)
    sizes = sorted({batch_events(rate, paths["tag"], window_s) for rate in RATES})
    client = connect(f"chdb://{workdir / 'clickhouse'}?database=capacity")
    migrate(client)
    python_s, insert_s = measure_loader(client, sizes)
    fixed, per_event = measure_aggregation(client)
    return Costs(
        collector_seconds_per_hit(),
        python_s,
        insert_s,
        fixed,
        per_event,
        paths,
        access_log_bytes(),
        batch_size,
        window_s,
    )


@dataclass(frozen=True)
class Tier:
    rate: int
    collector_concurrency: float
    sqs_messages_s: float
    sqs_billed_s: float
    tracking_messages_s: float
    tracking_billed_s: float
    loader_batch: int
    loader_invocations_s: float
    loader_concurrency: float
    shards: int
    clickhouse_cores: float
    inserts_mixed: float  # per table per shard, one queue for all shards
    inserts_routed: float  # per table per shard, one queue (and loader) per shard
    routed_batch: int
    parts_s: float  # new parts per second per shard, events and data_versions, mixed
    aggregation_shard_s: float  # one shard's run (per-shard runs in parallel)
    aggregation_serial_s: float  # one run over every shard, one after another
    usd_month: dict[str, float]
    usd_month_function_url: float  # CollectorEndpoint=function-url: no API Gateway, no access log
    usd_month_tag_packed: float


def plan(costs: Costs, rate: int) -> Tier:
    a = ASSUMPTIONS
    tag = costs.paths["tag"]
    collector_cpu = costs.collector_cpu_s * max(1.0, a["lambda_mb_per_vcpu"] / a["collector_mb"])
    collector_s = collector_cpu + a["sqs_send_latency_s"]
    batch = batch_events(rate, tag, costs.window_s)
    loader_event_s = costs.loader_python_s[batch] * max(1.0, a["lambda_mb_per_vcpu"] / a["loader_mb"])
    loader_event_s += costs.loader_insert_s[batch]  # the loader waits for ClickHouse
    insert_core_s = costs.loader_insert_s[batch] * (1 + a["merge_cost_per_insert_cost"])
    # Cores: inserts and their merges, plus the aggregation of every event, with headroom.
    cores = rate * (insert_core_s + costs.aggregation_per_event_s) * (1 + a["clickhouse_headroom"])
    shards = max(1, math.ceil(cores / a["cores_per_shard"]))
    shard_run = costs.aggregation_fixed_s + costs.aggregation_per_event_s * rate * 900 / shards / (
        a["cores_per_shard"] * 0.5
    )
    invocations = rate / batch
    # A loader batch holds many sites, so with site sharding it reaches every shard.
    routed_batch = batch_events(rate / shards, tag, costs.window_s)
    routed = rate / shards / routed_batch
    month = SECONDS_PER_MONTH
    requests = rate / tag.events_per_message  # one hit per request, one message per request
    collector_gb_s = math.ceil(collector_s * 1000) / 1000 * a["collector_mb"] / 1024
    usd = {
        "http_api": requests * a["http_api_request_usd"] * month,
        "collector": requests * (a["lambda_request_usd"] + collector_gb_s * a["lambda_gb_s_usd"]) * month,
        "sqs": rate * tag.billed_sqs_per_event * a["sqs_request_usd"] * month,
        "logs": (
            requests * (a["platform_log_bytes"] + costs.access_log_bytes)
            + invocations * a["platform_log_bytes"]
        )
        / 1e9
        * a["logs_gb_usd"]
        * month,
        "loader": (
            invocations * a["lambda_request_usd"]
            + rate * loader_event_s * a["loader_mb"] / 1024 * a["lambda_gb_s_usd"]
        )
        * month,
        "clickhouse": max(cores, 2) * a["replicas"] * a["clickhouse_core_hour_usd"] * 730,
    }
    packed = costs.paths["tag_packed"]
    per_request_s = TAG_PACKED * collector_cpu + a["sqs_send_latency_s"]
    packed_requests = rate / TAG_PACKED
    packed_usd = (
        usd["loader"]
        + usd["clickhouse"]
        + packed_requests
        * month
        * (
            a["http_api_request_usd"]
            + a["lambda_request_usd"]
            + math.ceil(per_request_s * 1000) / 1000 * a["collector_mb"] / 1024 * a["lambda_gb_s_usd"]
            + (a["platform_log_bytes"] + costs.access_log_bytes) / 1e9 * a["logs_gb_usd"]
        )
        + rate * packed.billed_sqs_per_event * a["sqs_request_usd"] * month
    )
    tracking = costs.paths["tracking"]
    return Tier(
        rate=rate,
        collector_concurrency=requests * collector_s,
        sqs_messages_s=rate / tag.events_per_message,
        sqs_billed_s=rate * tag.billed_sqs_per_event,
        tracking_messages_s=rate / tracking.events_per_message,
        tracking_billed_s=rate * tracking.billed_sqs_per_event,
        loader_batch=batch,
        loader_invocations_s=invocations,
        loader_concurrency=rate * loader_event_s,
        shards=shards,
        clickhouse_cores=cores,
        inserts_mixed=invocations,
        inserts_routed=routed,
        routed_batch=routed_batch,
        parts_s=2 * invocations,  # each insert into events also adds a data_versions part
        aggregation_shard_s=shard_run,
        aggregation_serial_s=shard_run * shards,
        usd_month=usd,
        usd_month_function_url=sum(usd.values())
        - usd["http_api"]
        - requests * costs.access_log_bytes / 1e9 * a["logs_gb_usd"] * month,
        usd_month_tag_packed=packed_usd,
    )


def _n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def markdown(costs: Costs) -> str:
    """The tables docs/performance.md shows, from this run's figures."""
    tiers = [plan(costs, rate) for rate in RATES]
    a = ASSUMPTIONS
    paths = costs.paths
    lines = [
        "| measured | tag (collector) | tracking API (`/v1/batch` of 100) "
        "| tag, 10 hits per request (not built) |",
        "| --- | --- | --- | --- |",
        "| events per SQS message (one message per request) | "
        + " | ".join(_n(paths[k].events_per_message, 1) for k in ("tag", "tracking", "tag_packed"))
        + " |",
        "| billed SQS requests per 1,000 events (send + receive + delete) | "
        + " | ".join(_n(paths[k].billed_sqs_per_event * 1000) for k in ("tag", "tracking", "tag_packed"))
        + " |",
        "| bytes per message as a record of Lambda's SQS event | "
        + " | ".join(_n(paths[k].record_bytes) for k in ("tag", "tracking", "tag_packed"))
        + " |",
        f"| events per full loader batch ({costs.batch_size:,} messages or 6 MB) | "
        + " | ".join(_n(paths[k].events_per_full_batch) for k in ("tag", "tracking", "tag_packed"))
        + " |",
        "",
        "| measured on the embedded engine | per event |",
        "| --- | --- |",
        f"| collector CPU per hit (pipeline only) | {costs.collector_cpu_s * 1e6:.1f} µs |",
    ]
    for size in sorted(costs.loader_python_s):
        lines.append(
            f"| loader, batch {size:,}: Python / ClickHouse insert | "
            f"{costs.loader_python_s[size] * 1e6:.1f} / {costs.loader_insert_s[size] * 1e6:.1f} µs |"
        )
    lines += [
        f"| incremental aggregation, fixed per run | {costs.aggregation_fixed_s:.1f} s |",
        f"| incremental aggregation per new event | {costs.aggregation_per_event_s * 1e6:.1f} µs |",
        "",
        "| | " + " | ".join(f"{t.rate:,} ev/s" for t in tiers) + " |",
        "| --- |" + " --- |" * len(tiers),
    ]

    def row(label: str, cells: list[str]) -> None:
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    row("CollectorFunction concurrency (256 MB)", [_n(t.collector_concurrency) for t in tiers])
    row(
        "SQS messages/s, tag (1 per hit) / billed requests/s",
        [f"{_n(t.sqs_messages_s)} / {_n(t.sqs_billed_s)}" for t in tiers],
    )
    row(
        "SQS messages/s, same events as tracking-API batches / billed requests/s",
        [f"{_n(t.tracking_messages_s)} / {_n(t.tracking_billed_s)}" for t in tiers],
    )
    row(
        "LoaderFunction batch (events), invocations/s",
        [f"{_n(t.loader_batch)}, {_n(t.loader_invocations_s, 1)}" for t in tiers],
    )
    row("LoaderFunction concurrency (1,024 MB)", [_n(t.loader_concurrency, 1) for t in tiers])
    row(
        "ClickHouse shards (16 cores), cores per replica",
        [f"{t.shards}, {_n(t.clickhouse_cores, 1)}" for t in tiers],
    )
    row(
        "inserts/s per table per shard: one queue (built) / one queue per shard (not built)",
        [f"{_n(t.inserts_mixed, 1)} / {_n(t.inserts_routed, 1)}" for t in tiers],
    )
    row(
        f"inserts/s per table per shard, one queue, `LoaderBatchingWindowSeconds={LONG_WINDOW_S:g}`",
        [_n(t.rate / batch_events(t.rate, paths["tag"], LONG_WINDOW_S), 1) for t in tiers],
    )
    row(
        "new parts/s per shard (events + data_versions), one queue",
        [_n(t.parts_s, 1) for t in tiers],
    )
    row(
        "parts headroom: s merges may stall before inserts slow (one queue / per shard)",
        [
            f"{_n(a['parts_to_delay_insert'] / t.inserts_mixed)} / "
            f"{_n(a['parts_to_delay_insert'] / t.inserts_routed)}"
            for t in tiers
        ],
    )
    row(
        "aggregation per 15 min: one shard's run (AggregationGroups = shards)",
        [f"{_n(t.aggregation_shard_s)} s" for t in tiers],
    )
    row(
        "aggregation per 15 min: one run over every shard (AggregationGroups = 1)",
        [
            f"{_n(t.aggregation_serial_s)} s "
            f"({t.aggregation_serial_s / a['aggregation_timeout_s']:.0%} of 900 s)"
            for t in tiers
        ],
    )
    row(
        "$/month: API GW + collector + SQS + logs + loader + ClickHouse",
        [
            " + ".join(_n(v) for v in t.usd_month.values()) + f" = **{_n(sum(t.usd_month.values()))}**"
            for t in tiers
        ],
    )
    row(
        "$/month with the collector on a Function URL (`CollectorEndpoint=function-url`)",
        [
            f"{_n(t.usd_month_function_url)} ({t.usd_month_function_url / sum(t.usd_month.values()):.0%})"
            for t in tiers
        ],
    )
    row(
        "per-request AWS services (API GW, collector, SQS, logs) of the total",
        [f"{sum(t.usd_month[k] for k in PER_REQUEST) / sum(t.usd_month.values()):.1%}" for t in tiers],
    )
    row(
        f"$/month if the tag sent {TAG_PACKED} hits per request (not built)",
        [_n(t.usd_month_tag_packed) for t in tiers],
    )
    return "\n".join(lines)


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        costs = measure(Path(tmp))
    return _rows(costs)


def _rows(costs: Costs) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [
        (
            "measured: collector CPU µs/hit (pipeline, this machine's core)",
            f"{costs.collector_cpu_s * 1e6:.1f}",
        ),
    ]
    for name, path in costs.paths.items():
        out.append(
            (
                f"measured: {name}: events/message, billed SQS/1k events, record bytes, events/full batch",
                f"{path.events_per_message:.1f}, {path.billed_sqs_per_event * 1000:,.0f}, "
                f"{path.record_bytes:,.0f}, {path.events_per_full_batch:,}",
            )
        )
    for size in sorted(costs.loader_python_s):
        out.append(
            (
                f"measured: loader µs/event at batch {size:,}: Python / ClickHouse insert",
                f"{costs.loader_python_s[size] * 1e6:.1f} / {costs.loader_insert_s[size] * 1e6:.1f}",
            )
        )
    out += [
        ("measured: aggregation per incremental run, fixed s", f"{costs.aggregation_fixed_s:.2f}"),
        ("measured: aggregation µs/new event", f"{costs.aggregation_per_event_s * 1e6:.1f}"),
    ]
    for rate in RATES:
        t = plan(costs, rate)
        out += [
            (
                f"plan {rate:>9,} ev/s: shards, loader batch, inserts/s per table per shard",
                f"{t.shards}, {t.loader_batch:,}, {t.inserts_mixed:,.1f}",
            ),
            (
                f"plan {rate:>9,} ev/s: aggregation per shard s, $/month",
                f"{t.aggregation_shard_s:,.0f}, {sum(t.usd_month.values()):,.0f}",
            ),
        ]
    return out


def costs_json(costs: Costs) -> str:
    return json.dumps(dataclasses.asdict(costs))


def costs_from_json(text: str) -> Costs:
    """A run's measured costs back from `costs_json` (re-plan without re-measuring)."""
    raw = json.loads(text)
    raw["paths"] = {k: Path_(**v) for k, v in raw["paths"].items()}
    for key in ("loader_python_s", "loader_insert_s"):
        raw[key] = {int(k): v for k, v in raw[key].items()}
    return Costs(**raw)


if __name__ == "__main__":
    # `python -m bench.bench_capacity [COSTS.json]`: measure (and print the costs as JSON for a
    # later re-plan), or re-plan from a run's printed costs.
    if len(sys.argv) > 1:
        measured = costs_from_json(Path(sys.argv[1]).read_text())
    else:
        with tempfile.TemporaryDirectory() as tmp:
            measured = measure(Path(tmp))
        print("costs:", costs_json(measured))
    print("\n".join(f"{label:<90} {figure}" for label, figure in _rows(measured)))
    print()
    print(markdown(measured))
