"""WebhooksFunction: Stripe and Shopify webhooks and `POST /api/v1/payments` → rows on the events queue.

Verify, enqueue, answer: nothing here waits on ClickHouse, so providers get their 2xx within
their timeouts. Bad input is a 4xx JSON error and a `RevenueRejected` metric; trouble on our side
is a 503, which the providers retry.
"""

from __future__ import annotations

import base64
from typing import Any

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.revenue.intake import IntakeError
from touchline.revenue.service import deduper, intake

logger = Logger(service="webhooks")
metrics = Metrics(namespace="Touchline", service="webhooks")
app = APIGatewayHttpResolver()


@app.post("/webhooks/stripe/<site_id>")
def stripe_webhook(site_id: str) -> Response[str]:
    headers = _headers()
    result = intake().stripe(site_id, _raw_body(), headers.get("stripe-signature"))
    return _accepted("stripe", result)


@app.post("/webhooks/shopify/<site_id>")
def shopify_webhook(site_id: str) -> Response[str]:
    result = intake().shopify(site_id, _raw_body(), _headers())
    return _accepted("shopify", result)


@app.post("/api/v1/payments")
def payment() -> Response[str]:
    result = intake().payment(_headers().get("authorization"), _raw_body())
    return _accepted("api", result)


def bad_input(error: IntakeError) -> Response[str]:
    metrics.add_metric(name="RevenueRejected", unit=MetricUnit.Count, value=1)
    metrics.add_metadata(key="code", value=error.code)
    logger.info(
        "rejected", extra={"path": app.current_event.path, "code": error.code, "error": error.message}
    )
    return _json(error.status, orjson.dumps(error.body()).decode())


def unavailable(error: Exception) -> Response[str]:
    # Queue or DynamoDB trouble, never bad input: the provider retries on a 5xx.
    logger.exception("delivery not accepted")
    metrics.add_metric(name="RevenueFailures", unit=MetricUnit.Count, value=1)
    return _json(503, '{"error":{"code":"unavailable","message":"temporarily unavailable, retry"}}')


app.exception_handler(IntakeError)(bad_input)
app.exception_handler(Exception)(unavailable)


def _accepted(source: str, result: dict[str, Any]) -> Response[str]:
    name = "RevenueDuplicates" if result.get("duplicate") else "RevenueAccepted"
    metrics.add_metric(name=f"{name}_{source}", unit=MetricUnit.Count, value=1)
    return _json(200, orjson.dumps(result).decode())


def _raw_body() -> bytes:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def _headers() -> dict[str, str]:
    headers: dict[str, str] = app.current_event.raw_event.get("headers") or {}
    return {name.lower(): value for name, value in headers.items()}


def _json(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deduper().register_lambda_context(context)
    return app.resolve(event, context)
