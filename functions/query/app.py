"""QueryFunction: `POST /api/v2/query` (Plausible's Stats API v2, plus revenue and attribution).

Parse, call the query API, shape the response: authentication, rate limits, the engine and its
cache live in `touchline.query` (docs/query-api.md).
"""

from __future__ import annotations

import base64
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.http_api import HttpApiResolver
from touchline.query.service import api, people

logger = Logger(service="query")
metrics = Metrics(namespace="Touchline", service="query")
app = HttpApiResolver()


@app.post("/api/v2/query")
def query() -> Response[str]:
    event = app.current_event
    return _answer(api().query(event.headers.get("authorization"), _body()))


@app.post("/api/v1/query")
def people_query() -> Response[str]:
    """The same query for people (the dashboard): the HttpApi's JWT authorizer verified the token."""
    claims = ((app.current_event.raw_event.get("requestContext") or {}).get("authorizer") or {}).get(
        "jwt"
    ) or {}
    resolver, reader = people()
    person = resolver.principal(claims.get("claims") or {})
    if person is None:
        return Response(401, content_types.APPLICATION_JSON, '{"error":"Sign in: send a Cognito token."}')
    return _answer(api().query_as(reader.principal(person), _body()))


def _body() -> bytes:
    raw = app.current_event.raw_event.get("body") or ""
    return base64.b64decode(raw) if app.current_event.raw_event.get("isBase64Encoded") else raw.encode()


def _answer(result: Any) -> Response[str]:
    metrics.add_dimension(name="status", value=str(result.status))
    metrics.add_metric(name="Queries", unit=MetricUnit.Count, value=1)
    if result.info is not None and result.info.seconds:
        metrics.add_metric(
            name="QueryMs", unit=MetricUnit.Milliseconds, value=result.info.seconds["total"] * 1000
        )
        logger.info(
            "query",
            extra={"status": result.status, "cached": result.info.cached, "seconds": result.info.seconds},
        )
    return Response(
        status_code=result.status,
        content_type=content_types.APPLICATION_JSON,
        body=result.json(),
        headers=result.headers,
    )


def unavailable(error: Exception) -> Response[str]:
    # ClickHouse or DynamoDB trouble, never the query: the client may retry.
    logger.exception("query failed")
    metrics.add_metric(name="QueryFailures", unit=MetricUnit.Count, value=1)
    return Response(
        status_code=503,
        content_type=content_types.APPLICATION_JSON,
        body='{"error":"The query could not be answered right now; retry shortly."}',
    )


app.exception_handler(Exception)(unavailable)


@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
