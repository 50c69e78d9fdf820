"""The request adapter every HTTP function shares: API Gateway payload 2.0 in, JSON out.

`HttpFunction` owns one function's resolver, logger and metrics: it decodes bodies (base64 or
not), answers JSON, and maps what a handler raises, one rule for every function:

* a `RequestError` raised by the domain → its 4xx (a `RequestsRejected` count with the error code
  as a dimension);
* with `validation=True`, Powertools' own check of a route's pydantic annotations → 400
  `invalid_request` naming the fields;
* a pydantic `ValidationError` that escaped the domain (a row built from the input refused a
  value) → 400 `invalid_request` naming the fields: the input is at fault, retrying cannot help;
* trouble with a dependency (botocore, the network, `touchline.errors.Unavailable`) → 503, which
  clients and providers retry (`RequestsFailed`, alarmed on in template.yaml);
* anything else is a bug of ours → 500 `internal_error` (`RequestsFailed` too), logged with its
  traceback. Bad input never lands here: the fuzz suite (tests/fuzz) holds every route to it.

Handlers only parse, call one domain function and shape the answer.

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

It also keeps the event it is resolving per execution context. Powertools stores it on the
`BaseRouter` class (`BaseRouter.current_event = …` in `resolve`), one slot for every resolver of
the process: harmless in Lambda (one invocation per process at a time), but a process serving
requests in parallel threads — the local stack, whose function "containers" are threads —
routed and answered one request with another's event (a dashboard's first `GET /api/v1/me` read
the concurrent, unauthenticated `GET /api/v1/auth/config` and answered 401).

And it calls a plain route directly: Powertools' chain (route matching over every route, the
middleware frames it builds even when there are none, their debug strings, the route-argument
adapter) cost ~120k instructions per request, a quarter of a collector hit. A request whose
method and path name a static route with no middlewares, no validation and no parameters (the
collector's, the tracking API's, the webhooks') goes straight to the route's function; its
answer, or the exception handler's, is built by Powertools' own `ResponseBuilder`, so the
response is the same dict. Anything else takes Powertools' full path.
"""

from __future__ import annotations

import base64
import binascii
import inspect
import json
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from functools import cached_property
from typing import TYPE_CHECKING, Any

import orjson
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, BaseRouter, Route
from aws_lambda_powertools.event_handler.api_gateway import Response as Response  # handlers' answers
from aws_lambda_powertools.event_handler.content_types import APPLICATION_JSON
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from touchline import json_body
from touchline.aws.metrics import count
from touchline.errors import RequestError, Unavailable, validation_problems

# Handlers import the domain's error from here (they reach only their service and touchline.aws).
__all__ = [
    "HttpApiResolver",
    "HttpFunction",
    "LowerCaseHeadersEventV2",
    "RequestError",
    "is_unavailable",
    "json_response",
    "request_body",
]

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


# The event being resolved, per thread (each thread has its own context) and per task.
_current_event: ContextVar[LowerCaseHeadersEventV2] = ContextVar("touchline_current_event")


def powertools_json(text: str) -> Any:
    """Powertools' `json_body` (what its validation parses) under the nesting limit every route
    shares: stdlib `json` recursed into a RecursionError, a 500, on a body 10,000 arrays deep
    (found by fuzzing the accounts API with a session, issue 13). Powertools turns a
    `JSONDecodeError` into its validation error, our 400."""
    try:
        return json_body.loads(text)
    except json_body.JsonBodyError as exc:
        raise json.JSONDecodeError(str(exc), text if isinstance(text, str) else "", 0) from None


class HttpApiResolver(APIGatewayHttpResolver):
    """`APIGatewayHttpResolver` for payload 2.0 events, minus the header copies, with the current
    event kept per context rather than on Powertools' class (see module doc)."""

    @property  # type: ignore[override]
    def current_event(self) -> LowerCaseHeadersEventV2:
        return _current_event.get()

    @current_event.setter
    def current_event(self, value: LowerCaseHeadersEventV2) -> None:
        _current_event.set(value)

    def resolve(self, event: Any, context: LambdaContext) -> dict[str, Any]:
        raw = event.raw_event if isinstance(event, APIGatewayProxyEventV2) else event
        token = _current_event.set(self._to_proxy_event(raw))
        try:
            route = self._direct_route(raw) if isinstance(raw, dict) else None
            if route is None:
                return super().resolve(event, context)
            return self._call_directly(route, context)
        finally:
            _current_event.reset(token)

    def _to_proxy_event(self, event: dict[str, Any]) -> LowerCaseHeadersEventV2:
        return LowerCaseHeadersEventV2(event, self._json_body_deserializer)

    def _call_directly(self, route: Route, context: LambdaContext) -> dict[str, Any]:
        """A plain route's answer (or its exception handler's), built as Powertools builds it."""
        BaseRouter.lambda_context = context
        self.context.update(_route=route, _path=route.path)
        try:
            try:
                answer = self._to_response(route.func())
                builder = self._response_builder_class(
                    response=answer,  # type: ignore[arg-type]  # as Powertools' own _call_route
                    serializer=self._serializer,
                    route=route,
                )
            except Exception as exc:
                handled = self._call_exception_handler(exc, route)
                if handled is None:
                    raise
                builder = handled
            return self._build_response(builder)
        finally:
            self.context.clear()

    def _direct_route(self, event: dict[str, Any]) -> Route | None:
        """The plain static route this event's method and path name, if there is one."""
        direct = self._direct_routes()
        if not direct:
            return None
        context = event.get("requestContext")
        if not isinstance(context, dict) or context.get("stage", "$default") != "$default":
            return None  # a named stage prefixes the path: Powertools strips it
        http = context.get("http")
        method = http.get("method") if isinstance(http, dict) else None
        path = event.get("rawPath")
        if not isinstance(method, str) or not isinstance(path, str):
            return None
        return direct.get((method.upper(), path))

    def _direct_routes(self) -> dict[tuple[str, str], Route]:
        routes = self._static_routes
        cached: tuple[int, dict[tuple[str, str], Route]] | None = getattr(self, "_direct_cache", None)
        if cached is not None and cached[0] == len(routes):
            return cached[1]
        plain: dict[tuple[str, str], Route] = {}
        if not (self._router_middlewares or self._enable_validation or self._strip_prefixes or self._debug):
            for route in reversed(routes):  # the first registered wins, as in Powertools' scan
                if _is_plain(route):
                    plain[(route.method, route.path)] = route
        self._direct_cache = (len(routes), plain)
        return plain


def _is_plain(route: Route) -> bool:
    """No middlewares, validation or dependencies, and a function that takes no arguments."""
    func: Callable[..., Any] = route.func
    return (
        not route.middlewares
        and not route.enable_validation
        and not route.has_dependencies
        and not inspect.signature(func).parameters
    )


def request_body(event: Mapping[str, Any]) -> bytes:
    """The raw body of a payload 2.0 event (API Gateway base64-encodes binary ones)."""
    body = event.get("body") or ""
    if not isinstance(body, str):
        raise RequestError(400, "invalid_body", "body: the request body is not text")
    if not event.get("isBase64Encoded"):
        return body.encode("utf-8", "surrogatepass")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise RequestError(400, "invalid_body", "body: marked base64 but is not valid base64") from None


def json_response(status: int, body: object, headers: dict[str, str] | None = None) -> Response[str]:
    """A JSON answer; `body` is serialised unless it is already JSON text."""
    text = body if isinstance(body, str) else orjson.dumps(body).decode()
    return Response(status_code=status, content_type=APPLICATION_JSON, body=text, headers=headers)


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
        self.app = HttpApiResolver(enable_validation=validation, json_body_deserializer=powertools_json)
        self._unavailable_body = orjson.dumps(
            error_type(503, "unavailable", "temporarily unavailable, retry").body()
        ).decode()
        self._internal_body = orjson.dumps(
            error_type(500, "internal_error", "the request could not be processed; this is a bug").body()
        ).decode()
        self.app.exception_handler(RequestError)(self._rejected)
        if validation:
            from aws_lambda_powertools.event_handler.openapi.exceptions import (
                RequestUnsupportedContentType,
                RequestValidationError,
            )

            self.app.exception_handler(RequestValidationError)(self._invalid)
            self.app.exception_handler(RequestUnsupportedContentType)(self._unsupported_type)
        self.app.exception_handler(ValidationError)(self._invalid_model)
        # Powertools decodes `json_body` as UTF-8 text: a binary body (gzip, a bad byte) is not JSON.
        self.app.exception_handler(UnicodeDecodeError)(self._not_text)
        self.app.exception_handler(binascii.Error)(self._not_base64)
        self.app.exception_handler(Exception)(self._failed)
        self._error_type = error_type

    @property
    def event(self) -> dict[str, Any]:
        return self.app.current_event.raw_event

    def body(self) -> bytes:
        return request_body(self.event)

    def headers(self) -> dict[str, str]:
        """Request headers, names lower-case (payload 2.0 and the local stack guarantee it)."""
        headers = self.event.get("headers") or {}
        return headers if isinstance(headers, dict) else {}

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
            # Most requests count nothing: flushing then only warns "no metrics to publish".
            if self.metrics.metric_set:
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
            if e.get("type") != "json_invalid"
            else {"field": "body", "message": str((e.get("ctx") or {}).get("error") or "not valid JSON")}
            for e in error.errors()
        ]
        summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        return self._rejected(RequestError(400, "invalid_request", f"invalid request: {summary}", details))

    def _unsupported_type(self, error: Exception) -> Response[str]:
        """Powertools' validation reads only JSON bodies: any other content type is a 415."""
        return self._rejected(
            self._error_type(415, "unsupported_media_type", "send the body as application/json")
        )

    def _not_text(self, error: UnicodeDecodeError) -> Response[str]:
        return self._rejected(
            self._error_type(400, "invalid_body", f"body: not UTF-8 text (byte {error.start})")
        )

    def _not_base64(self, error: binascii.Error) -> Response[str]:
        return self._rejected(
            self._error_type(400, "invalid_body", "body: marked base64 but is not valid base64")
        )

    def _invalid_model(self, error: ValidationError) -> Response[str]:
        """A row model built from the input refused a value the domain let through: still the
        input's fault (retrying cannot help), so a 400 naming the fields."""
        problems = validation_problems(error)
        summary = "; ".join(f"{p['field']}: {p['message']}" for p in problems)
        return self._rejected(
            self._error_type(400, "invalid_request", f"invalid request: {summary}", problems)
        )

    def _failed(self, error: Exception) -> Response[str]:
        path = self.app.current_event.path
        self.count("RequestsFailed", reason=type(error).__name__)
        if is_unavailable(error):
            # Infrastructure trouble (queue, DynamoDB, secrets), never bad input: the client retries.
            self.logger.exception("request failed", extra={"path": path})
            return self.json(503, self._unavailable_body)
        self.logger.exception("request failed on a bug", extra={"path": path})
        return self.json(500, self._internal_body)


# The warehouse client's own exceptions: ClickHouse down, a timeout, a memory limit (by module:
# the adapter does not import clickhouse_connect or chdb for this).
WAREHOUSE_MODULES = ("clickhouse_connect", "chdb")


def is_unavailable(error: BaseException) -> bool:
    """Whether an exception means a dependency failed (retry later) rather than a bug of ours."""
    return isinstance(error, BotoCoreError | ClientError | OSError | Unavailable) or (
        type(error).__module__.split(".")[0] in WAREHOUSE_MODULES
    )
