"""WebhooksFunction: payment webhooks (Stripe, Shopify, Lemon Squeezy, Polar, Paddle) and
`POST /api/v1/payments` → rows on the events queue.

Verify, enqueue, answer: nothing here waits on ClickHouse, so providers get their 2xx within
their timeouts. Bad input is a 4xx JSON error; trouble on our side is a 503, which the
providers retry (both counted by the shared request adapter).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.http_api import HttpFunction
from touchline.revenue.service import deduper, intake

api = HttpFunction("webhooks")
app = api.app


@app.post("/webhooks/stripe/<site_id>")
def stripe_webhook(site_id: str) -> Response[str]:
    result = intake().stripe(site_id, api.body(), api.headers().get("stripe-signature"))
    return _accepted("stripe", result)


@app.post("/webhooks/shopify/<site_id>")
def shopify_webhook(site_id: str) -> Response[str]:
    return _accepted("shopify", intake().shopify(site_id, api.body(), api.headers()))


@app.post("/webhooks/<provider>/<site_id>")
def processor_webhook(provider: str, site_id: str) -> Response[str]:
    # Lemon Squeezy, Polar, Paddle (the routes above match first for Stripe and Shopify).
    return _accepted(provider, intake().webhook(provider, site_id, api.body(), api.headers()))


@app.post("/api/v1/payments")
def payment() -> Response[str]:
    return _accepted("api", intake().payment(api.headers().get("authorization"), api.body()))


def _accepted(source: str, result: dict[str, Any]) -> Response[str]:
    api.count("RevenueDuplicates" if result.get("duplicate") else "RevenueAccepted", source=source)
    return api.json(200, result)


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deduper().register_lambda_context(context)
    return api.resolve(event, context)
