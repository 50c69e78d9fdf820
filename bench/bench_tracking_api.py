"""Tracking API figures: µs per event for a `/v1/batch` of 100 events through the Lambda handler,
in-process, with SQS stubbed (SendMessageBatch returns at once) and the write key cached.
Every request is different (its own visitors, browsers, IPs, referrers, landings and unique click
ids), so the figure is a warm Lambda's on varied traffic, not on one request repeated.

Baseline, measured in the same run: the irreducible part of the work, validating each event's
`events` row and serialising its envelope (what any producer must do), so the ratio says what
the API's parsing, authentication, enrichment and identity rows add on top.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_enrichment import user_agents
from bench.common import best_of, load_function, timed

EVENTS = 100
REQUESTS = 200
VISITORS_PER_BATCH = 20
SQS_LATENCY = 0.005  # a SendMessageBatch round trip within a region
# Where relayed browser context says a visitor came from: a busy shop's mix, with click ids
# unique per click (so per-landing caches miss on them, as they do in production).
REFERRERS = (
    "",
    "",
    "https://www.google.com/",
    "https://www.bing.com/",
    "https://l.facebook.com/",
    "https://t.co/abc",
    "https://news.ycombinator.com/item?id=1",
)
LANDINGS = (
    "",
    "",
    "?utm_source=newsletter&utm_medium=email&utm_campaign=nov",
    "?gclid={click}",
    "?fbclid={click}",
)
CAMPAIGNS: tuple[dict[str, str] | None, ...] = (
    None,
    None,
    {"source": "newsletter", "medium": "email", "name": "nov"},
    {"source": "partner", "medium": "affiliate", "name": "black-friday"},
)


class _StubSqs:
    """SendMessageBatch / SendMessage that accept everything, as a healthy queue does."""

    def __init__(self) -> None:
        self.calls = 0

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Successful": [{"Id": e["Id"]} for e in kwargs["Entries"]], "Failed": []}

    def send_message(self, **kwargs: Any) -> dict[str, Any]:
        self.calls += 1
        return {"MessageId": "m"}


class _SlowSqs(_StubSqs):
    """A healthy queue `latency` seconds away: what a Lambda waits for per call."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def send_message_batch(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(self.latency)
        return super().send_message_batch(**kwargs)


def sqs_wait_ms(bodies: list[str], latency: float) -> tuple[float, float]:
    """Wall ms to enqueue one request's envelopes: SendMessageBatch calls in turn (the baseline)
    and as SqsEventQueue sends them (concurrently)."""
    from touchline.aws.sqs import SqsEventQueue, _chunks

    queue = SqsEventQueue(_SlowSqs(latency), "bench")  # type: ignore[arg-type]
    queue.send(bodies)  # starts the sender threads

    def in_turn_sends() -> None:
        for chunk in _chunks(bodies):
            queue._send_batch(chunk)

    in_turn = timed(in_turn_sends)
    concurrent = best_of(3, lambda: timed(lambda: queue.send(bodies)))
    return in_turn * 1e3, concurrent * 1e3


def batch(with_context: bool, run: int, agents: list[str], consent: Any = None) -> dict[str, Any]:
    """100 messages as the SDKs send them: tracks, pages and identifies of 20 visitors, each
    visitor with their own browser, IP, referrer and landing when `with_context`; with Segment's
    consent object on every message when `consent` is given (docs/consent.md)."""
    rng = random.Random(run)
    sent_at = datetime.now(UTC) - timedelta(seconds=1)
    visitors = [
        {
            "ip": f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
            "userAgent": agents[(run * VISITORS_PER_BATCH + k) % len(agents)],
            "referrer": rng.choice(REFERRERS),
            "landing": rng.choice(LANDINGS).format(click=f"Cj0K{rng.getrandbits(64):x}"),
            "campaign": rng.choice(CAMPAIGNS),
        }
        for k in range(VISITORS_PER_BATCH)
    ]
    messages = []
    for i in range(EVENTS):
        k = i % VISITORS_PER_BATCH
        kind = ("track", "track", "page", "track", "identify")[i % 5]
        message: dict[str, Any] = {
            "type": kind,
            "messageId": f"r{run}-m{i}",
            "anonymousId": f"anon-{run}-{k}",
            "userId": f"user-{run}-{k}" if i % 3 == 0 else None,
            "timestamp": (sent_at - timedelta(milliseconds=EVENTS - i)).isoformat().replace("+00:00", "Z"),
            "context": {"library": {"name": "analytics-python", "version": "2.4.0"}},
        }
        if kind == "track":
            message["event"] = ("Product Viewed", "Signed Up", "Checkout Started")[i % 3]
            message["properties"] = {"product_id": f"p{i}", "price": 19.99, "plan": "pro", "tags": ["a", "b"]}
        elif kind == "page":
            message["name"] = "Pricing"
            message["properties"] = {"url": f"https://shop.example.com/pricing?i={i}"}
        else:
            message["traits"] = {"email": f"user{run}-{k}@example.com", "plan": "pro"}
        if with_context:
            visitor = visitors[k]
            context: dict[str, Any] = {
                "ip": visitor["ip"],
                "userAgent": visitor["userAgent"],
                "page": {
                    "url": f"https://shop.example.com/p/{i}{visitor['landing']}",
                    "referrer": visitor["referrer"],
                },
            }
            if visitor["campaign"]:
                context["campaign"] = visitor["campaign"]
            message["context"].update(context)
        if consent is not None:
            message["context"]["consent"] = {"categoryPreferences": consent}
        messages.append(message)
    return {"batch": messages, "sentAt": sent_at.isoformat().replace("+00:00", "Z")}


def http_event(body: dict[str, Any], compress: bool) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    headers = {
        "content-type": "application/json",
        "authorization": "Basic " + base64.b64encode(b"tlwk_bench:").decode(),
    }
    if compress:
        raw = gzip.compress(raw)
        headers["content-encoding"] = "gzip"
    return {
        "version": "2.0",
        "routeKey": "POST /v1/batch",
        "rawPath": "/v1/batch",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "http": {
                "method": "POST",
                "path": "/v1/batch",
                "sourceIp": "203.0.113.7",
                "protocol": "HTTP/1.1",
            },
            "requestId": "bench",
            "routeKey": "POST /v1/batch",
            "stage": "$default",
        },
        "body": base64.b64encode(raw).decode() if compress else raw.decode(),
        "isBase64Encoded": compress,
    }


def run() -> list[tuple[str, str]]:
    from touchline.aws.sqs import SqsEventQueue
    from touchline.config.write_keys import WriteKey
    from touchline.consent.policy import policy
    from touchline.enrichment import FullEnricher
    from touchline.envelope import envelope_json
    from touchline.ingest.queue import ListQueue
    from touchline.ingest.rows import EventRow
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
    sqs = _StubSqs()
    api = TrackingApi(
        WriteKeyResolver(OneKey(), ttl_seconds=3600),
        SqsEventQueue(sqs, "bench"),  # type: ignore[arg-type]
        MessageConverter(ContextEnricher(FullEnricher())),
    )
    service.tracking_api = lambda: api  # type: ignore[assignment]
    app = load_function("tracking_api")

    class Ctx:
        function_name = "bench"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:0:function:bench"
        aws_request_id = "bench"

    ctx = Ctx()

    agents = user_agents()

    def requests(with_context: bool, compress: bool, consent: Any = None) -> list[dict[str, Any]]:
        return [http_event(batch(with_context, run, agents, consent), compress) for run in range(REQUESTS)]

    def per_event(events: list[dict[str, Any]]) -> float:
        """Best of three passes over distinct requests, after one pass that fills the caches a
        warm Lambda has (parsed agents, landings)."""
        for event in events:
            assert app.handler(event, ctx)["statusCode"] == 200
        seconds = best_of(3, lambda: timed(lambda: [app.handler(event, ctx) for event in events]))
        return seconds / (len(events) * EVENTS) * 1e6

    browser = per_event(requests(with_context=True, compress=False))
    browser_gzip = per_event(requests(with_context=True, compress=True))
    server = per_event(requests(with_context=False, compress=False))
    # Consent on every call (as Segment asks), recorded (site `off`), then enforced (`opt_in`).
    granted, refused = {"Analytics": True, "Advertising": True}, {"Analytics": False, "Advertising": False}
    recorded = per_event(requests(with_context=True, compress=False, consent=granted))
    consent_policy = policy("opt_in")
    api._keys = WriteKeyResolver(OneKey(), ttl_seconds=3600, consent_of=lambda _site: consent_policy)
    enforced_granted = per_event(requests(with_context=True, compress=False, consent=granted))
    enforced_refused = per_event(requests(with_context=True, compress=False, consent=refused))
    api._keys = WriteKeyResolver(OneKey(), ttl_seconds=3600)
    # The consent figures' baseline: browser context again, after them (the load drifts), the lower.
    plain = min(browser, per_event(requests(with_context=True, compress=False)))
    calls_before = sqs.calls
    app.handler(http_event(batch(True, REQUESTS, agents), compress=False), ctx)
    sqs_calls = sqs.calls - calls_before
    queue = ListQueue()
    api._queue = queue  # the bodies one request enqueues
    app.handler(http_event(batch(True, REQUESTS + 1, agents), compress=False), ctx)
    in_turn_ms, concurrent_ms = sqs_wait_ms(queue.bodies, SQS_LATENCY)

    # Baseline: validate each message's events row and serialise its envelope, nothing else.
    rows = [
        {
            "event_id": f"00000000-0000-0000-0000-{i:012d}",
            "site_id": "site1",
            "timestamp": "2026-11-20T10:00:00Z",
            "received_at": "2026-11-20T10:00:01Z",
            "event_type": "goal",
            "name": "Signed Up",
            "visitor_id": f"anon-{i % 20}",
            "props": {"product_id": f"p{i}", "price": "19.99", "plan": "pro"},
        }
        for i in range(EVENTS)
    ]
    floor = best_of(
        3,
        lambda: timed(
            lambda: [
                [envelope_json("events", EventRow.model_validate(row)) for row in rows]
                for _ in range(REQUESTS)
            ]
        ),
    )
    floor_us = floor / (REQUESTS * EVENTS) * 1e6
    return [
        (
            "tracking API µs/event, /v1/batch of 100 through the handler, browser context (goal <= 60)",
            f"{browser:.1f}",
        ),
        ("  same, gzip body", f"{browser_gzip:.1f}"),
        ("  same, server-side calls without browser context", f"{server:.1f}"),
        (
            "  browser context + consent object on every call, site off (recorded) / browser",
            f"{recorded / browser:.2f}x",
        ),
        ("  same, site opt_in, consent granted / browser", f"{enforced_granted / plain:.2f}x"),
        (
            "  same, site opt_in, analytics and advertising refused / browser",
            f"{enforced_refused / browser:.2f}x",
        ),
        ("  baseline µs/event: validate the events row + serialise its envelope only", f"{floor_us:.1f}"),
        ("  API cost / baseline (browser context)", f"{browser / floor_us:.1f}x"),
        ("  SQS SendMessageBatch calls per 100-event batch (events + identity/people rows)", str(sqs_calls)),
        (
            f"  ms waiting for SQS per batch at {SQS_LATENCY * 1e3:.0f} ms a call: calls in turn (baseline)",
            f"{in_turn_ms:.0f}",
        ),
        ("  same, as SqsEventQueue sends them (concurrently)", f"{concurrent_ms:.0f}"),
    ]


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<90} {figure}")
