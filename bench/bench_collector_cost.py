"""The worst-case cost of one collector request (issue 13: one 14 KB body once ran 25 s).

The collector pipeline with its real site lookups (`SiteStore` on moto's in-process DynamoDB) and
an in-memory queue, for the cheapest request and for the worst ones it accepts: the largest
body (16 KB) naming the most domains (10), each new to the container (so none is cached), with
one or all ten registered. Each figure is a median over fresh requests, beside the number of
DynamoDB round trips it made, and as a ratio to a normal hit measured in the same run. moto
answers in-process; on AWS each round trip adds a few milliseconds of network (the figure to add
is printed as round trips). `python -m bench.bench_collector_cost [requests]`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

REQUESTS = 30  # per case: each worst-case request needs up to ten sites never seen before
TABLE = "bench-collector-cost"
UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def _body(domains: list[str], size: int) -> bytes:
    """A pageview naming `domains`, padded with props to exactly `size` bytes."""
    hit: dict[str, Any] = {"n": "pageview", "u": f"https://{domains[0]}/landing?utm_source=bench"}
    hit |= {"d": ",".join(domains), "p": {f"k{i:02d}": "" for i in range(30)}}
    room = size - len(json.dumps(hit))
    for i, key in enumerate(hit["p"]):
        hit["p"][key] = "v" * (room // 30 + (room % 30 if i == 0 else 0))
    body = json.dumps(hit).encode()
    assert len(body) == size, len(body)
    return body


def _median_ms(run: Callable[[int], None], requests: int) -> float:
    times = []
    for i in range(requests):
        started = time.perf_counter()
        run(i)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def measure(requests: int = REQUESTS) -> list[tuple[str, str]]:
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(name, "testing")
    import boto3
    from moto import mock_aws

    from touchline.config.sites import SiteStore
    from touchline.ingest.collect import Collector, IncomingHit
    from touchline.ingest.enrich import UrlEnricher
    from touchline.ingest.hit import MAX_BODY_BYTES
    from touchline.ingest.queue import ListQueue
    from touchline.ingest.service import site_resolver
    from touchline.ingest.site_cache import SiteResolver

    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        _table(dynamodb)
        store = SiteStore(dynamodb, TABLE)
        registered = [store.add(f"shop{i}.example.com").domain for i in range(22 * requests + 1)]
        calls: list[str] = []
        dynamodb.meta.events.register(
            "provide-client-params.dynamodb", lambda model, **_: calls.append(model.name)
        )

        def collector(batched: bool) -> Collector:
            sites = site_resolver(store, 60.0) if batched else SiteResolver(store, ttl_seconds=60.0)
            return Collector(sites, ListQueue(), UrlEnricher())

        def hit(built: Collector, body: bytes) -> None:
            built.collect(IncomingHit(body, UA, "203.0.113.7"))

        rows: list[tuple[str, str]] = []
        warm = collector(True)
        normal = json.dumps({"n": "pageview", "u": f"https://{registered[0]}/", "d": registered[0]}).encode()
        hit(warm, normal)
        calls.clear()
        base = _median_ms(lambda _i: hit(warm, normal), requests)
        rows.append(("normal hit, site cached: ms/request (the baseline)", f"{base:.3f}"))
        rows.append(("  DynamoDB round trips per request", f"{len(calls) / requests:.1f}"))

        cases = [
            ("16 KB, 1 registered + 9 unknown domains, none cached", 1),
            ("16 KB, 10 registered domains, none cached (10 events)", 10),
        ]
        first = 1  # registered[0] is the normal hit's
        for batched in (True, False):
            for label, known in cases:
                built = collector(batched)

                def worst(i: int, known: int = known, built: Collector = built, first: int = first) -> None:
                    mine = registered[first + known * i : first + known * (i + 1)]
                    names = mine + [f"n{first}-{i}-{j}.unknown.example" for j in range(10 - known)]
                    hit(built, _body(names, MAX_BODY_BYTES))

                calls.clear()
                ms = _median_ms(worst, requests)
                first += known * requests
                how = "batched lookups (now)" if batched else "one GetItem per domain (before)"
                rows.append((f"{label}, {how}: ms/request", f"{ms:.3f} ({ms / base:.1f}x normal)"))
                rows.append(("  DynamoDB round trips per request", f"{len(calls) / requests:.1f}"))
        repeat = collector(True)
        unknown = _body([registered[0], *(f"{c}.unknown.example" for c in "abcdefghi")], MAX_BODY_BYTES)
        hit(repeat, unknown)
        calls.clear()
        ms = _median_ms(lambda _i: hit(repeat, unknown), requests)
        rows.append(("16 KB, the same unknown domains again (negative cache): ms/request", f"{ms:.3f}"))
        rows.append(("  DynamoDB round trips per request", f"{len(calls) / requests:.1f}"))
        return rows


def run() -> list[tuple[str, str]]:
    return measure()


if __name__ == "__main__":
    for label, figure in measure(int(sys.argv[1]) if len(sys.argv) > 1 else REQUESTS):
        print(f"{label:<86} {figure}")
