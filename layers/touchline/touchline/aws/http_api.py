"""The request adapter every HTTP function shares: API Gateway payload 2.0 in, JSON out.

`HttpFunction` owns one function's resolver, logger and metrics: it decodes bodies (base64 or
not), answers JSON, maps a `RequestError` raised by the domain to its 4xx (a `RequestsRejected`
count with the error code as a dimension) and any other exception to a 503 the client retries
(`RequestsFailed`, alarmed on in template.yaml). Handlers only parse, call one domain function
and shape the answer.

`HttpApiResolver` is Powertools' HTTP API resolver without its per-request header copies:
`APIGatewayHttpResolver` wraps every event in `APIGatewayProxyEventV2`, whose `headers` builds a
case-insensitive copy on each access, and whose `resolved_headers_field` (read for every
response, to decide on gzip) builds a second one with comma-split values. A browser beacon
carries ~20 headers, so the two copies cost ~20 µs of a collector hit budgeted at 100. They buy
nothing for payload 2.0: API Gateway already lower-cases header names and joins duplicates with
commas ("All header names are lowercase",
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
and the local stack does the same. Routing, middlewares, exception handlers and responses are
Powertools' own.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.aws.metrics import count
from touchline.errors import RequestError

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

NAMESPACE = "Touchline"


class LowerCaseHeadersEventV2(APIGatewayProxyEventV2):
    """A payload 2.0 event whose headers are the event's own dict (already lower-case)."""

    @property
    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = self.get("headers") or {}
        return headers

    @cached_property
    def resolved_headers_field(self) -> dict[str, Any]:
        return self.headers


class HttpApiResolver(APIGatewayHttpResolver):
    """`APIGatewayHttpResolver` for payload 2.0 events, minus the header copies (see module doc)."""

    current_event: LowerCaseHeadersEventV2

    def _to_proxy_event(self, event: dict[str, Any]) -> LowerCaseHeadersEventV2:
        return LowerCaseHeadersEventV2(event, self._json_body_deserializer)


def request_body(event: Mapping[str, Any]) -> bytes:
    """The raw body of a payload 2.0 event (API Gateway base64-encodes binary ones)."""
    body = event.get("body") or ""
    return base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON answer; `body` is serialised unless it is already JSON text."""
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=text, headers=headers
    )


class HttpFunction:
    """One HTTP function: its routes (`app`), logger and metrics, and the shared error mapping.

    `error_type` builds the 503 body, so an API whose clients read a particular error shape
    (the tracking API's SDKs) answers infrastructure trouble in that shape too."""

    def __init__(
        self, service: str, error_type: type[RequestError] = RequestError, validation: bool = False
    ) -> None:
        self.service = service
        self.logger = Logger(service=service)
        self.metrics = Metrics(namespace=NAMESPACE, service=service)
        # `validation`: Powertools validates parameters and bodies against the routes' pydantic
        # annotations (and can render their OpenAPI document); a mismatch is a 400 here.
        self.app = HttpApiResolver(enable_validation=validation)
        self._unavailable_body = orjson.dumps(
            error_type(503, "unavailable", "temporarily unavailable, retry").body()
        ).decode()
        self.app.exception_handler(RequestError)(self._rejected)
        if validation:
            from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

            self.app.exception_handler(RequestValidationError)(self._invalid)
        self.app.exception_handler(Exception)(self._failed)

    @property
    def event(self) -> dict[str, Any]:
        return self.app.current_event.raw_event

    def body(self) -> bytes:
        return request_body(self.event)

    def headers(self) -> dict[str, str]:
        """Request headers, names lower-case (payload 2.0 and the local stack guarantee it)."""
        headers: dict[str, str] = self.event.get("headers") or {}
        return headers

    def jwt_claims(self) -> dict[str, Any]:
        """The claims of the token the HttpApi's JWT authorizer verified ({} on open routes)."""
        authorizer = (self.event.get("requestContext") or {}).get("authorizer") or {}
        claims: dict[str, Any] = (authorizer.get("jwt") or {}).get("claims") or {}
        return claims

    def json(self, status: int, body: object, headers: dict[str, str] | None = None) -> Response[str]:
        return json_response(status, body, headers)

    def count(self, name: str, value: int = 1, **dimensions: str) -> None:
        count(self.metrics, name, value, **dimensions)

    def resolve(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        """Route one event and flush this invocation's metrics."""
        try:
            return self.app.resolve(event, context)
        finally:
            self.metrics.flush_metrics(raise_on_empty_metrics=False)

    def handler(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        return self.resolve(event, context)

    def _rejected(self, error: RequestError) -> Response[str]:
        self.count("RequestsRejected", code=error.code)
        self.logger.info(
            "rejected request",
            extra={"path": self.app.current_event.path, "code": error.code, "error": error.message},
        )
        return self.json(error.status, error.body())

    def _invalid(self, error: RequestValidationError) -> Response[str]:
        """Powertools' validation failure as our 400: which field, and what is wrong with it."""
        details = [
            {
                "field": ".".join(str(part) for part in e["loc"] if part != "body") or "body",
                "message": e.get("msg", e["type"]),
            }
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return self._rejected(RequestError(400, "invalid_request", f"invalid request: {summary}", details))

    def _failed(self, error: Exception) -> Response[str]:
        # Infrastructure trouble (queue, DynamoDB, secrets), never bad input: the client retries.
        self.logger.exception("request failed", extra={"path": self.app.current_event.path})
        self.count("RequestsFailed", reason=type(error).__name__)
        return self.json(503, self._unavailable_body)
