"""API Gateway (HTTP API, payload format 2.0) in front of the local functions.

`Gateway.handle` is the whole translation, socket-free so tests can call it: route matching with
API Gateway's precedence, the v2.0 event (headers lower-cased and comma-joined, cookies split out,
bodies base64-encoded unless they are text), the response mapping (including the shortcut where a
handler returns a bare value), and CORS as configured on the HttpApi. `GatewayServer` puts it on a
socket; it can stop accepting connections while in-flight requests finish, which is what lets the
stack drain without losing an accepted hit.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from .dev_guard import DevRouteGuard
from .intrinsics import ACCOUNT_ID
from .jwt_authorizer import Authorized, JwtAuthorizer, Unauthorized
from .lambda_runtime import InvocationError, LocalFunction
from .template import CorsConfig, HttpRoute, TemplateError

log = logging.getLogger("touchline_dev.devstack")

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_TYPES = ("application/json", "application/javascript", "application/xml", "application/ecmascript")
_PATH_PARAM = re.compile(r"^\{([A-Za-z0-9_.\-]+)(\+?)\}$")
INTERNAL_ERROR = {"message": "Internal Server Error"}
NOT_FOUND = {"message": "Not Found"}


@dataclass
class HttpRequest:
    method: str
    target: str  # path and query exactly as sent
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    server_port: int = 3000

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0] or "/"

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @classmethod
    def json(cls, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> HttpResponse:
        body = json.dumps(payload, separators=(",", ":"), default=str).encode()
        return cls(status, [("content-type", "application/json"), *headers], body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


# --------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class RouteMatch:
    route: HttpRoute
    path_parameters: dict[str, str]


class RouteTable:
    """API Gateway's precedence: literal paths beat `{param}`, `{param}` beats `{proxy+}`, an exact
    method beats ANY, and `$default` catches whatever is left."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self.routes: list[HttpRoute] = []
        seen: dict[tuple[str, str], HttpRoute] = {}
        for route in routes:
            if route.payload_format_version != "2.0":
                raise TemplateError(
                    f"{route.function}.{route.event_name}: only PayloadFormatVersion 2.0 runs locally"
                )
            if route.path != "$default" and not route.path.startswith("/"):
                raise TemplateError(f"{route.function}.{route.event_name}: Path must start with /")
            key = (route.method, route.path)
            if key in seen:
                raise TemplateError(
                    f"route {route.route_key} is declared by {seen[key].function} and {route.function}"
                )
            seen[key] = route
            self.routes.append(route)

    def match(self, method: str, path: str) -> RouteMatch | None:
        best: tuple[tuple[int, int, tuple[int, ...], int], RouteMatch] | None = None
        score: tuple[int, int, tuple[int, ...], int]
        for route in self.routes:
            if route.method not in ("ANY", method.upper()):
                continue
            specific_method = 0 if route.method == "ANY" else 1
            if route.path == "$default":
                score = (0, 0, (), specific_method)
                params: dict[str, str] = {}
            else:
                found = _match_path(route.path, path)
                if found is None:
                    continue
                params, literal_segments, greedy = found
                score = (1, 0 if greedy else 1, tuple(literal_segments), specific_method)
            if best is None or score > best[0]:
                best = (score, RouteMatch(route, params))
        return None if best is None else best[1]

    def methods_for(self, path: str) -> list[HttpRoute]:
        return [r for r in self.routes if r.path == "$default" or _match_path(r.path, path) is not None]


def _match_path(pattern: str, path: str) -> tuple[dict[str, str], list[int], bool] | None:
    """Path parameters, a per-segment literal mask (for precedence), and whether it was greedy."""
    want = pattern.strip("/").split("/") if pattern != "/" else []
    have = path.strip("/").split("/") if path.strip("/") else []
    params: dict[str, str] = {}
    literal: list[int] = []
    for index, segment in enumerate(want):
        is_param = _PATH_PARAM.match(segment)
        if is_param and is_param.group(2):
            if index != len(want) - 1 or index >= len(have):
                return None
            params[is_param.group(1)] = unquote("/".join(have[index:]))
            return params, literal, True
        if index >= len(have):
            return None
        if is_param:
            if not have[index]:
                return None
            params[is_param.group(1)] = unquote(have[index])
            literal.append(0)
        elif segment != have[index]:
            return None
        else:
            literal.append(1)
    if len(have) != len(want):
        return None
    return params, literal, False


# --------------------------------------------------------------------------- the v2.0 event


def is_text_body(content_type: str | None, content_encoding: str | None) -> bool:
    """Whether API Gateway passes the body as text (otherwise it is base64-encoded)."""
    if content_encoding and content_encoding.strip().lower() not in ("", "identity"):
        return False
    if not content_type:
        return False
    mime = content_type.split(";", 1)[0].strip().lower()
    return mime.startswith("text/") or mime in _TEXT_TYPES or mime.endswith(("+json", "+xml"))


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    api_id: str,
    stage: str = "$default",
    now: datetime | None = None,
    request_id: str | None = None,
    authorizer: Authorized | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 for one request."""
    now = now or datetime.now(UTC)
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded}, {request.source_ip}" if forwarded else request.source_ip
    headers.setdefault("x-forwarded-port", str(request.server_port))
    headers.setdefault("x-forwarded-proto", "http")
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now.timestamp()):08x}-{os.urandom(12).hex()}")
    host = headers.get("host", "localhost").rsplit(":", 1)[0] if "host" in headers else "localhost"

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": api_id,
        "domainName": host,
        "domainPrefix": host.split(".", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or new_request_id(),
        "routeKey": match.route.route_key,
        **({"authorizer": authorizer.context()} if authorizer is not None else {}),
        "stage": stage,
        "time": f"{now:%d}/{_MONTHS[now.month - 1]}/{now:%Y:%H:%M:%S} +0000",
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if request.body:
        text = is_text_body(headers.get("content-type"), headers.get("content-encoding"))
        if text:
            try:
                event["body"] = request.body.decode("utf-8")
            except UnicodeDecodeError:
                text = False
        if not text:
            event["body"] = base64.b64encode(request.body).decode("ascii")
        event["isBase64Encoded"] = not text
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    return event


def new_request_id() -> str:
    """API Gateway's request ids look like `JKJaXmPLvHcESHA=`."""
    return base64.b64encode(os.urandom(10)).decode("ascii")


# --------------------------------------------------------------------------- the response


def translate_response(result: Any) -> HttpResponse:
    """Map a handler's result to HTTP as API Gateway does for payload format 2.0."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # The shortcut: any valid JSON without statusCode is a 200 JSON body.
        return HttpResponse(200, [("content-type", "application/json")], json.dumps(result).encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int | str) or not str(status).isdigit():
        raise InvocationError(f"statusCode must be an integer, got {status!r}")
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name).lower(), _header_text(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name).lower(), _header_text(v)) for v in values or [])
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    body = result.get("body")
    if body is None:
        payload = b""
    elif result.get("isBase64Encoded") is True:
        try:
            payload = base64.b64decode(str(body), validate=True)
        except binascii.Error as exc:
            raise InvocationError("isBase64Encoded is true but the body is not base64") from exc
    else:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
    if payload and not any(name == "content-type" for name, _ in headers):
        headers.append(("content-type", "text/plain; charset=utf-8"))
    return HttpResponse(int(status), headers, payload)


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- CORS


def _origin_allowed(cors: CorsConfig, origin: str) -> bool:
    return any(o == "*" or o == origin or ("*" in o and fnmatchcase(origin, o)) for o in cors.allow_origins)


def _allow_origin_value(cors: CorsConfig, origin: str) -> str:
    return "*" if "*" in cors.allow_origins and not cors.allow_credentials else origin


def preflight_response(cors: CorsConfig, request: HttpRequest) -> HttpResponse:
    """API Gateway answers CORS preflights itself when the API has a CorsConfiguration."""
    origin = request.header("origin") or ""
    if not _origin_allowed(cors, origin):
        return HttpResponse(204)
    wanted_method = (request.header("access-control-request-method") or "").upper()
    wanted_headers = request.header("access-control-request-headers") or ""
    headers = [("access-control-allow-origin", _allow_origin_value(cors, origin))]
    methods = [wanted_method] if "*" in cors.allow_methods else cors.allow_methods
    headers.append(("access-control-allow-methods", ",".join(methods)))
    allow_headers = wanted_headers.lower() if "*" in cors.allow_headers else ",".join(cors.allow_headers)
    if allow_headers:
        headers.append(("access-control-allow-headers", allow_headers))
    if cors.max_age is not None:
        headers.append(("access-control-max-age", str(cors.max_age)))
    if cors.allow_credentials:
        headers.append(("access-control-allow-credentials", "true"))
    return HttpResponse(204, headers)


def apply_cors(cors: CorsConfig, request: HttpRequest, response: HttpResponse) -> None:
    """API Gateway replaces the integration's CORS headers with its own configuration."""
    response.headers = [(k, v) for k, v in response.headers if not k.startswith("access-control-")]
    origin = request.header("origin")
    if not origin or not _origin_allowed(cors, origin):
        return
    response.headers.append(("access-control-allow-origin", _allow_origin_value(cors, origin)))
    if cors.expose_headers:
        response.headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if cors.allow_credentials:
        response.headers.append(("access-control-allow-credentials", "true"))


# --------------------------------------------------------------------------- the gateway

DevRoute = Callable[[HttpRequest], HttpResponse]


@dataclass(frozen=True)
class ApiInfo:
    api_id: str
    stage: str = "$default"
    cors: CorsConfig | None = None
    # JWT authorizers by name, and the one routes without `Auth` use.
    authorizers: Mapping[str, JwtAuthorizer] = field(default_factory=dict)
    default_authorizer: str | None = None

    def authorizer_for(self, route: HttpRoute) -> JwtAuthorizer | None:
        name = route.authorizer or self.default_authorizer
        if name is None or name == "NONE":
            return None
        if name not in self.authorizers:
            raise TemplateError(f"{route.function}.{route.event_name}: no authorizer {name} on its API")
        return self.authorizers[name]


class Gateway:
    """Routes requests to functions; `dev_routes` (`"POST /_dev/sql"` -> callable) come first,
    behind `dev_guard` (no request a web page could forge reaches them)."""

    def __init__(
        self,
        routes: RouteTable,
        functions: Mapping[str, LocalFunction],
        apis: Mapping[str, ApiInfo],
        dev_routes: Mapping[str, DevRoute] | None = None,
        dev_guard: DevRouteGuard | None = None,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.apis = apis
        self.dev_routes = dict(dev_routes or {})
        self.dev_guard = dev_guard or DevRouteGuard()

    def handle(self, request: HttpRequest) -> HttpResponse:
        dev = self.dev_routes.get(f"{request.method.upper()} {request.path}")
        if dev is not None:
            refused = self.dev_guard.refusal(request)
            if refused is not None:
                log.warning("refused %s %s: %s", request.method, request.path, refused)
                return HttpResponse.json(403, {"error": "forbidden", "message": refused})
            return dev(request)
        if request.path.startswith("/_dev/"):
            return HttpResponse.json(404, NOT_FOUND)
        match = self.routes.match(request.method, request.path)
        cors = self._cors_for(request, match)
        if cors is not None and _is_preflight(request) and (match is None or match.route.method != "OPTIONS"):
            return preflight_response(cors, request)
        response = HttpResponse.json(404, NOT_FOUND) if match is None else self._invoke(request, match)
        if cors is not None:
            apply_cors(cors, request, response)
        return response

    def _cors_for(self, request: HttpRequest, match: RouteMatch | None) -> CorsConfig | None:
        if match is not None:
            return self.apis[match.route.api].cors
        candidates = [self.apis[r.api].cors for r in self.routes.methods_for(request.path)]
        candidates = candidates or [api.cors for api in self.apis.values()]
        return next((c for c in candidates if c is not None), None)

    def _invoke(self, request: HttpRequest, match: RouteMatch) -> HttpResponse:
        api = self.apis[match.route.api]
        request_id = new_request_id()
        authorizer = api.authorizer_for(match.route)
        authorized = None
        if authorizer is not None:
            try:
                headers = {name.lower(): value for name, value in request.headers}
                authorized = authorizer.authorize(headers, match.route.authorization_scopes)
            except Unauthorized as refused:
                response = HttpResponse.json(refused.status, refused.body(), refused.headers())
                response.headers.append(("apigw-requestid", request_id))
                return response
        event = build_event(
            request, match, api_id=api.api_id, stage=api.stage, request_id=request_id, authorizer=authorized
        )
        function = self.functions[match.route.function]
        try:
            result = function.invoke(event, wire=False).result
            response = translate_response(result)
        except InvocationError:
            log.exception("%s %s failed", request.method, request.path)
            response = HttpResponse.json(500, INTERNAL_ERROR)
        response.headers.append(("apigw-requestid", request_id))
        return response


def _is_preflight(request: HttpRequest) -> bool:
    return (
        request.method.upper() == "OPTIONS"
        and request.header("origin") is not None
        and request.header("access-control-request-method") is not None
    )


# --------------------------------------------------------------------------- the socket

_date_cache: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The `Date` header, formatted once a second."""
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True))
    return _date_cache[1]


class PortInUseError(OSError):
    """The HTTP port is taken."""


class GatewayServer(ThreadingHTTPServer):
    """A threaded server that can stop taking requests and then wait for the in-flight ones."""

    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, gateway: Gateway, *, access_log: bool = True) -> None:
        self.gateway = gateway
        self.access_log = access_log
        self.closing = False
        self.serving = False
        self._in_flight = 0
        self._idle = threading.Condition()
        try:
            super().__init__((host, port), _RequestHandler)
        except OSError as exc:
            if exc.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
                raise PortInUseError(exc.errno, f"port {port} on {host} is already in use") from exc
            raise

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def begin_request(self) -> bool:
        with self._idle:
            if self.closing:
                return False
            self._in_flight += 1
            return True

    def end_request(self) -> None:
        with self._idle:
            self._in_flight -= 1
            self._idle.notify_all()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        self.serving = True
        super().serve_forever(poll_interval)

    def stop_accepting(self, timeout: float = 30.0) -> int:
        """Stop the accept loop, refuse new requests, wait for in-flight ones; return those left."""
        with self._idle:
            self.closing = True
        if self.serving:
            self.shutdown()
        self.socket.close()
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight and time.monotonic() < deadline:
                self._idle.wait(max(0.0, deadline - time.monotonic()))
            return self._in_flight

    def server_bind(self) -> None:
        # HTTPServer.server_bind does a reverse DNS lookup of the host; skip it, it can be slow.
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _Headers(list[tuple[str, str]]):
    """A request's headers in order, with the two reads the handler makes of `http.server`'s
    `email.message.Message` (`get`, case-insensitive and first value, and `items`)."""

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        return next((v for k, v in self if k.lower() == name), default)

    def items(self) -> list[tuple[str, str]]:
        return list(self)


_HEADER_LIMIT = 100  # http.client's _MAXHEADERS
_LINE_LIMIT = 65536


class _RequestHandler(BaseHTTPRequestHandler):
    raw_requestline: bytes  # set by handle_one_request before parse_request
    server: GatewayServer
    protocol_version = "HTTP/1.1"
    # The headers and the body are two writes: with Nagle's algorithm the body waited for the
    # client's delayed ACK of the headers (~40 ms), which held 8 kept-alive clients to ~180 req/s.
    disable_nagle_algorithm = True
    # Idle keep-alive connections are dropped after this, so no thread waits forever.
    timeout = 15

    def parse_request(self) -> bool:
        """`http.server`'s parse for a plain `METHOD target HTTP/1.x` request, without its
        `email` parser (~10 % of the stack's CPU per hit); anything else goes to the stdlib's."""
        words = self.raw_requestline.decode("iso-8859-1").rstrip("\r\n").split(" ")
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0") or not words[0].isalpha():
            return super().parse_request()
        self.command, self.path, self.request_version = words
        self.requestline = " ".join(words)
        headers = _Headers()
        while True:
            line = self.rfile.readline(_LINE_LIMIT + 1)
            if len(line) > _LINE_LIMIT:
                self.send_error(431, "Line too long")
                return False
            if line in (b"\r\n", b"\n", b""):
                break
            text = line.decode("iso-8859-1")
            if text[0] in " \t" and headers:  # an obsolete folded continuation line
                name, value = headers[-1]
                headers[-1] = (name, f"{value} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if not colon:
                self.send_error(400, f"Bad header line {text.strip()!r}")
                return False
            headers.append((name, value.strip()))
            if len(headers) > _HEADER_LIMIT:
                self.send_error(431, "Too many headers")
                return False
        self.headers = headers  # type: ignore[assignment]
        connection = (headers.get("connection") or "").lower()
        self.close_connection = self.request_version == "HTTP/1.0" or connection == "close"
        if connection == "keep-alive" and self.request_version == "HTTP/1.1":
            self.close_connection = False
        if (headers.get("expect") or "").lower() == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _serve(self) -> None:
        started = time.perf_counter()
        if not self.server.begin_request():
            self._send(HttpResponse.json(503, {"message": "Service Unavailable"}), close=True)
            return
        try:
            body = self._read_body()
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
                server_port=self.server.port,
            )
            try:
                response = self.server.gateway.handle(request)
            except Exception:
                log.exception("gateway error on %s %s", self.command, self.path)
                response = HttpResponse.json(500, INTERNAL_ERROR)
            self._send(response, close=self.server.closing)
        finally:
            self.server.end_request()
        if self.server.access_log:
            elapsed = (time.perf_counter() - started) * 1000
            print(f"{self.command} {self.path} {response.status} {elapsed:.1f} ms", flush=True)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("content-length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, response: HttpResponse, *, close: bool) -> None:
        """The status line, headers and body in one write (what `send_response`, `send_header`
        and `end_headers` wrote in two, with a date formatted per request)."""
        reason = self.responses.get(response.status, ("",))[0]
        lines = [
            f"{self.protocol_version} {response.status} {reason}",
            f"Server: {self.version_string()}",
            f"Date: {_http_date()}",
            *(f"{name}: {value}" for name, value in response.headers),
            f"content-length: {len(response.body)}",
        ]
        if close:
            lines.append("connection: close")
            self.close_connection = True
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
        body = response.body if self.command != "HEAD" else b""
        self.wfile.write(head + body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the stdlib's per-request stderr line; `_serve` prints its own."""
