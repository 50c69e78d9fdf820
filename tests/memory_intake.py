"""The revenue intake with in-memory stand-ins (sites, secrets, tokens, queue, dedupe): the whole
verify → translate → rows → envelopes path of the webhooks function, without AWS, for tests that
send many deliveries (tests/unit/revenue)."""

from __future__ import annotations

from provider_samples import LEMONSQUEEZY_SECRET, PADDLE_SECRET, POLAR_SECRET
from revenue_payloads import SHOPIFY_SECRET, STRIPE_SECRET

from touchline.ingest.queue import ListQueue
from touchline.revenue.dedupe import MemoryDeduper
from touchline.revenue.intake import RevenueIntake

SITE = "site-memory"
TOKEN = "tok-memory"
SECRETS = {
    "stripe": STRIPE_SECRET,
    "shopify": SHOPIFY_SECRET,
    "lemonsqueezy": LEMONSQUEEZY_SECRET,
    "polar": POLAR_SECRET,
    "paddle": PADDLE_SECRET,
}


class _Sites:
    def exists(self, site_id: str) -> bool:
        return site_id == SITE


class _Secrets:
    def get(self, site_id: str, provider: str) -> list[str] | None:
        return [SECRETS[provider]] if site_id == SITE else None


class _Tokens:
    def site_for(self, token: str) -> str | None:
        return SITE if token == TOKEN else None


def memory_intake(queue: ListQueue) -> RevenueIntake:
    """Every provider configured for `SITE` with the samples' secrets; `Bearer TOKEN` for the API."""
    return RevenueIntake(_Sites(), _Secrets(), _Tokens(), queue, MemoryDeduper())
