"""HttpApiResolver: Powertools routing unchanged, headers read from the event without copies."""

from __future__ import annotations

import gzip
import json
from base64 import b64decode
from typing import Any

from aws_lambda_powertools.event_handler import Response

from helpers import LambdaContextStub, sample_event
from touchline.aws.http_api import HttpApiResolver, LowerCaseHeadersEventV2


def resolver() -> HttpApiResolver:
    app = HttpApiResolver()

    @app.post("/api/event")
    def post() -> dict[str, Any]:
        event = app.current_event
        return {
            "event_class": type(event).__name__,
            "same_dict": event.headers is event.raw_event["headers"],
            "ua": event.headers.get("user-agent"),
            "body": event.body,
        }

    @app.get("/zipped", compress=True)
    def zipped() -> Response[str]:
        return Response(200, "text/plain", "hello " * 50)

    return app


def test_powertools_builds_our_event_so_the_header_copies_are_skipped() -> None:
    event = sample_event("collector_pageview.json")
    result = resolver().resolve(event, LambdaContextStub())
    assert result["statusCode"] == 200
    answer = json.loads(result["body"])
    assert answer["event_class"] == LowerCaseHeadersEventV2.__name__
    assert answer["same_dict"] is True
    assert answer["ua"] == event["headers"]["user-agent"]
    assert answer["body"] == event["body"]


def test_gzip_negotiation_still_reads_accept_encoding() -> None:
    event = sample_event("collector_tag_script.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/zipped"
    event["routeKey"] = event["requestContext"]["routeKey"] = "GET /zipped"
    zipped = resolver().resolve(event, LambdaContextStub())
    assert zipped["headers"]["Content-Encoding"] == "gzip"
    assert gzip.decompress(b64decode(zipped["body"])) == b"hello " * 50
    event["headers"]["accept-encoding"] = "identity"
    plain = resolver().resolve(event, LambdaContextStub())
    assert "Content-Encoding" not in plain["headers"] and plain["body"] == "hello " * 50


def test_unknown_routes_are_still_powertools_404s() -> None:
    event = sample_event("collector_pageview.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/nope"
    assert resolver().resolve(event, LambdaContextStub())["statusCode"] == 404


def test_parallel_threads_each_resolve_their_own_event() -> None:
    """Powertools keeps the current event on its BaseRouter class: two threads resolving at once
    (the local stack's containers) read each other's. Ours is per thread: each answers its own."""
    import threading

    first, second = HttpApiResolver(), HttpApiResolver()
    both_inside = threading.Barrier(2, timeout=10)

    def route(app: HttpApiResolver) -> dict[str, Any]:
        before = app.current_event.path
        both_inside.wait()  # the other thread has begun resolving its own event meanwhile
        both_inside.wait()
        return {
            "before": before,
            "after": app.current_event.path,
            "ua": app.current_event.headers["user-agent"],
        }

    first.get("/one")(lambda: route(first))
    second.get("/two")(lambda: route(second))
    answers: dict[str, Any] = {}

    def call(app: HttpApiResolver, path: str) -> None:
        event = sample_event("collector_tag_script.json")
        event["rawPath"] = event["requestContext"]["http"]["path"] = path
        event["routeKey"] = event["requestContext"]["routeKey"] = f"GET {path}"
        event["headers"]["user-agent"] = f"agent {path}"
        answers[path] = json.loads(app.resolve(event, LambdaContextStub())["body"])

    threads = [
        threading.Thread(target=call, args=(first, "/one")),
        threading.Thread(target=call, args=(second, "/two")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert answers == {
        "/one": {"before": "/one", "after": "/one", "ua": "agent /one"},
        "/two": {"before": "/two", "after": "/two", "ua": "agent /two"},
    }
