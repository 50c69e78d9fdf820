"""SQS requests per 1,000 hits (collector) and per 1,000 events (tracking API), before and after
packing, counted on the real producers' envelopes (issue 20, point 3).

Each request goes through the real pipeline (the collector's `Collector.collect` on a mix of
pageviews, goals with revenue and identifies; the tracking API's `TrackingApi.handle` on
100-message `/v1/batch` requests from bench_tracking_api), and the envelopes one request
enqueues are sent through `SqsEventQueue` with a counting client, twice: message per envelope as
before packing (`send_messages`), and packed (`send`). The consuming side is modelled as Lambda's
poller works: ReceiveMessage returns up to 10 messages and DeleteMessageBatch removes up to 10 (a
busy queue; idle long polls are not counted). SQS bills every 64 KiB of a request's payload as
one request, so both the API calls and the billed requests are printed.
"""

from __future__ import annotations

import base64
import json
import math
import random
from datetime import UTC, datetime
from typing import Any

CHUNK = 64 * 1024
HITS = 2_000
BATCHES = 30


class CountingSqs:
    """A healthy SQS that counts calls, billed requests and the messages it holds."""

    def __init__(self) -> None:
        self.calls = 0
        self.billed = 0
        self.messages: list[int] = []  # sizes in bytes

    def _bill(self, sizes: list[int]) -> None:
        self.calls += 1
        self.billed += max(1, math.ceil(sum(sizes) / CHUNK))
        self.messages.extend(sizes)

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, Any]:
        self._bill([len(MessageBody.encode())])
        return {"MessageId": "m"}

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, str]]) -> dict[str, Any]:
        self._bill([len(e["MessageBody"].encode()) for e in Entries])
        return {"Successful": [{"Id": e["Id"]} for e in Entries], "Failed": []}

    def consumer(self) -> tuple[int, int]:
        """(calls, billed) for Lambda's poller to receive and delete every message, 10 at a time."""
        calls = billed = 0
        for start in range(0, len(self.messages), 10):
            sizes = self.messages[start : start + 10]
            calls += 2  # ReceiveMessage + DeleteMessageBatch
            billed += max(1, math.ceil(sum(sizes) / CHUNK)) + 1
        return calls, billed


def _collector_requests() -> list[list[str]]:
    """The envelopes of each of HITS collector requests (pageviews, goals, revenue, identifies)."""
    from touchline.config.sites import Site
    from touchline.ingest.collect import Collector, IncomingHit
    from touchline.ingest.enrich import UrlEnricher
    from touchline.ingest.queue import ListQueue
    from touchline.ingest.site_cache import SiteResolver

    class OneSite:
        def by_domain(self, domain: str) -> Site | None:
            return Site("site1", domain, "") if domain == "shop.example.com" else None

    queue = ListQueue()
    collector = Collector(SiteResolver(OneSite(), ttl_seconds=3600), queue, UrlEnricher())
    rng = random.Random(20)
    requests: list[list[str]] = []
    for i in range(HITS):
        hit: dict[str, Any] = {
            "n": "pageview",
            "u": f"https://shop.example.com/p/{i % 50}",
            "d": "shop.example.com",
        }
        roll = rng.random()
        if roll < 0.05:
            hit |= {"n": "identify", "vid": f"visitor{i:020d}"[:22], "uid": f"user-{i}"}
        elif roll < 0.15:
            hit |= {"n": "Purchase", "$": {"amount": "19.99", "currency": "EUR"}}
        before = len(queue.bodies)
        collector.collect(IncomingHit(json.dumps(hit).encode(), "Mozilla/5.0", "203.0.113.7"))
        requests.append(queue.bodies[before:])
    return requests


def _tracking_requests() -> tuple[list[list[str]], int]:
    """The envelopes of BATCHES `/v1/batch` requests of 100 messages, and the events they hold."""
    from bench.bench_enrichment import user_agents
    from bench.bench_tracking_api import batch
    from touchline.config.write_keys import WriteKey
    from touchline.enrichment import FullEnricher
    from touchline.ingest.queue import ListQueue
    from touchline.tracking.api import ApiRequest, TrackingApi
    from touchline.tracking.convert import MessageConverter
    from touchline.tracking.enrich import ContextEnricher
    from touchline.tracking.keys import WriteKeyResolver

    class Keys:
        def lookup(self, key: str) -> WriteKey | None:
            return WriteKey("kid", "site1", "shop.example.com", "", False)

    queue = ListQueue()
    api = TrackingApi(WriteKeyResolver(Keys()), queue, MessageConverter(ContextEnricher(FullEnricher())))
    auth = {"authorization": "Basic " + base64.b64encode(b"tlwk_bench:").decode()}
    agents = user_agents()
    requests: list[list[str]] = []
    events = 0
    for run in range(BATCHES):
        body = batch(True, run, agents)
        events += len(body["batch"])
        before = len(queue.bodies)
        api.handle(ApiRequest("batch", json.dumps(body).encode(), auth))
        requests.append(queue.bodies[before:])
    return requests, events


def _count(requests: list[list[str]], packed: bool) -> tuple[int, int, int, int]:
    """(producer calls, producer billed, consumer calls, consumer billed) for all requests."""
    from touchline.aws.sqs import SqsEventQueue

    sqs = CountingSqs()
    queue = SqsEventQueue(sqs, "bench")  # type: ignore[arg-type]
    for envelopes in requests:
        if packed:
            queue.send(envelopes)
        else:
            queue.send_messages(envelopes)
    consumer_calls, consumer_billed = sqs.consumer()
    return sqs.calls, sqs.billed, consumer_calls, consumer_billed


def run() -> list[tuple[str, str]]:
    started = datetime.now(UTC)
    rows: list[tuple[str, str]] = []
    collector = _collector_requests()
    tracking, events = _tracking_requests()
    for label, requests, per in (
        ("collector, per 1,000 hits", collector, HITS),
        ("tracking API, per 1,000 events", tracking, events),
    ):
        before = _count(requests, packed=False)
        after = _count(requests, packed=True)
        scale = 1000 / per
        rows += [
            (
                f"{label}: SQS API calls send + receive/delete, before -> after",
                f"{before[0] * scale:,.0f} + {before[2] * scale:,.0f} -> "
                f"{after[0] * scale:,.0f} + {after[2] * scale:,.0f}",
            ),
            (
                f"{label}: billed SQS requests (64 KiB each), before -> after",
                f"{(before[1] + before[3]) * scale:,.0f} -> {(after[1] + after[3]) * scale:,.0f}"
                f" ({(after[1] + after[3]) / (before[1] + before[3]):.2f}x)",
            ),
        ]
    rows.append(("(envelopes from the real pipelines; measured at)", started.strftime("%Y-%m-%d %H:%M UTC")))
    return rows


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<80} {figure}")
