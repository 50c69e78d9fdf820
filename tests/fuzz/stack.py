"""Every HTTP route of template.yaml served in one process, the way `touchline dev` serves it.

The routes are read from the template (a route added there is fuzzed without touching this
file); requests go through the local stack's own API Gateway translation
(`touchline_dev.devstack.http_gateway.Gateway`: route matching, the payload 2.0 event with its
base64 rule, CORS, the response mapping) into the real handlers, each run as its function's IAM
role in moto. An exception escaping a handler is a 500 here, as it is on API Gateway. Routes
behind the Cognito JWT authorizer are checked by the local stack's authorizer against a key of
the suite's own (`session_token` signs an ID token with it), so hostile bodies with a valid
session reach the accounts and query handlers, and hostile tokens are refused at the gateway.

`FuzzStack.load()` passes what was enqueued (kept in memory: SQS is not what is fuzzed) through
the real loader into the embedded ClickHouse, so a test can check that the good requests mixed
in with the bad ones were all stored.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from helpers import MOTO_SQS, PARAMETERS, TABLE, TEMPLATE, LambdaContextStub, load_handler_module
from touchline.ingest.queue import ListQueue
from touchline_dev.devstack.http_gateway import ApiInfo, Gateway, HttpRequest, HttpResponse, RouteTable
from touchline_dev.devstack.jwt_authorizer import JwtAuthorizer
from touchline_dev.devstack.lambda_runtime import Invocation, InvocationError
from touchline_dev.devstack.resources import LocalResources
from touchline_dev.devstack.template import (
    HTTP_API,
    IMPLICIT_HTTP_API,
    SERVERLESS_FUNCTION,
    HttpRoute,
    JwtAuthorizerSpec,
    cors_config,
    http_routes,
    load_template,
)

EventHook = Callable[[dict[str, Any]], dict[str, Any]]


@functools.cache
def _resources() -> LocalResources:
    return LocalResources(load_template(TEMPLATE), endpoint_url=MOTO_SQS, parameter_overrides=PARAMETERS)


def template_routes() -> list[HttpRoute]:
    """Every HttpApi route the template declares, in a stable order."""
    resources = _resources()
    routes: list[HttpRoute] = []
    for resource in resources.active.values():
        if resource.type == SERVERLESS_FUNCTION:
            routes.extend(http_routes(resource, resources.resolver))
    return sorted(routes, key=lambda r: (r.path, r.method))


def code_dir_of(logical_id: str) -> str:
    resource = _resources().active[logical_id]
    return str(resource.properties.get("CodeUri", "")).strip("/").removeprefix("functions/")


class _Handler:
    """What the gateway needs of a `LocalFunction`: `invoke(event).result`, `InvocationError`
    when the handler raises (the gateway then answers 500, as API Gateway does)."""

    def __init__(self, logical_id: str, module: ModuleType, hook: Callable[[], EventHook | None]) -> None:
        self.logical_id = logical_id
        self._module = module
        self._hook = hook

    def invoke(self, event: Any, *, request_id: str | None = None, wire: bool = True) -> Invocation:
        hook = self._hook()
        if hook is not None:
            event = hook(event)
        try:
            result = self._module.handler(json.loads(json.dumps(event)), LambdaContextStub())
        except Exception as exc:
            raise InvocationError(f"{self.logical_id} raised {type(exc).__name__}: {exc}") from exc
        return Invocation(json.loads(json.dumps(result)), 0.0, request_id or "req")


ISSUER = "https://issuer.invalid"
AUDIENCE = "fuzz"


@functools.cache
def _signing_key() -> Any:
    from joserfc import jwk

    return jwk.RSAKey.generate_key(2048, parameters={"kid": "fuzz"})


def _jwks(issuer: str) -> dict[str, Any]:
    return {"keys": [_signing_key().as_dict(private=False)]}


def session_token(subject: str, email: str, lifetime: int = 86_400) -> str:
    """A Cognito-shaped ID token for `subject`, as the user pool would sign it after sign-in."""
    import time

    from joserfc import jwt

    now = int(time.time())
    claims = {
        "sub": subject,
        "email": email,
        "aud": AUDIENCE,
        "iss": ISSUER,
        "token_use": "id",
        "auth_time": now,
        "iat": now,
        "exp": now + lifetime,
    }
    return str(jwt.encode({"alg": "RS256", "kid": "fuzz"}, claims, _signing_key()))


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FuzzStack:
    """The gateway over every template route; `request` one call, `load` the queue into ClickHouse."""

    routes: list[HttpRoute]
    gateway: Gateway
    queue: ListQueue
    modules: dict[str, ModuleType] = field(default_factory=dict)
    event_hook: EventHook | None = None

    @classmethod
    def start(cls, queue: ListQueue) -> FuzzStack:
        resources = _resources()
        routes = template_routes()
        stack = cls(routes, Gateway(RouteTable([]), {}, {}), queue)
        functions: dict[str, Any] = {}
        for logical_id in sorted({r.function for r in routes}):
            module = load_handler_module(code_dir_of(logical_id))
            stack.modules[logical_id] = module
            functions[logical_id] = _Handler(logical_id, module, lambda: stack.event_hook)
        apis = {IMPLICIT_HTTP_API: ApiInfo(resources.api_id(IMPLICIT_HTTP_API))}
        for resource in resources.active.values():
            if resource.type == HTTP_API:
                auth = resource.properties.get("Auth") or {}
                # The routes behind a JWT authorizer: hostile Authorization headers are refused
                # at the gateway, `session_token`'s tokens get the handlers fuzzed past it.
                authorizers = {
                    name: JwtAuthorizer(JwtAuthorizerSpec(name, ISSUER, (AUDIENCE,)), _jwks)
                    for name in auth.get("Authorizers") or {}
                }
                apis[resource.logical_id] = ApiInfo(
                    resources.api_id(resource.logical_id),
                    cors=cors_config(resource, resources.resolver),
                    authorizers=authorizers,
                    default_authorizer=auth.get("DefaultAuthorizer"),
                )
        stack.gateway = Gateway(RouteTable(routes), functions, apis)
        return stack

    def request(
        self,
        method: str,
        target: str,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes = b"",
        *,
        source_ip: str = "198.51.100.7",
        event_hook: EventHook | None = None,
    ) -> Answer:
        self.event_hook = event_hook
        try:
            response: HttpResponse = self.gateway.handle(
                HttpRequest(method, target, list(headers), body, source_ip=source_ip)
            )
        finally:
            self.event_hook = None
        return Answer(response.status, {k.lower(): v for k, v in response.headers}, response.body)

    def load(self) -> int:
        """Every message enqueued so far through the real loader into ClickHouse; how many."""
        loader = load_handler_module("loader")
        from touchline.load.service import warehouse_client

        def rejected() -> int:
            return int(warehouse_client().query("SELECT count() FROM rejected_rows").result_rows[0][0])

        rejected_before = rejected()
        bodies, self.queue.bodies = self.queue.bodies, []
        for start in range(0, len(bodies), 1000):
            records = [
                {
                    "messageId": f"m{start + i}",
                    "receiptHandle": f"r{start + i}",
                    "body": body,
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {},
                    "eventSource": "aws:sqs",
                }
                for i, body in enumerate(bodies[start : start + 1000])
            ]
            response = loader.handler({"Records": records}, LambdaContextStub())
            failed = response["batchItemFailures"]
            assert not failed, f"the loader refused {len(failed)} messages the handlers accepted"
        # A bad row no longer fails its message: it is kept in rejected_rows (issue 20).
        kept = warehouse_client().query("SELECT reason, body FROM rejected_rows").result_rows
        assert rejected() == rejected_before, f"the loader rejected rows the handlers accepted: {kept[:3]}"
        return len(bodies)


__all__ = ["TABLE", "Answer", "FuzzStack", "code_dir_of", "session_token", "template_routes"]
