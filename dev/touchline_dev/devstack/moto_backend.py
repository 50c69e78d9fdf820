"""moto as an in-process server on a free loopback port, and boto3 clients pointed at it.

The server thread shares moto's in-memory backends with the rest of the process; `reset` wipes
them, so a process that starts a second private server (tests, a CLI command) begins empty.

moto answers any origin's CORS preflight and checks no credentials, so any web page the
developer visits could read the local Secrets Manager or wipe the stack (`POST /moto-api/reset`
is a simple request) once it finds the port. `BrowserGuard` lets through what boto3 sends (no
`Origin`) and the stack's own dashboard (its origin, for Cognito sign-in), and refuses every
other origin and any Host that is not this machine (DNS rebinding): issue 13, docs/security.md.
The one exception is what real Cognito serves to any origin without AWS credentials: a page on
another origin may sign a person in (`PUBLIC_COGNITO_ACTIONS`, and their CORS preflight), as a
dashboard hosted elsewhere does against AWS; nothing else of moto is reachable from it.
"""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from .dev_guard import LOOPBACK, hostname, origin_authority
from .environment import FAKE_CREDENTIALS
from .intrinsics import REGION

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Cognito user-pool actions a browser calls with no AWS credentials (the user's password or
# tokens are the authentication), which Cognito answers for any origin.
PUBLIC_COGNITO_ACTIONS = frozenset(
    f"AWSCognitoIdentityProviderService.{action}"
    for action in (
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "ChangePassword",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "GlobalSignOut",
        "RevokeToken",
    )
)


def _public_cognito(environ: dict[str, Any]) -> bool:
    method = environ.get("REQUEST_METHOD", "")
    if method == "OPTIONS":  # the preflight of such a call; it runs nothing
        return bool(environ.get("PATH_INFO", "/") == "/")
    return method == "POST" and environ.get("HTTP_X_AMZ_TARGET", "") in PUBLIC_COGNITO_ACTIONS


class BrowserGuard:
    """WSGI middleware: 403 for a foreign `Origin` or a Host that is not a loopback name."""

    def __init__(self, app: WsgiApp, allowed_origins: Iterable[str] = ()) -> None:
        self._app = app
        self.allowed_origins = {o.lower().rstrip("/") for o in allowed_origins}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        origin = environ.get("HTTP_ORIGIN")
        foreign = origin is not None and origin.lower().rstrip("/") not in self.allowed_origins
        local = hostname(environ.get("HTTP_HOST", "")) in LOOPBACK
        if not local or (foreign and not _public_cognito(environ)):
            start_response("403 Forbidden", [("Content-Type", "application/json")])
            return [
                b'{"error":"forbidden","message":"the local AWS endpoint answers this machine\'s tools only"}'
            ]
        if environ.get("REQUEST_METHOD") == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            return _preflight(environ, start_response)
        return self._app(environ, start_response)


# What moto's CORS layer (flask-cors) grants a preflight: the asking origin and headers, any method.
_PREFLIGHT_METHODS = "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT"


def _preflight(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """Answer a CORS preflight here, as moto's CORS layer did: a preflight runs nothing, and moto
    5.2.6 routes one for `/` into S3's ListBuckets, which fails (500), so a browser's Cognito
    sign-in stopped at its preflight. The call it announces is judged by the guard as before."""
    headers = [
        ("Access-Control-Allow-Origin", environ.get("HTTP_ORIGIN", "*")),
        ("Access-Control-Allow-Methods", _PREFLIGHT_METHODS),
        ("Vary", "Origin"),
        ("Content-Length", "0"),
    ]
    if requested := environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS"):
        headers.append(("Access-Control-Allow-Headers", requested))
    start_response("200 OK", headers)
    return [b""]


def stack_origins(http_url: str) -> set[str]:
    """The origins a browser shows the stack's pages under (`http://127.0.0.1:3000`, and the
    loopback aliases of it with the same port)."""
    port = origin_authority(http_url).rsplit(":", 1)[-1]
    return {f"http://{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")} | {http_url.rstrip("/")}


class MotoServer:
    """A started `ThreadedMotoServer`; `url` is its endpoint (`http://127.0.0.1:<port>`), behind a
    `BrowserGuard` that admits the pages of `allowed_origins` (the stack's own)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, allowed_origins: Iterable[str] = ()) -> None:
        from moto.moto_server.werkzeug_app import (
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )
        from moto.server import ThreadedMotoServer
        from werkzeug.serving import make_server

        self._guard = BrowserGuard(DomainDispatcherApplication(create_backend_app), allowed_origins)
        guard = self._guard

        class _Guarded(ThreadedMotoServer):
            def _server_entry(inner) -> None:
                app = guard
                inner._server = make_server(
                    inner._ip_address, inner._port, app, True, request_handler=MotoRequestHandler
                )
                inner._server_ready_event.set()
                inner._server.serve_forever()

        # werkzeug logs every request moto serves at INFO; the handlers' logs matter more.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = _Guarded(ip_address=host, port=port, verbose=False)
        self._server.start()
        bound_host, bound_port = self._server.get_host_and_port()
        self.url = f"http://{bound_host}:{bound_port}"

    @property
    def allowed_origins(self) -> set[str]:
        return self._guard.allowed_origins

    @allowed_origins.setter
    def allowed_origins(self, origins: Iterable[str]) -> None:
        self._guard.allowed_origins = {o.lower().rstrip("/") for o in origins}

    def reset(self) -> None:
        """Drop every resource in moto's (process-wide) backends."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST", data=b"")
        with urllib.request.urlopen(request, timeout=10):
            pass

    def stop(self) -> None:
        self._server.stop()


def aws_client(service_name: str, endpoint_url: str, region: str = REGION) -> Any:
    """A boto3 client on `endpoint_url` with fake credentials, whatever the environment says."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(  # type: ignore[call-overload]
        service_name,
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32),
    )
