"""Builders for realistic envelopes and SQS Lambda events, shared by tests and benchmarks."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from touchline.envelope import envelope_json
from touchline.ingest.collect import build_row
from touchline.ingest.enrich import HitContext, UrlEnricher
from touchline.ingest.hit import PlausibleHit
from touchline.ingest.rows import EventRow
from touchline.revenue.rows import OrderRow

PAGES = ["/", "/pricing", "/blog/launch", "/docs/start", "/checkout"]


def envelope_bodies(count: int, site_id: str = "site1", start: datetime | None = None) -> list[str]:
    start = start or datetime(2026, 11, 1, tzinfo=UTC)
    enricher = UrlEnricher()
    bodies = []
    for i in range(count):
        hit = PlausibleHit.model_validate(
            {
                "n": "pageview" if i % 10 else "Signup",
                "u": f"https://shop.example.com{PAGES[i % len(PAGES)]}?utm_source=src{i % 7}&utm_medium=cpc",
                "d": "shop.example.com",
                "r": "https://www.google.com/",
                "p": {"variant": f"v{i % 3}"},
                **({"$": {"amount": "19.99", "currency": "EUR"}} if i % 10 == 0 else {}),
            }
        )
        context = HitContext(
            site_id=site_id,
            site_domain="shop.example.com",
            url=hit.url,
            referrer=hit.referrer or "",
            user_agent="Mozilla/5.0",
            ip="203.0.113.1",
            timestamp=start + timedelta(seconds=i),
            visitor_id=f"v{i % 97}",
        )
        bodies.append(envelope_json("events", build_row(hit, context, enricher.enrich(context))))
    return bodies


def sqs_event(bodies: list[str], message_ids: list[str] | None = None) -> dict[str, Any]:
    ids = message_ids or [str(uuid.uuid4()) for _ in bodies]
    return {
        "Records": [
            {
                "messageId": mid,
                "receiptHandle": f"rh-{mid}",
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1795305600000",
                    "SenderId": "AIDAEXAMPLE",
                    "ApproximateFirstReceiveTimestamp": "1795305600001",
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:events",
                "awsRegion": "us-east-1",
            }
            for mid, body in zip(ids, bodies, strict=True)
        ]
    }


def pageview_json(
    site_id: str,
    visitor: str,
    when: datetime,
    channel: str,
    source: str = "",
    medium: str = "",
    campaign: str = "",
) -> str:
    """An enriched pageview row (as the loader stores it) on a site's home page."""
    return EventRow(
        event_id=uuid.uuid4(),
        site_id=site_id,
        timestamp=when,
        received_at=when,
        event_type="pageview",
        name="pageview",
        visitor_id=visitor,
        url="https://shop.test/",
        hostname="shop.test",
        pathname="/",
        referrer_source=source,
        utm_medium=medium,
        utm_campaign=campaign,
        channel=channel,
    ).to_json()


def paid_order_json(
    site_id: str, order_id: str, when: datetime, amount: str, currency: str, visitor: str = ""
) -> str:
    """A paid Stripe order row, linked to `visitor` when given."""
    return OrderRow(
        site_id=site_id,
        source="stripe",
        order_id=order_id,
        status="paid",
        ordered_at=when,
        currency=currency,
        amount=Decimal(amount),
        visitor_id=visitor,
        version=1,
    ).to_json()
