"""Revenue intake: what a webhook costs before the network (providers retry slow answers).

Figures: the webhooks function's cold start (module import + the lazily imported stripe and
Powertools Idempotency a first delivery needs) as a ratio to the collector's, and per-delivery
CPU of the intake pipeline (verify, parse, translate, envelope) with in-memory queue and dedupe,
as a ratio to one collector hit measured in the same run.
"""

from __future__ import annotations

import json
import sys
import time

from bench.common import ROOT, best_of, fresh_interpreter_ms

DELIVERIES = 2000

IMPORT_WEBHOOKS = """
import os, time, importlib.util, sys
os.environ.update(TOUCHLINE_CONFIG_TABLE='t', TOUCHLINE_EVENTS_QUEUE_URL='q', AWS_DEFAULT_REGION='us-east-1')
t = time.perf_counter()
spec = importlib.util.spec_from_file_location('app', 'functions/webhooks/app.py')
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
from touchline.revenue import service
service.deduper()
import stripe
from touchline.revenue import stripe_events
print((time.perf_counter() - t) * 1000)
"""
IMPORT_COLLECTOR = """
import time, importlib.util
t = time.perf_counter()
spec = importlib.util.spec_from_file_location('app', 'functions/collector/app.py')
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
print((time.perf_counter() - t) * 1000)
"""


def bench_cold_start() -> list[tuple[str, str]]:
    webhooks_ms = fresh_interpreter_ms(IMPORT_WEBHOOKS)
    collector_ms = fresh_interpreter_ms(IMPORT_COLLECTOR)
    return [
        ("webhooks cold import + stripe + idempotency ms, median of 5", f"{webhooks_ms:.0f}"),
        ("webhooks cold start / collector cold import", f"{webhooks_ms / collector_ms:.2f}x"),
    ]


def bench_intake() -> list[tuple[str, str]]:
    sys.path.insert(0, str(ROOT / "tests"))  # the documented payload shapes the tests sign
    from revenue_payloads import (
        SHOPIFY_SECRET,
        STRIPE_SECRET,
        checkout_session,
        shopify_headers,
        shopify_order,
        stripe_body,
        stripe_event,
        stripe_signature,
    )

    from touchline.ingest.collect import Collector, IncomingHit
    from touchline.ingest.enrich import UrlEnricher
    from touchline.ingest.queue import ListQueue
    from touchline.revenue.dedupe import MemoryDeduper
    from touchline.revenue.intake import RevenueIntake

    class Sites:
        def exists(self, site_id: str) -> bool:
            return True

        def site_id(self, domain: str) -> str:
            return "site1"

    class Secrets:
        def get(self, site_id: str, provider: str) -> list[str]:
            return [STRIPE_SECRET if provider == "stripe" else SHOPIFY_SECRET]

    class NoTokens:
        def site_for(self, token: str) -> None:
            return None

    intake = RevenueIntake(Sites(), Secrets(), NoTokens(), ListQueue(), MemoryDeduper())
    stripe_deliveries = []
    for _ in range(DELIVERIES):
        body = stripe_body(
            stripe_event("checkout.session.completed", checkout_session(amount=4999, visitor="v1"))
        )
        stripe_deliveries.append((body, stripe_signature(body)))
    order = json.dumps(shopify_order(visitor="v1")).encode()
    shopify_deliveries = [(order, shopify_headers(order, "orders/paid")) for _ in range(DELIVERIES)]
    shopify_lower = [(b, {k.lower(): v for k, v in h.items()}) for b, h in shopify_deliveries]
    intake.stripe("site1", *stripe_deliveries[0])  # imports stripe outside the timing

    def run_stripe() -> float:
        started = time.perf_counter()
        for body, signature in stripe_deliveries:
            intake.stripe("site1", body, signature)
        return time.perf_counter() - started

    def run_shopify() -> float:
        started = time.perf_counter()
        for body, headers in shopify_lower:
            intake.shopify("site1", body, headers)
        return time.perf_counter() - started

    collector = Collector(Sites(), ListQueue(), UrlEnricher())  # type: ignore[arg-type]
    hit = json.dumps(
        {"name": "pageview", "url": "https://shop.example.com/p?utm_source=x", "domain": "shop.example.com"}
    )
    incoming = IncomingHit(hit.encode(), "Mozilla/5.0", "203.0.113.7", {})

    def run_collector() -> float:
        started = time.perf_counter()
        for _ in range(DELIVERIES):
            collector.collect(incoming)
        return time.perf_counter() - started

    stripe_s = best_of(3, run_stripe) / DELIVERIES
    shopify_s = best_of(3, run_shopify) / DELIVERIES
    hit_s = best_of(3, run_collector) / DELIVERIES
    return [
        ("stripe checkout.session delivery µs (verify+translate+envelope)", f"{stripe_s * 1e6:.0f}"),
        ("stripe delivery / collector hit (URL enrichment only)", f"{stripe_s / hit_s:.1f}x"),
        ("shopify orders/paid delivery µs (1 line item)", f"{shopify_s * 1e6:.0f}"),
        ("shopify delivery / collector hit", f"{shopify_s / hit_s:.1f}x"),
    ]


def run() -> list[tuple[str, str]]:
    return bench_cold_start() + bench_intake()


if __name__ == "__main__":
    for label, figure in run():
        print(f"{label:<70} {figure}")
