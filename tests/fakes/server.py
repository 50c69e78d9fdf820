"""A real HTTP server on 127.0.0.1 for a fake provider API, with the faults real APIs have.

Each fake subclasses `FakeApi`: it registers routes and keeps its data; this base adds, on
every Nth call, a 429 with `Retry-After` and, on every Mth, a 500; a revoked credential (401);
a request the provider's published API document refuses (`refused`, from `fakes.contract`), which
is also recorded in `refusals` so a test can assert none happened; a hook that runs between calls
(to change data while a sync is paging); and a log of calls.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def encoded(self) -> bytes:
        if self.body is None:
            return b""
        if isinstance(self.body, bytes):
            return self.body
        return json.dumps(self.body).encode()


Handler = Callable[[Request, re.Match[str]], Reply]


@dataclass
class Faults:
    rate_limit_every: int = 0  # every Nth call answers 429
    retry_after: str = "0.01"  # what that 429 says (real APIs: "2.0", "1", "5")
    error_every: int = 0  # every Mth call answers 500
    drop_every: int = 0  # every Kth call closes the connection without answering


class FakeApi:
    """Routes, faults and a call log; subclasses add data and handlers."""

    def __init__(self) -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.faults = Faults()
        self.lock = threading.RLock()
        self.calls: list[Request] = []
        self.served: list[Request] = []  # calls answered 2xx
        self.statuses: list[int] = []  # every answer's status, in order (0: connection dropped)
        self.refusals: list[str] = []  # "METHOD path: why" for every request the contract refused
        self.between_calls: Callable[[int], None] | None = None
        self.base_url = ""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append((method, re.compile(f"^{pattern}$"), handler))

    def authorized(self, request: Request) -> Reply | None:
        """None when the request's credentials are good, else the provider's refusal."""
        return None

    def refused(self, request: Request) -> Reply | None:
        """None when the real API would accept the request, else its 4xx (see fakes.contract)."""
        return None

    def rate_limited(self) -> Reply:
        return Reply(429, {"errors": "Too many requests"}, {"Retry-After": self.faults.retry_after})

    def server_error(self) -> Reply:
        return Reply(500, {"errors": "Internal Server Error"})

    def not_found(self) -> Reply:
        return Reply(404, {"errors": "Not Found"})

    def handle(self, request: Request) -> Reply | None:
        reply = self._handle(request)
        self.statuses.append(reply.status if reply is not None else 0)
        return reply

    def _handle(self, request: Request) -> Reply | None:
        with self.lock:
            self.calls.append(request)
            number = len(self.calls)
            if self.between_calls is not None:
                self.between_calls(number)
            faults = self.faults
            if faults.drop_every and number % faults.drop_every == 0:
                return None
            if faults.rate_limit_every and number % faults.rate_limit_every == 0:
                return self.rate_limited()
            if faults.error_every and number % faults.error_every == 0:
                return self.server_error()
            refusal = self.authorized(request)
            if refusal is not None:
                return refusal
            refusal = self.refused(request)
            if refusal is not None:
                self.refusals.append(f"{request.method} {request.path}: {refusal.encoded()[:500]!r}")
                return refusal
            for method, pattern, handler in self.routes:
                match = pattern.match(request.path)
                if match and method == request.method:
                    reply = handler(request, match)
                    if 200 <= reply.status < 300:
                        self.served.append(request)
                    return reply
            return self.not_found()

    def served_paths(self, prefix: str = "") -> list[str]:
        return [r.path for r in self.served if r.path.startswith(prefix)]

    @contextmanager
    def serve(self) -> Iterator[str]:
        api = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _dispatch(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                request = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = api.handle(request)
                if reply is None:
                    self.close_connection = True
                    return
                body = reply.encoded()
                self.send_response(reply.status)
                self.send_header("content-type", reply.content_type)
                self.send_header("content-length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _dispatch

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class _Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hangs up (a killed sync) is part of the tests

        server = _Server(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="fake-api", daemon=True)
        thread.start()
        self.base_url = f"http://127.0.0.1:{server.server_address[1]}"
        try:
            yield self.base_url
        finally:
            server.shutdown()
            server.server_close()


def keyset_page(
    records: list[dict[str, Any]],
    key: Callable[[dict[str, Any]], Any],
    after: Any | None,
    size: int,
    descending: bool = False,
) -> tuple[list[dict[str, Any]], Any | None]:
    """A stable cursor page: records sorted by `key`, those after `after`, and the next cursor.

    Real cursor APIs page by position in the sort order, so a record that changes while a client
    pages moves, instead of shifting every later page by one.
    """
    ordered = sorted(records, key=key, reverse=descending)
    if after is not None:
        ordered = [r for r in ordered if (key(r) < after if descending else key(r) > after)]
    page = ordered[:size]
    following = key(page[-1]) if len(ordered) > size else None
    return page, following
