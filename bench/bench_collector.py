"""Collector figures on varied traffic: CPU µs and instructions per hit through the Lambda
handler with full enrichment, and the cold import.

The tracking API's honest-traffic method (bench_tracking_api): every request is different, as a
site's beacons are: its own visitor (IP, one of 1,000 browsers, tag visitor id or none),
page, referrer, landing with unique click ids, and event kind (pageviews, engagement, goals with
props, revenue), with the ~20 headers a browser's `sendBeacon` carries. SQS is stubbed (it
answers at once) and the site lookup is cached, as in a warm Lambda; each figure is the best of
three passes over the same distinct requests after one pass that fills the caches a warm
container has (parsed agents, landings). CPU time is `time.process_time`.

Baseline, measured in the same run: validating each hit's `events` row and serialising its
envelope, the part any producer must do.

Instructions per hit come from `valgrind --tool=callgrind` (deterministic where CPU time is
not): the same warm-up outside instrumentation (`--instr-atstart=no`, switched on with
`callgrind_control` when it is done), then one pass counted alone (`--toggle-collect` on the
`functools.reduce` that runs it). `TOUCHLINE_BENCH_CALLGRIND=0` skips it.
"""

from __future__ import annotations

import functools
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.bench_enrichment import user_agents
from bench.common import ROOT, callgrind_collected, fresh_interpreter_ms, load_function

REQUESTS = 2_000
CALLGRIND_REQUESTS = 1_000
SITE_DOMAIN = "shop.example.com"
REFERRERS = (
    "",
    "",
    "",
    "https://www.google.com/",
    "https://www.google.co.uk/",
    "https://www.bing.com/",
    "https://duckduckgo.com/",
    "https://l.facebook.com/",
    "https://t.co/abc",
    "https://www.linkedin.com/feed/",
    "https://news.ycombinator.com/item?id=1",
    "https://chatgpt.com/",
    "https://github.com/org/repo",
    "https://blog.example.org/post",
    "https://shop.example.com/cart",
)
# Landing queries; click ids are unique per click, so per-landing caches miss on them.
LANDINGS = (
    "",
    "",
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?utm_source=google&utm_medium=cpc&utm_campaign=brand&gclid={click}",
    "?gclid={click}",
    "?fbclid={click}",
    "?utm_source=facebook&utm_medium=paid_social&utm_campaign=retarget&fbclid={click}",
    "?ref=producthunt",
)
PAGES = 300


def beacon(i: int, rng: random.Random, agents: list[str]) -> tuple[str, dict[str, str], str]:
    """(body, headers, client IP) of one hit as the tag sends it (compact keys, text/plain)."""
    ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    agent = agents[i % len(agents)]
    landing = rng.choice(LANDINGS).format(click=f"Cj0K{rng.getrandbits(64):x}")
    url = f"https://{SITE_DOMAIN}/p/{rng.randrange(PAGES)}{landing}"
    kind = rng.random()
    body: dict[str, Any] = {"n": "pageview", "u": url, "d": SITE_DOMAIN, "r": rng.choice(REFERRERS)}
    body["w"] = rng.choice((390, 414, 768, 1280, 1440, 1920))
    if kind < 0.15:
        body.update(n="engagement", e=rng.randint(500, 90_000), sd=rng.randint(0, 100))
    elif kind < 0.23:
        body.update(n="Signup", p={"plan": rng.choice(("free", "pro")), "seats": rng.randint(1, 9)})
    elif kind < 0.25:
        body.update(n="Purchase", p={"sku": f"sku-{rng.randrange(50)}"})
        body["$"] = {"amount": f"{rng.randint(5, 300)}.{rng.randrange(100):02d}", "currency": "EUR"}
    if rng.random() < 0.7:  # the tag's first-party id; the rest are cookieless or Plausible's tracker
        body["vid"] = f"{rng.getrandbits(96):024x}"
    headers = {
        "accept": "*/*",
        "accept-encoding": "gzip, deflate, br, zstd",
        "accept-language": "en-GB,en;q=0.9",
        "content-length": "0",
        "content-type": "text/plain;charset=UTF-8",
        "host": "abc123.execute-api.us-east-1.amazonaws.com",
        "origin": f"https://{SITE_DOMAIN}",
        "priority": "u=4, i",
        "referer": url,
        "sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24"',
        "sec-ch-ua-mobile": "?0",
        "sec-ch-ua-platform": '"Windows"',
        "sec-fetch-dest": "empty",
        "sec-fetch-mode": "no-cors",
        "sec-fetch-site": "cross-site",
        "user-agent": agent,
        "x-amzn-trace-id": f"Root=1-{rng.getrandbits(32):08x}-{rng.getrandbits(96):024x}",
        "x-forwarded-for": ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    text = json.dumps(body, separators=(",", ":"))
    headers["content-length"] = str(len(text.encode()))
    return text, headers, ip


def http_api_event(body: str, headers: dict[str, str], ip: str, path: str = "/api/event") -> dict[str, Any]:
    """An API Gateway HTTP API payload 2.0 event for POST `path`."""
    return {
        "version": "2.0",
        "routeKey": f"POST {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {
                "method": "POST",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": "bench",
            "routeKey": f"POST {path}",
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 1795305600000,
        },
        "body": body,
        "isBase64Encoded": False,
    }


def function_url_event(
    body: str, headers: dict[str, str], ip: str, path: str = "/api/event"
) -> dict[str, Any]:
    """The same request through a Lambda Function URL (AuthType NONE): payload 2.0 with the
    `$default` route and stage, the `lambda-url` domain and an anonymous caller."""
    event = http_api_event(body, {**headers, "host": "abcdefgh.lambda-url.us-east-1.on.aws"}, ip, path)
    event["routeKey"] = "$default"
    event["requestContext"].update(
        accountId="anonymous",
        apiId="abcdefgh",
        domainName="abcdefgh.lambda-url.us-east-1.on.aws",
        domainPrefix="abcdefgh",
        routeKey="$default",
    )
    return event


def events(
    count: int, seed: int = 5, shape: Callable[[str, dict[str, str], str], dict[str, Any]] = http_api_event
) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    agents = user_agents()
    return [shape(*beacon(i, rng, agents)) for i in range(count)]


class CountingSqs:
    """SendMessage / SendMessageBatch answering at once, as a healthy queue does, counting the
    calls, the messages and their bytes."""

    def __init__(self) -> None:
        self.calls = 0
        self.messages = 0
        self.bytes = 0
        self.bodies: list[str] = []
        self.keep = False

    def _sent(self, bodies: list[str]) -> None:
        self.calls += 1
        self.messages += len(bodies)
        self.bytes += sum(len(b.encode()) for b in bodies)
        if self.keep:
            self.bodies.extend(bodies)

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self._sent([kwargs["MessageBody"]])
        return {"MessageId": "m"}

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self._sent([e["MessageBody"] for e in kwargs["Entries"]])
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]], "Failed": []}


class Ctx:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
    aws_request_id = "bench"


def collector_app(sqs: CountingSqs) -> Any:
    """The collector's handler module over the full enricher, a one-site lookup and `sqs`."""
    from touchline.aws.sqs import SqsEventQueue
    from touchline.config.sites import Site
    from touchline.enrichment import FullEnricher, InMemorySaltStore
    from touchline.identity.suppression import Suppressions
    from touchline.ingest import service
    from touchline.ingest.collect import Collector
    from touchline.ingest.site_cache import SiteResolver

    class OneSite:
        def by_domain(self, domain: str) -> Site | None:
            return Site("site1", domain, "") if domain == SITE_DOMAIN else None

    os.environ.setdefault("TOUCHLINE_CONFIG_TABLE", "bench")
    os.environ.setdefault("TOUCHLINE_EVENTS_QUEUE_URL", "bench")

    class NoneDeleted:
        def of_site(self, site_id: str) -> frozenset[tuple[str, str]]:
            return frozenset()

    built = Collector(
        SiteResolver(OneSite(), ttl_seconds=3600),
        SqsEventQueue(sqs, "bench"),  # type: ignore[arg-type]
        FullEnricher(InMemorySaltStore()),
        suppressions=Suppressions(NoneDeleted(), ttl_seconds=3600),
    )
    service.collector.cache_clear()
    service.collector = lambda: built  # type: ignore[assignment]
    return load_function("collector")


def handle_all(app: Any, batch: list[dict[str, Any]]) -> None:
    ctx = Ctx()
    for event in batch:
        app.handler(event, ctx)


def cpu_us_per_hit(app: Any, batch: list[dict[str, Any]]) -> float:
    """Best of three passes' CPU µs per hit, after a pass that fills a warm container's caches."""
    ctx = Ctx()
    for event in batch:
        status = app.handler(event, ctx)["statusCode"]
        assert status == 202, status
    runs = []
    for _ in range(3):
        start = time.process_time()
        handle_all(app, batch)
        runs.append(time.process_time() - start)
    return min(runs) / len(batch) * 1e6


def collector_seconds_per_hit() -> float:
    """The pipeline's CPU seconds per hit (`Collector.collect`, full enrichment, no handler) on
    varied hits after a warm-up pass: bench_capacity's input."""
    from touchline.ingest import service
    from touchline.ingest.collect import IncomingHit

    collector_app(CountingSqs())
    built = service.collector()
    incoming = [
        IncomingHit(e["body"].encode(), e["headers"]["user-agent"], e["requestContext"]["http"]["sourceIp"])
        for e in events(REQUESTS)
    ]
    for hit in incoming:
        built.collect(hit)
    runs = []
    for _ in range(3):
        start = time.process_time()
        for hit in incoming:
            built.collect(hit)
        runs.append(time.process_time() - start)
    return min(runs) / len(incoming)


def baseline_us_per_hit(count: int) -> float:
    """Validate each hit's events row and serialise its envelope, nothing else."""
    from touchline.envelope import envelope_json
    from touchline.ingest.rows import EventRow

    now = datetime.now(UTC)
    rows = [
        {
            "event_id": f"00000000-0000-0000-0000-{i:012d}",
            "site_id": "site1",
            "timestamp": now,
            "received_at": now,
            "event_type": "pageview",
            "name": "pageview",
            "url": f"https://shop.example.com/p/{i % PAGES}",
            "hostname": "shop.example.com",
            "pathname": f"/p/{i % PAGES}",
            "visitor_id": f"{i:024x}",
            "browser": "Chrome",
            "os": "Windows",
            "device_type": "Desktop",
        }
        for i in range(count)
    ]
    runs = []
    for _ in range(3):
        start = time.process_time()
        for row in rows:
            envelope_json("events", EventRow.model_validate(row))
        runs.append(time.process_time() - start)
    return min(runs) / count * 1e6


def callgrind_instructions(count: int = CALLGRIND_REQUESTS) -> int:
    """Instructions callgrind counts for one warm pass of `count` distinct hits."""
    return callgrind_collected("bench.bench_collector", str(count))


def import_instructions(code: str) -> int:
    """Instructions callgrind counts for `python -c code`, less those of an empty interpreter."""

    def total(source: str) -> int:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", source],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
        if not found:
            raise RuntimeError(f"no callgrind total in: {done.stderr[-500:]}")
        return int(found.group(1))

    return total(code) - total("pass")


def instructions_per_hit(count: int = CALLGRIND_REQUESTS) -> float | None:
    """A warm pass's instructions per hit, or None without valgrind (or when skipped)."""
    if os.environ.get("TOUCHLINE_BENCH_CALLGRIND") == "0" or not shutil.which("callgrind_control"):
        return None
    return callgrind_instructions(count) / count


def _callgrind_pass(count: int) -> None:
    """Under callgrind: warm up uninstrumented, switch instrumentation on, then run one pass
    inside `functools.reduce`, the only code counted."""
    app = collector_app(CountingSqs())
    batch = events(count)
    handle_all(app, batch)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=True)
    settle = time.monotonic() + 1.0  # callgrind acts on the command at its next check
    while time.monotonic() < settle:
        sum(range(1000))
    ctx = Ctx()
    functools.reduce(lambda _, event: app.handler(event, ctx), batch, None)


def lambda_environment() -> dict[str, str]:
    """The literal environment template.yaml gives every function (what its cold start sees)."""
    from touchline_dev.devstack.template import parse_template_text

    template = parse_template_text((ROOT / "template.yaml").read_text())
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    return {name: value for name, value in variables.items() if isinstance(value, str)}


IMPORT_COLLECTOR = """
import time, importlib.util, sys, os
os.environ.update(ENVIRONMENT)
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
    environment = repr(lambda_environment())
    collector_ms = fresh_interpreter_ms(IMPORT_COLLECTOR.replace("ENVIRONMENT", environment))
    boto3_ms = fresh_interpreter_ms(IMPORT_BOTO3)
    ready_ms = fresh_interpreter_ms(FIRST_HIT_READY.replace("ENVIRONMENT", environment))
    rows = [
        ("collector cold import ms, median of 5 (goal <= 200)", f"{collector_ms:.0f}"),
        ("collector import + boto3 SQS/DynamoDB clients created ms", f"{ready_ms:.0f}"),
        ("`import boto3` alone ms (baseline)", f"{boto3_ms:.0f}"),
        ("collector import / boto3 import", f"{collector_ms / boto3_ms:.2f}x"),
    ]
    if os.environ.get("TOUCHLINE_BENCH_CALLGRIND") != "0" and shutil.which("valgrind"):
        collector = import_instructions(IMPORT_COLLECTOR.replace("ENVIRONMENT", environment))
        boto3 = import_instructions("import boto3")
        rows += [
            ("collector import, millions of instructions under callgrind", f"{collector / 1e6:,.0f}"),
            ("  `import boto3`, millions of instructions (baseline)", f"{boto3 / 1e6:,.0f}"),
            ("  collector import / boto3 import, instructions", f"{collector / boto3:.2f}x"),
        ]
    return rows


def fresh_cpu_us_per_hit(app: Any, seeds: tuple[int, ...] = (21, 22, 23)) -> float:
    """Best of three passes, each over requests the container has not seen (new visitors,
    landings and click ids; the same 1,000 browsers), after `cpu_us_per_hit`'s warm-up."""
    runs = []
    for seed in seeds:
        batch = events(REQUESTS, seed=seed)
        start = time.process_time()
        handle_all(app, batch)
        runs.append((time.process_time() - start) / len(batch) * 1e6)
    return min(runs)


def run() -> list[tuple[str, str]]:
    sqs = CountingSqs()
    app = collector_app(sqs)
    http_api = cpu_us_per_hit(app, events(REQUESTS))
    fresh = fresh_cpu_us_per_hit(app)
    function_url = cpu_us_per_hit(app, events(REQUESTS, seed=6, shape=function_url_event))
    floor = baseline_us_per_hit(REQUESTS)
    instructions = instructions_per_hit()
    rows = [
        (
            f"collector CPU µs/hit, {REQUESTS:,} distinct hits through the handler, full enrichment "
            "(goal <= 50)",
            f"{http_api:.1f}",
        ),
        ("  same, every pass over requests not seen before (landing caches miss)", f"{fresh:.1f}"),
        ("  same, Function URL event shape", f"{function_url:.1f}"),
        ("  baseline µs/hit: validate the events row + serialise its envelope only", f"{floor:.1f}"),
        ("  collector / baseline", f"{http_api / floor:.1f}x"),
    ]
    if instructions is not None:
        rows.append(
            (
                f"  instructions/hit under callgrind (warm pass of {CALLGRIND_REQUESTS:,})",
                f"{instructions:,.0f}",
            )
        )
    return rows + bench_cold_start()


if __name__ == "__main__":
    if sys.argv[1:2] == ["--callgrind-pass"]:
        from bench.common import quiet_powertools

        quiet_powertools()
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the handlers' EMF and log lines
        _callgrind_pass(int(sys.argv[2]))
    else:
        for label, figure in run():
            print(f"{label:<90} {figure}")
