"""Cost model: dollars per million hits (collector path) and per million events (tracking API
path), split by service, from what this script measures on the real code and AWS list prices.

Measured here:

* CPU µs per hit / event through the Lambda handler on varied traffic (bench_collector's hits,
  bench_tracking_api's 100-event batches; SQS answering at once, lookups cached);
* SQS requests: the real service wiring (`touchline.ingest.service.collector()`,
  `touchline.tracking.service.tracking_api()`) against moto, every call of the boto3 clients
  counted by operation, each send's payload in SQS's billing chunks of 64 KiB; the rows carried
  per message by reading the sent bodies back;
* DynamoDB reads: the same run's GetItem/Query calls of a fresh container (site or key, GDPR
  suppressions, the day's salt), which its caches then hold for `TOUCHLINE_SITE_CACHE_SECONDS`;
* log bytes: what the handler writes (Powertools logs, EMF metric lines) over the run, plus
  Lambda's own JSON platform lines and the HTTP API access log line of template.yaml's format;
* the loader's CPU per row: the LoaderFunction handler over the messages the run sent, its
  rows discarded instead of inserted (the insert's wait is an assumption, below);
* memory: the collector process's peak RSS growth over its import and hits (VmHWM), against the
  256 MB it is given.

Assumed (ASSUMPTIONS, printed): what happens in AWS and cannot be measured here. Prices: PRICES,
us-east-1 list prices of the date in PRICES_AS_OF, from the pages named; first tier, no free tier.
"""

from __future__ import annotations

import base64
import io
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, field, replace
from typing import Any, TypedDict

from bench.common import ROOT, load_function, peak_rss_mb, reset_peak_rss

PRICES_AS_OF = "2025-10 (AWS public pricing pages, us-east-1, first tier, free tier ignored)"
# (service, what one unit is, US$ per unit, source page)
PRICES: dict[str, tuple[str, str, float, str]] = {
    "lambda_gb_s": ("Lambda", "GB-second, arm64", 0.0000133334, "aws.amazon.com/lambda/pricing"),
    "lambda_request": ("Lambda", "request", 0.20 / 1e6, "aws.amazon.com/lambda/pricing"),
    "http_api_request": (
        "API Gateway",
        "HTTP API request (≤512 KB; first 300M a month)",
        1.00 / 1e6,
        "aws.amazon.com/api-gateway/pricing",
    ),
    "function_url_request": (
        "Lambda",
        "Function URL request (no charge)",
        0.0,
        "aws.amazon.com/lambda/pricing",
    ),
    "sqs_request": ("SQS", "standard request, per 64 KB chunk", 0.40 / 1e6, "aws.amazon.com/sqs/pricing"),
    "dynamodb_read": (
        "DynamoDB",
        "on-demand read request unit",
        0.125 / 1e6,
        "aws.amazon.com/dynamodb/pricing/on-demand",
    ),
    "logs_gb": (
        "CloudWatch",
        "Logs ingestion, Standard class, per GB",
        0.50,
        "aws.amazon.com/cloudwatch/pricing",
    ),
}
ASSUMPTIONS = {
    "full_vcpu_mb": 1769,  # Lambda gives one full vCPU at 1,769 MB, proportionally less below
    "sqs_round_trip_ms": 5.0,  # SendMessage(Batch) within a region, billed as the function waits
    "sqs_concurrent_sends": 8,  # SqsEventQueue's sends in flight at once
    "poller_batch": 10,  # Lambda's SQS poller: ReceiveMessage and DeleteMessageBatch of 10
    "hits_per_container_period": 600,  # a warm container's hits per cache period (10/s for 60 s)
    "platform_log_bytes": 600,  # Lambda's platform.start + platform.report JSON lines per invocation
    "loader_batch_rows": 10_000,  # the template's BatchSize, on a busy queue
    "insert_wait_us_per_row": 60.0,  # ClickHouse insert wall time per row at 10k-row batches
    "loader_memory_mb": 1024,
}
COLLECTOR_MB = 256
TRACKING_MB = 512
HITS = 1_000
BATCHES = 20
SQS_CHUNK = 64 * 1024


@dataclass
class Calls:
    """AWS calls by operation, and the payload bytes of each SQS send."""

    operations: Counter[str] = field(default_factory=Counter)
    send_chunks: int = 0
    bodies: list[str] = field(default_factory=list)
    requests: list[list[str]] = field(default_factory=list)  # the bodies each request sent

    def hook(self, operation_name: str, params: dict[str, Any], **_: Any) -> None:
        self.operations[operation_name] += 1
        if operation_name == "SendMessage":
            self.bodies.append(params["MessageBody"])
            self.send_chunks += math.ceil(len(params["MessageBody"].encode()) / SQS_CHUNK)
        elif operation_name == "SendMessageBatch":
            sent = [entry["MessageBody"] for entry in params["Entries"]]
            self.bodies.extend(sent)
            self.send_chunks += math.ceil(sum(len(b.encode()) for b in sent) / SQS_CHUNK)

    @property
    def dynamodb_reads(self) -> int:
        return sum(self.operations[op] for op in ("GetItem", "Query", "BatchGetItem", "Scan"))


@dataclass
class Path_:
    """One path's measured figures per unit (a hit, or an event)."""

    name: str
    unit: str
    memory_mb: int
    units_per_request: float
    cpu_us: float
    sqs_calls_per_request: float
    send_chunks: float
    messages: float
    rows: float
    payload_bytes: float
    reads_per_period: float
    salt_calls: float
    log_bytes_per_request: float
    loader_cpu_us_per_row: float
    notes: list[str] = field(default_factory=list)


class SqsFigures(TypedDict):
    sqs_calls_per_request: float
    send_chunks: float
    messages: float
    rows: float
    payload_bytes: float


def sqs_figures(calls: Calls, units: int) -> SqsFigures:
    """Per request sends, and per unit (hit, event) billed sends, messages and rows."""
    sends = calls.operations["SendMessage"] + calls.operations["SendMessageBatch"]
    return {
        "sqs_calls_per_request": sends / len(calls.requests),
        "send_chunks": calls.send_chunks / units,
        "messages": len(calls.bodies) / units,
        "rows": sum(rows_in(b) for b in calls.bodies) / units,
        "payload_bytes": sum(len(b.encode()) for b in calls.bodies) / units,
    }


def before_packing(path: Path_, calls: Calls, units: int) -> Path_:
    """`path` with its rows sent one message each (`one_message_per_row`)."""
    return replace(
        path,
        name=f"{path.name}, one message per row (before packing)",
        **sqs_figures(one_message_per_row(calls.requests), units),
    )


def rows_in(body: str) -> int:
    """Rows one SQS message carries, as the loader unpacks it (one envelope per line)."""
    from touchline.envelope import unpack

    return len(unpack(body))


def one_message_per_row(requests: list[list[str]]) -> Calls:
    """The same rows sent as before packing, one message each, by the real `SqsEventQueue`'s
    sender (`send_messages`, which `send` calls once it has packed), counted."""
    from touchline.aws.sqs import SqsEventQueue
    from touchline.envelope import unpack

    calls = Calls()

    class Counting:
        def send_message(self, **params: Any) -> dict[str, Any]:
            calls.hook("SendMessage", params)
            return {"MessageId": "m"}

        def send_message_batch(self, **params: Any) -> dict[str, Any]:
            calls.hook("SendMessageBatch", params)
            return {"Successful": [{"Id": e["Id"]} for e in params["Entries"]], "Failed": []}

    queue = SqsEventQueue(Counting(), "bench")  # type: ignore[arg-type]
    for messages in requests:
        sent = len(calls.bodies)
        queue.send_messages([row for message in messages for row in unpack(message)])
        calls.requests.append(calls.bodies[sent:])
    return calls


@contextmanager
def moto_world() -> Iterator[dict[str, str]]:
    """moto with the config table and the events queue, and the environment the functions read."""
    from moto import mock_aws

    env = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "TOUCHLINE_CONFIG_TABLE": "bench-config",
        "POWERTOOLS_SERVICE_NAME": "bench",
    }
    saved = {k: os.environ.get(k) for k in [*env, "TOUCHLINE_EVENTS_QUEUE_URL", "AWS_ENDPOINT_URL"]}
    os.environ.update(env)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    try:
        with mock_aws():
            import boto3

            boto3.client("dynamodb").create_table(
                TableName="bench-config",
                KeySchema=[
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
                AttributeDefinitions=[
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                BillingMode="PAY_PER_REQUEST",
            )
            url = boto3.client("sqs").create_queue(QueueName="bench-events")["QueueUrl"]
            os.environ["TOUCHLINE_EVENTS_QUEUE_URL"] = url
            yield {"queue_url": url}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _counted_clients(calls: Calls) -> None:
    from touchline.aws import clients

    for factory in (clients.sqs, clients.dynamodb):
        factory.cache_clear()
        factory().meta.events.register(
            "before-parameter-build.*.*", lambda model, params, **kw: calls.hook(model.name, params)
        )


def _loader_cpu_us_per_row(bodies: list[str]) -> float:
    """The LoaderFunction handler's CPU per row over these messages, rows discarded."""
    from touchline.load.batch import LoadBatch

    class Discard:
        def insert_rows(self, table: str, json_rows: list[str], dedup_token: str) -> None:
            pass

    loader = load_function("loader")
    setattr(loader, "new_batch", lambda: LoadBatch(Discard()))  # noqa: B010 - a module attribute
    records = [
        {
            "messageId": f"m{i}",
            "receiptHandle": f"r{i}",
            "body": body,
            "attributes": {"ApproximateReceiveCount": "1"},
            "messageAttributes": {},
            "md5OfBody": "",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:0:bench-events",
            "awsRegion": "us-east-1",
        }
        for i, body in enumerate(bodies)
    ]

    class Ctx:
        function_name = "bench-loader"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench-loader"
        aws_request_id = "bench"

    rows = sum(rows_in(b) for b in bodies)
    best = math.inf
    for _ in range(3):
        start = time.process_time()
        with redirect_stdout(io.StringIO()):
            loader.handler({"Records": records}, Ctx())
        best = min(best, time.process_time() - start)
    return best / rows * 1e6


def _run_counted(handle: Callable[[dict[str, Any]], Any], events: list[dict[str, Any]]) -> tuple[Calls, int]:
    """Send `events` through `handle` on moto with the clients counted; (calls, stdout bytes)."""
    calls = Calls()
    _counted_clients(calls)
    out = io.StringIO()
    with redirect_stdout(out):
        for event in events:
            sent = len(calls.bodies)
            status = handle(event)["statusCode"]
            calls.requests.append(calls.bodies[sent:])
            if status not in (200, 202):
                raise RuntimeError(f"answered {status}: {out.getvalue()[-2000:]}")
    return calls, len(out.getvalue().encode())


def measure_collector() -> tuple[Path_, Path_]:
    from bench import bench_collector
    from touchline.config.sites import SiteStore
    from touchline.ingest import service

    wired = service.collector  # collector_app replaces it with a stubbed collector
    start_rss = reset_peak_rss()
    app = bench_collector.collector_app(bench_collector.CountingSqs())
    cpu = bench_collector.cpu_us_per_hit(app, bench_collector.events(2_000))
    memory_growth = peak_rss_mb() - start_rss
    events = bench_collector.events(HITS, seed=31)
    with moto_world():
        import boto3

        SiteStore(boto3.client("dynamodb"), "bench-config").add(bench_collector.SITE_DOMAIN)
        service.collector = wired
        wired.cache_clear()
        real = load_function("collector")
        ctx = bench_collector.Ctx()
        calls, log_bytes = _run_counted(lambda e: real.handler(e, ctx), events)
    salt = calls.operations["PutItem"]
    path = Path_(
        name="collector (POST /api/event)",
        unit="hit",
        memory_mb=COLLECTOR_MB,
        units_per_request=1,
        cpu_us=cpu,
        **sqs_figures(calls, HITS),
        reads_per_period=calls.dynamodb_reads - salt,  # the salt's GetItem goes with its PutItem
        salt_calls=2 * salt,
        log_bytes_per_request=log_bytes / HITS,
        loader_cpu_us_per_row=_loader_cpu_us_per_row(calls.bodies),
        notes=[
            f"collector process peak RSS growth over import + 2,000 hits: {memory_growth:.0f} MB",
            "AWS calls by operation: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.operations.items())),
        ],
    )
    return path, before_packing(path, calls, HITS)


def measure_tracking() -> tuple[Path_, Path_]:
    from bench import bench_tracking_api
    from bench.bench_enrichment import user_agents
    from touchline.config.sites import SiteStore
    from touchline.config.write_keys import WriteKeyStore
    from touchline.tracking import service

    agents = user_agents()
    cpu = _tracking_cpu_us_per_event(agents)
    with moto_world():
        import boto3

        site = SiteStore(boto3.client("dynamodb"), "bench-config").add("shop.example.com")
        key, _ = WriteKeyStore(boto3.client("dynamodb"), "bench-config").create(site.site_id, site.domain)
        service.tracking_api.cache_clear()
        app = load_function("tracking_api")
        ctx = _Ctx(TRACKING_MB)
        events = []
        for run in range(BATCHES):
            event = bench_tracking_api.http_event(bench_tracking_api.batch(True, 1000 + run, agents), False)
            event["headers"]["authorization"] = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
            events.append(event)
        calls, log_bytes = _run_counted(lambda e: app.handler(e, ctx), events)
    n = BATCHES * bench_tracking_api.EVENTS
    salt = calls.operations["PutItem"]
    path = Path_(
        name="tracking API (POST /v1/batch of 100)",
        unit="event",
        memory_mb=TRACKING_MB,
        units_per_request=bench_tracking_api.EVENTS,
        cpu_us=cpu,
        **sqs_figures(calls, n),
        reads_per_period=calls.dynamodb_reads - salt,
        salt_calls=2 * salt,
        log_bytes_per_request=log_bytes / BATCHES,
        loader_cpu_us_per_row=_loader_cpu_us_per_row(calls.bodies),
        notes=[
            "AWS calls by operation: " + ", ".join(f"{k} {v}" for k, v in sorted(calls.operations.items()))
        ],
    )
    return path, before_packing(path, calls, n)


class _Ctx:
    def __init__(self, memory_mb: int) -> None:
        self.function_name = "bench"
        self.memory_limit_in_mb = memory_mb
        self.invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
        self.aws_request_id = "bench"


def _tracking_cpu_us_per_event(agents: list[str]) -> float:
    """bench_tracking_api's measurement: 100-event batches with browser context, SQS stubbed."""
    from bench import bench_tracking_api
    from touchline.aws.sqs import SqsEventQueue
    from touchline.config.write_keys import WriteKey
    from touchline.enrichment import FullEnricher
    from touchline.tracking import service
    from touchline.tracking.api import TrackingApi
    from touchline.tracking.convert import MessageConverter
    from touchline.tracking.enrich import ContextEnricher
    from touchline.tracking.keys import WriteKeyResolver

    class OneKey:
        def lookup(self, key: str) -> WriteKey | None:
            return WriteKey("k", "site1", "shop.example.com", "", False)

    os.environ.setdefault("TOUCHLINE_CONFIG_TABLE", "bench")
    os.environ.setdefault("TOUCHLINE_EVENTS_QUEUE_URL", "bench")
    api = TrackingApi(
        WriteKeyResolver(OneKey(), ttl_seconds=3600),
        SqsEventQueue(bench_tracking_api._StubSqs(), "bench"),  # type: ignore[arg-type]
        MessageConverter(ContextEnricher(FullEnricher())),
    )
    saved = service.tracking_api
    service.tracking_api = lambda: api  # type: ignore[assignment]
    try:
        app = load_function("tracking_api")
        ctx = _Ctx(TRACKING_MB)
        batch = [
            bench_tracking_api.http_event(bench_tracking_api.batch(True, r, agents), False)
            for r in range(100)
        ]
        with redirect_stdout(io.StringIO()):
            for event in batch:
                assert app.handler(event, ctx)["statusCode"] == 200
            best = math.inf
            for _ in range(3):
                start = time.process_time()
                for event in batch:
                    app.handler(event, ctx)
                best = min(best, time.process_time() - start)
    finally:
        service.tracking_api = saved
    return best / (len(batch) * bench_tracking_api.EVENTS) * 1e6


def access_log_bytes() -> int:
    """The HTTP API's access log line (template.yaml's format) for a typical collector request."""
    from touchline_dev.devstack.template import parse_template_text

    template = parse_template_text((ROOT / "template.yaml").read_text())
    fmt: str = template["Resources"]["HttpApi"]["Properties"]["AccessLogSettings"]["Format"]
    values = {
        "$context.requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "$context.identity.sourceIp": "203.0.113.7",
        "$context.requestTime": "22/Nov/2026:10:00:00 +0000",
        "$context.httpMethod": "POST",
        "$context.path": "/api/event",
        "$context.status": "202",
        "$context.responseLength": "11",
        "$context.responseLatency": "12",
        "$context.integrationErrorMessage": "-",
    }
    for name in sorted(values, key=len, reverse=True):
        fmt = fmt.replace(name, values[name])
    return len(fmt.encode()) + 1


def dollars(path: Path_, endpoint: str) -> dict[str, float]:
    """US$ per million units (hits, events) of `path`, by service."""
    a, p = ASSUMPTIONS, {k: v[2] for k, v in PRICES.items()}
    units = 1e6
    requests = units / path.units_per_request
    messages = path.messages * units
    sqs_calls_per_request = path.sqs_calls_per_request
    send_chunks = path.send_chunks * units
    waits = math.ceil(sqs_calls_per_request / a["sqs_concurrent_sends"])
    cpu_ms = path.cpu_us * path.units_per_request / 1000 * a["full_vcpu_mb"] / path.memory_mb
    billed_ms = math.ceil(cpu_ms + waits * a["sqs_round_trip_ms"])
    gb_s = requests * billed_ms / 1000 * path.memory_mb / 1024
    loader_ms_per_row = (
        path.loader_cpu_us_per_row * a["full_vcpu_mb"] / a["loader_memory_mb"] + a["insert_wait_us_per_row"]
    ) / 1000
    loader_gb_s = path.rows * units * loader_ms_per_row / 1000 * a["loader_memory_mb"] / 1024
    loader_requests = path.rows * units / a["loader_batch_rows"]
    # Lambda's poller: ReceiveMessage of up to 10 messages, billed per 64 KiB of what it returns,
    # and a DeleteMessageBatch per receive.
    receives = messages / a["poller_batch"]
    polls = max(receives, path.payload_bytes * units / SQS_CHUNK) + receives
    periods = requests / a["hits_per_container_period"]
    log_bytes = requests * (path.log_bytes_per_request + a["platform_log_bytes"])
    if endpoint == "httpapi":
        log_bytes += requests * access_log_bytes()
    return {
        "Lambda GB-s (function)": gb_s * p["lambda_gb_s"],
        "Lambda requests (function)": requests * p["lambda_request"],
        "Lambda GB-s + requests (loader)": loader_gb_s * p["lambda_gb_s"]
        + loader_requests * p["lambda_request"],
        "HTTP API requests": requests * (p["http_api_request"] if endpoint == "httpapi" else 0.0),
        "SQS requests (send + receive + delete)": (send_chunks + polls) * p["sqs_request"],
        "DynamoDB reads": periods * path.reads_per_period * p["dynamodb_read"],
        "CloudWatch log bytes": log_bytes / 1e9 * p["logs_gb"],
    }


def _figures(path: Path_, endpoint: str, label: str) -> list[tuple[str, str]]:
    cost = dollars(path, endpoint)
    rows = [(f"{label}: $ per million {path.unit}s, total", f"{sum(cost.values()):.2f}")]
    rows += [(f"    {service}", f"{value:.3f}") for service, value in cost.items()]
    return rows


def _measured(path: Path_) -> list[tuple[str, str]]:
    return [
        (f"{path.name}: measured CPU µs per {path.unit} through the handler", f"{path.cpu_us:.1f}"),
        ("  SQS send calls per request", f"{path.sqs_calls_per_request:.2f}"),
        (f"  SQS messages / rows per {path.unit}", f"{path.messages:.3f} / {path.rows:.3f}"),
        (f"  billed SQS send requests per {path.unit} (64 KiB chunks)", f"{path.send_chunks:.3f}"),
        (f"  SQS payload bytes per {path.unit}", f"{path.payload_bytes:.0f}"),
        (
            "  DynamoDB reads of a fresh container per cache period (+ salt get/put per day)",
            f"{path.reads_per_period:.0f} (+{path.salt_calls:.0f})",
        ),
        ("  handler log bytes per request (Powertools logs + EMF)", f"{path.log_bytes_per_request:.0f}"),
        ("  loader CPU µs per row (handler, rows discarded)", f"{path.loader_cpu_us_per_row:.1f}"),
        *[(f"  {note}", "") for note in path.notes],
    ]


def run() -> list[tuple[str, str]]:
    from bench.common import quiet_powertools

    quiet_powertools()
    collector, collector_before = measure_collector()
    tracking, tracking_before = measure_tracking()
    rows: list[tuple[str, str]] = [("prices as of", PRICES_AS_OF)]
    rows += [(f"  {svc}: {unit}", f"${usd:.10g} ({src})") for svc, unit, usd, src in PRICES.values()]
    rows += [(f"  assumed {name}", str(value)) for name, value in ASSUMPTIONS.items()]
    rows += _measured(collector) + _measured(tracking)
    rows += [("HTTP API access log line bytes (template.yaml's format)", str(access_log_bytes()))]
    for before in (collector_before, tracking_before):
        rows += [
            (f"{before.name}: SQS send calls per request", f"{before.sqs_calls_per_request:.2f}"),
            (f"  SQS messages per {before.unit}", f"{before.messages:.3f}"),
        ]
    rows += _figures(collector, "httpapi", "collector via HTTP API")
    rows += _figures(collector, "function-url", "collector via Function URL")
    rows += _figures(collector_before, "httpapi", "collector via HTTP API, before packing")
    rows += _figures(tracking, "httpapi", "tracking API")
    rows += _figures(tracking_before, "httpapi", "tracking API, before packing (one message per row)")
    return rows


if __name__ == "__main__":
    from bench.common import quiet_powertools

    quiet_powertools()
    for label, figure in run():
        print(f"{label:<88} {figure}", file=sys.stdout)
