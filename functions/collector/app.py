"""CollectorFunction: `POST /api/event` → validated, enriched envelope on the events queue → 202;
`GET /js/script.js` → the browser tag."""

from __future__ import annotations

import base64

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.http_api import HttpApiResolver
from touchline.ingest.collect import CollectError, IncomingHit
from touchline.ingest.service import collector
from touchline.tag.asset import CONTENT_TYPE, tag_asset

logger = Logger(service="collector")
metrics = Metrics(namespace="Touchline", service="collector")
app = HttpApiResolver()


@app.post("/api/event")
def post_event() -> Response[str]:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = event.get("headers") or {}  # payload v2.0: names are already lower-case
    forwarded = headers.get("x-forwarded-for", "")
    ip = forwarded.split(",", 1)[0].strip() or event["requestContext"]["http"]["sourceIp"]
    incoming = IncomingHit(body=raw, user_agent=headers.get("user-agent", ""), ip=ip, headers=headers)
    accepted = collector().collect(incoming)
    # Accepted hits are not a custom metric: API Gateway's Count and Lambda's Invocations
    # already give the rate, and an EMF flush per hit would double the handler's cost.
    if accepted.dropped:
        metrics.add_metric(name=f"HitsDropped_{accepted.dropped}", unit=MetricUnit.Count, value=1)
        return _json(202, '{"ok":true}', {"X-Touchline-Dropped": accepted.dropped})
    return _json(202, '{"ok":true}')


@app.get("/js/script.js")
@app.get("/js/touchline.js")
def get_tag() -> Response[bytes]:
    headers = app.current_event.raw_event.get("headers") or {}
    served = tag_asset().serve(headers.get("if-none-match", ""), headers.get("accept-encoding", ""))
    return Response(
        status_code=served.status, content_type=CONTENT_TYPE, body=served.body, headers=served.headers
    )


def bad_input(error: CollectError) -> Response[str]:
    metrics.add_metric(name="HitsRejected", unit=MetricUnit.Count, value=1)
    logger.info("rejected hit", extra={"code": error.code, "error": error.message})
    return _json(error.status, orjson.dumps(error.body()).decode())


def unavailable(error: Exception) -> Response[str]:
    # Infrastructure trouble (SQS, DynamoDB), never bad input: tell the client to retry.
    logger.exception("hit not accepted")
    metrics.add_metric(name="CollectorFailures", unit=MetricUnit.Count, value=1)
    return _json(503, '{"error":{"code":"unavailable","message":"temporarily unavailable, retry"}}')


app.exception_handler(CollectError)(bad_input)
app.exception_handler(Exception)(unavailable)


def _json(status: int, body: str, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


@metrics.log_metrics
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
