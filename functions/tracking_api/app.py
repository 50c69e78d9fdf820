"""TrackingApiFunction: Segment / Customer.io Data Pipelines calls (`POST /v1/*`) → envelopes on the
events queue → 200 `{"success": true}`. See docs/tracking-api.md."""

from __future__ import annotations

import base64

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.tracking.api import ApiError, ApiRequest
from touchline.tracking.service import tracking_api

logger = Logger(service="tracking-api")
metrics = Metrics(namespace="Touchline", service="tracking-api")
app = APIGatewayHttpResolver()


@app.post("/v1/<call>")
def post_call(call: str) -> Response[str]:
    event = app.current_event.raw_event
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = event.get("headers") or {}  # payload v2.0: names are already lower-case
    result = tracking_api().handle(ApiRequest(call=call, body=raw, headers=headers))
    if result.rejected:
        metrics.add_metric(name="MessagesRejected", unit=MetricUnit.Count, value=len(result.rejected))
        logger.info("rejected messages", extra={"rejected": result.rejected[:5]})
    return _json(200, orjson.dumps(result.body()).decode())


def bad_request(error: ApiError) -> Response[str]:
    metrics.add_metric(name="RequestsRejected", unit=MetricUnit.Count, value=1)
    logger.info("rejected request", extra={"code": error.code, "error": error.message})
    return _json(error.status, orjson.dumps(error.body()).decode())


def unavailable(error: Exception) -> Response[str]:
    # Infrastructure trouble (SQS, DynamoDB), never bad input: SDKs retry 5xx with backoff.
    logger.exception("request not accepted")
    metrics.add_metric(name="TrackingApiFailures", unit=MetricUnit.Count, value=1)
    body = {"code": "unavailable", "message": "temporarily unavailable, retry"}
    return _json(503, orjson.dumps({"error": body, **body}).decode())


app.exception_handler(ApiError)(bad_request)
app.exception_handler(Exception)(unavailable)


def _json(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


@metrics.log_metrics
def handler(event: dict[str, object], context: LambdaContext) -> dict[str, object]:
    return app.resolve(event, context)
