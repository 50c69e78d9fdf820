"""Powertools' HTTP API resolver without its per-request header copies.

`APIGatewayHttpResolver` wraps every event in `APIGatewayProxyEventV2`, whose `headers` builds a
case-insensitive copy of the headers on each access, and whose `resolved_headers_field` (read
for every response, to decide on gzip) builds a second one with comma-split values. A browser
beacon carries ~20 headers, so the two copies cost ~20 µs of a collector hit budgeted at 100.
They buy nothing for payload 2.0: API Gateway already lower-cases header names and joins
duplicates with commas ("All header names are lowercase",
https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
and the local stack does the same. Routing, middlewares, exception handlers and responses are
Powertools' own.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


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
