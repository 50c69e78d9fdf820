"""Tag figures: the served script's size, the collector's µs/hit through its handler with full
enrichment, the tag GET, and the collector's cold import.

The hit mix: 20,000 API Gateway v2 events over the enrichment bench's 1,000 distinct realistic
user agents, as the tag sends them (text/plain bodies in the compact keys, a first-party
visitor id on most, pageviews with and without UTM tags and referrers, goals with props, some
with revenue), client IPs in `x-forwarded-for`. SQS is an in-memory list and the site lookup
is cached, so the figure is the Lambda's own work. "Warm" means every agent was seen once.
The baseline is the same handler with URL/UTM-only enrichment, measured in the same run.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import time
from importlib.resources import files
from typing import Any

from bench.bench_enrichment import _QUERIES, _REFERRERS, user_agents
from bench.common import ROOT, best_of, fresh_interpreter_ms, load_function, timed

HITS = 20_000
GOAL_US_PER_HIT = 100
GOAL_IMPORT_MS = 400
TAG_GETS = 5_000


class _Ctx:
    function_name = "bench"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
    aws_request_id = "bench"


# What a browser's beacon carries besides the agent, as API Gateway passes it on (lower-cased).
BROWSER_HEADERS = {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate, br, zstd",
    "accept-language": "en-GB,en;q=0.9,fr;q=0.8",
    "content-type": "text/plain;charset=UTF-8",
    "origin": "https://shop.example.com",
    "referer": "https://shop.example.com/",
    "sec-ch-ua": '"Chromium";v="131", "Not_A Brand";v="24", "Google Chrome";v="131"',
    "sec-ch-ua-mobile": "?0",
    "sec-ch-ua-platform": '"macOS"',
    "sec-fetch-dest": "empty",
    "sec-fetch-mode": "no-cors",
    "sec-fetch-site": "cross-site",
    "x-forwarded-port": "443",
    "x-forwarded-proto": "https",
}


def _visitor_id(rng: random.Random) -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(22))


def _body(i: int, rng: random.Random, visitors: list[str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "n": "pageview",
        "u": f"https://shop.example.com/p/{i % 50}{rng.choice(_QUERIES)}",
        "d": "shop.example.com",
        "r": rng.choice(_REFERRERS) or None,
        "w": rng.choice((390, 414, 768, 1280, 1440, 1920)),
    }
    roll = rng.random()
    if roll < 0.15:
        body.update(n=rng.choice(("Signup", "Add To Cart", "Outbound Link: Click")), p={"plan": "pro"})
    elif roll < 0.2:
        body.update(n="Purchase", p={"sku": f"TL-{i % 40}"}, **{"$": {"amount": "49.99", "currency": "EUR"}})
    if rng.random() < 0.85:  # the rest run the tag cookieless
        body["vid"] = visitors[i % len(visitors)]
    return body


def events(count: int = HITS, seed: int = 5) -> list[dict[str, Any]]:
    """API Gateway HTTP API (payload 2.0) events of `POST /api/event`, as the tag sends them."""
    rng = random.Random(seed)
    agents = user_agents()
    visitors = [_visitor_id(rng) for _ in range(3_000)]
    template = json.loads((ROOT / "events" / "collector_pageview.json").read_text())
    out = []
    for i in range(count):
        ip = f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        event = json.loads(json.dumps(template))
        event["body"] = json.dumps(_body(i, rng, visitors), separators=(",", ":"))
        event["headers"].update(
            {
                **BROWSER_HEADERS,
                "content-length": str(len(event["body"])),
                "user-agent": agents[i % len(agents)],
                "x-forwarded-for": ip,
                "x-amzn-trace-id": f"Root=1-674a0b2c-{i:024x}",
            }
        )
        event["requestContext"]["http"]["userAgent"] = agents[i % len(agents)]
        out.append(event)
    return out


def _handler(enricher: object) -> tuple[Any, Any]:
    """The real collector handler, with SQS as a list and one cached site."""
    from touchline.config.sites import Site
    from touchline.ingest import service
    from touchline.ingest.collect import Collector
    from touchline.ingest.queue import ListQueue
    from touchline.ingest.site_cache import SiteResolver

    class OneSite:
        def by_domain(self, domain: str) -> Site | None:
            return Site("site1", domain, "") if domain == "shop.example.com" else None

    os.environ.setdefault("TOUCHLINE_CONFIG_TABLE", "bench")
    os.environ.setdefault("TOUCHLINE_EVENTS_QUEUE_URL", "bench")
    built = Collector(SiteResolver(OneSite(), ttl_seconds=3600), ListQueue(), enricher)  # type: ignore[arg-type]
    service.collector = lambda: built  # type: ignore[assignment]
    return load_function("collector"), built


def _per_hit_us(app: Any, batch: list[dict[str, Any]]) -> tuple[float, float]:
    """Best of 3 passes: (wall µs/hit, CPU µs/hit). On a shared machine the CPU time of this
    thread is the steadier figure; wall time includes waiting for the other processes."""
    ctx = _Ctx()
    walls, cpus = [], []
    for _ in range(3):
        cpu = time.thread_time()
        walls.append(timed(lambda: [app.handler(event, ctx) for event in batch]))
        cpus.append(time.thread_time() - cpu)
    return min(walls) / len(batch) * 1e6, min(cpus) / len(batch) * 1e6


def bench_handler() -> list[tuple[str, str]]:
    from touchline.enrichment import FullEnricher, InMemorySaltStore
    from touchline.ingest.enrich import UrlEnricher

    batch = events()
    full = FullEnricher(InMemorySaltStore())
    app, _ = _handler(full)
    statuses = {app.handler(event, _Ctx())["statusCode"] for event in batch}  # warm: every agent seen
    assert statuses == {202}, statuses
    full_us, full_cpu = _per_hit_us(app, batch)
    dropped = sum(
        1 for event in batch if "X-Touchline-Dropped" in (app.handler(event, _Ctx()).get("headers") or {})
    )
    url_app, _ = _handler(UrlEnricher())
    url_us, url_cpu = _per_hit_us(url_app, batch)

    tag_ctx = _Ctx()
    get = json.loads((ROOT / "events" / "collector_tag_script.json").read_text())
    revalidate = json.loads(json.dumps(get))
    first = app.handler(get, tag_ctx)
    revalidate["headers"]["if-none-match"] = first["headers"]["ETag"]
    get_us = best_of(3, lambda: timed(lambda: [app.handler(get, tag_ctx) for _ in range(TAG_GETS)]))
    not_modified_us = best_of(
        3, lambda: timed(lambda: [app.handler(revalidate, tag_ctx) for _ in range(TAG_GETS)])
    )
    return [
        (
            f"collector µs/hit through the handler, full enrichment, warm "
            f"({len(batch):,} hits, 1,000 agents; goal <= {GOAL_US_PER_HIT})",
            f"{full_us:.1f} µs",
        ),
        ("  the same, CPU time of the benchmark thread", f"{full_cpu:.1f} µs"),
        (
            "  same handler, URL/UTM-only enrichment (baseline), wall / CPU",
            f"{url_us:.1f} / {url_cpu:.1f} µs",
        ),
        ("  full enrichment / baseline (CPU)", f"{full_cpu / url_cpu:.2f}x"),
        ("  machine load average (1 min) after the run", f"{os.getloadavg()[0]:.2f}"),
        ("  hits dropped by enrichment in the mix", f"{dropped}"),
        ("GET /js/script.js through the handler (gzip)", f"{get_us / TAG_GETS * 1e6:.1f} µs"),
        (
            "GET /js/script.js with a matching If-None-Match (304)",
            f"{not_modified_us / TAG_GETS * 1e6:.1f} µs",
        ),
    ]


def bench_script() -> list[tuple[str, str]]:
    tag = files("touchline.tag")
    source = tag.joinpath("touchline.js").read_bytes()
    served = tag.joinpath("touchline.min.js").read_bytes()
    gzipped = len(gzip.compress(served, compresslevel=9, mtime=0))
    return [
        ("tag served (touchline.min.js), gzipped (goal <= 2,048 bytes)", f"{gzipped:,} bytes"),
        ("  minified, uncompressed", f"{len(served):,} bytes"),
        ("  readable source, gzipped (for scale)", f"{len(gzip.compress(source, 9, mtime=0)):,} bytes"),
        ("  gzipped size / budget", f"{gzipped / 2048:.2f}"),
    ]


IMPORT_COLLECTOR = """
import time, importlib.util
t = time.perf_counter()
spec = importlib.util.spec_from_file_location('app', 'functions/collector/app.py')
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print((time.perf_counter() - t) * 1000)
"""
IMPORT_BOTO3 = "import time; t = time.perf_counter(); import boto3; print((time.perf_counter() - t) * 1000)"
# What a Lambda init pays before its first hit: the module, then boto3 for the SQS client.
IMPORT_BOTH = IMPORT_COLLECTOR.replace("print(", "import boto3; print(")


def bench_cold_import() -> list[tuple[str, str]]:
    collector_ms = fresh_interpreter_ms(IMPORT_COLLECTOR)
    boto3_ms = fresh_interpreter_ms(IMPORT_BOTO3)
    both_ms = fresh_interpreter_ms(IMPORT_BOTH)
    return [
        (
            f"collector cold import, fresh interpreter, median of 5 (goal <= {GOAL_IMPORT_MS})",
            f"{collector_ms:.0f} ms",
        ),
        ("  `import boto3` alone (baseline)", f"{boto3_ms:.0f} ms"),
        ("  collector import / boto3 import", f"{collector_ms / boto3_ms:.2f}x"),
        ("  collector module then `import boto3`, one interpreter", f"{both_ms:.0f} ms"),
    ]


def run() -> list[tuple[str, str]]:
    return bench_script() + bench_cold_import() + bench_handler()


if __name__ == "__main__":
    started = time.perf_counter()
    for label, figure in run():
        print(f"{label:<84} {figure}")
    print(f"({time.perf_counter() - started:.0f} s)")
