"""The HTTP API emulation: routes, the payload 2.0 event, responses, CORS, the Lambda context."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from touchline_dev.devstack.http_gateway import (
    ApiInfo,
    Gateway,
    HttpRequest,
    RouteMatch,
    RouteTable,
    build_event,
    is_text_body,
    translate_response,
)
from touchline_dev.devstack.lambda_runtime import (
    MAX_CONTAINERS,
    InvocationError,
    LambdaContext,
    LocalFunction,
    load_handler,
)
from touchline_dev.devstack.template import CorsConfig, FunctionSpec, HttpRoute, TemplateError

FIXTURES = Path(__file__).parent / "fixtures"


def _route(path: str, method: str = "ANY", function: str = "Fn", api: str = "Api") -> HttpRoute:
    return HttpRoute(function, f"{method}{path}", api, method, path, "2.0")


def test_route_precedence_follows_api_gateway() -> None:
    table = RouteTable(
        [
            _route("/sites/{site_id}", "GET", "Param"),
            _route("/sites/special", "GET", "Literal"),
            _route("/sites/{proxy+}", "ANY", "Greedy"),
            _route("/sites/{site_id}", "ANY", "ParamAny"),
            _route("$default", "ANY", "Default"),
            _route("/", "GET", "Root"),
        ]
    )

    def target(method: str, path: str) -> tuple[str, dict[str, str]] | None:
        found = table.match(method, path)
        return None if found is None else (found.route.function, found.path_parameters)

    assert target("GET", "/sites/special") == ("Literal", {})
    assert target("GET", "/sites/abc") == ("Param", {"site_id": "abc"})
    assert target("POST", "/sites/abc") == ("ParamAny", {"site_id": "abc"})
    assert target("GET", "/sites/a%20b/c/d") == ("Greedy", {"proxy": "a b/c/d"})
    assert target("GET", "/sites") == ("Default", {})  # {proxy+} needs at least one segment
    assert target("GET", "/") == ("Root", {})
    assert target("DELETE", "/elsewhere") == ("Default", {})
    assert RouteTable([_route("/a", "GET")]).match("POST", "/a") is None


def test_duplicate_routes_and_v1_payloads_are_refused() -> None:
    with pytest.raises(TemplateError, match="declared by"):
        RouteTable([_route("/a", "GET", "F1"), _route("/a", "GET", "F2")])
    with pytest.raises(TemplateError, match=r"2\.0"):
        RouteTable([HttpRoute("F", "E", "Api", "GET", "/a", "1.0")])


def _request(
    body: bytes = b"", headers: list[tuple[str, str]] | None = None, target: str = "/api/event"
) -> HttpRequest:
    return HttpRequest(
        method="POST",
        target=target,
        headers=headers or [],
        body=body,
        source_ip="10.1.2.3",
        server_port=3000,
    )


def test_v2_event_shape() -> None:
    request = _request(
        b'{"name":"pageview"}',
        [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "Mozilla/5.0 test"),
            ("Content-Type", "application/json"),
            ("X-Custom", "one"),
            ("x-custom", "two"),
            ("Cookie", "a=1; b=2"),
        ],
        target="/api/event?utm_source=x&tag=1&tag=2&empty=",
    )
    match = RouteMatch(_route("/api/event", "POST"), {})
    now = datetime(2024, 3, 9, 19, 3, 58, 123000, tzinfo=UTC)
    event = build_event(request, match, api_id="abcdef1234", now=now, request_id="req=")
    assert list(event) == [
        "version",
        "routeKey",
        "rawPath",
        "rawQueryString",
        "cookies",
        "headers",
        "queryStringParameters",
        "requestContext",
        "body",
        "isBase64Encoded",
    ]
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /api/event"
    assert event["rawPath"] == "/api/event"
    assert event["rawQueryString"] == "utm_source=x&tag=1&tag=2&empty="
    assert event["cookies"] == ["a=1", "b=2"]
    headers = event["headers"]
    assert "cookie" not in headers
    assert headers["x-custom"] == "one,two"
    assert headers["user-agent"] == "Mozilla/5.0 test"
    assert headers["x-forwarded-for"] == "10.1.2.3"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == "3000"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    assert event["queryStringParameters"] == {"utm_source": "x", "tag": "1,2", "empty": ""}
    assert event["requestContext"] == {
        "accountId": "123456789012",
        "apiId": "abcdef1234",
        "domainName": "127.0.0.1",
        "domainPrefix": "127",
        "http": {
            "method": "POST",
            "path": "/api/event",
            "protocol": "HTTP/1.1",
            "sourceIp": "10.1.2.3",
            "userAgent": "Mozilla/5.0 test",
        },
        "requestId": "req=",
        "routeKey": "POST /api/event",
        "stage": "$default",
        "time": "09/Mar/2024:19:03:58 +0000",
        "timeEpoch": 1710011038123,
    }
    assert event["body"] == '{"name":"pageview"}'
    assert event["isBase64Encoded"] is False


def test_v2_event_without_body_query_or_cookies_and_with_path_parameters() -> None:
    request = _request(target="/sites/s%201")
    event = build_event(request, RouteMatch(_route("/sites/{id}", "GET"), {"id": "s 1"}), api_id="x")
    assert "body" not in event and "cookies" not in event and "queryStringParameters" not in event
    assert event["isBase64Encoded"] is False
    assert event["pathParameters"] == {"id": "s 1"}
    assert event["rawPath"] == "/sites/s%201"


@pytest.mark.parametrize(
    ("content_type", "encoding", "text"),
    [
        ("application/json", None, True),
        ("text/plain;charset=UTF-8", None, True),
        ("application/vnd.api+json", None, True),
        ("application/octet-stream", None, False),
        ("application/x-www-form-urlencoded", None, False),
        (None, None, False),
        ("application/json", "gzip", False),
    ],
)
def test_which_bodies_are_base64_encoded(content_type: str | None, encoding: str | None, text: bool) -> None:
    assert is_text_body(content_type, encoding) is text


def test_binary_and_gzip_bodies_arrive_base64_encoded() -> None:
    raw = gzip.compress(b'{"a":1}')
    request = _request(raw, [("Content-Type", "application/json"), ("Content-Encoding", "gzip")])
    event = build_event(request, RouteMatch(_route("/api/event", "POST"), {}), api_id="x")
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == raw


def test_response_mapping() -> None:
    plain = translate_response({"statusCode": 202, "body": ""})
    assert (plain.status, plain.body, plain.header("content-type")) == (202, b"", None)
    full = translate_response(
        {
            "statusCode": "201",
            "headers": {"X-One": 1, "Content-Type": "text/csv"},
            "multiValueHeaders": {"X-Multi": ["a", "b"]},
            "cookies": ["s=1; Secure", "t=2"],
            "body": "a,b",
        }
    )
    assert full.status == 201
    assert ("x-one", "1") in full.headers and ("content-type", "text/csv") in full.headers
    assert [v for k, v in full.headers if k == "x-multi"] == ["a", "b"]
    assert [v for k, v in full.headers if k == "set-cookie"] == ["s=1; Secure", "t=2"]
    binary = translate_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\x01").decode(), "isBase64Encoded": True}
    )
    assert binary.body == b"\x00\x01"
    defaulted = translate_response({"statusCode": 200, "body": "hi"})
    assert defaulted.header("content-type") == "text/plain; charset=utf-8"


@pytest.mark.parametrize("result", [{"ok": True}, "hello", [1, 2], None])
def test_results_without_status_code_are_200_json(result: Any) -> None:
    response = translate_response(result)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == result


def test_bad_status_code_is_an_invocation_error() -> None:
    with pytest.raises(InvocationError):
        translate_response({"statusCode": "two hundred"})


def test_lambda_context_matches_the_python_runtime() -> None:
    context = LambdaContext(function_name="touchline-Fn", memory_size=256, timeout_seconds=5)
    assert context.memory_limit_in_mb == "256"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:touchline-Fn"
    assert context.function_version == "$LATEST"
    assert context.log_group_name == "/aws/lambda/touchline-Fn"
    assert 4000 < context.get_remaining_time_in_millis() <= 5000
    assert len(context.aws_request_id) == 36


def _echo_gateway(cors: CorsConfig | None = None) -> Gateway:
    spec = FunctionSpec(
        "EchoFunction", FIXTURES / "functions" / "echo", "app.handler", "python3.11", 5, 256, {}, []
    )
    function = LocalFunction(spec, name="touchline-EchoFunction", environment={})
    routes = RouteTable(
        [
            HttpRoute("EchoFunction", "Post", "HttpApi", "POST", "/api/event", "2.0"),
            HttpRoute("EchoFunction", "Files", "HttpApi", "ANY", "/files/{proxy+}", "2.0"),
        ]
    )
    return Gateway(routes, {"EchoFunction": function}, {"HttpApi": ApiInfo("abcdef1234", cors=cors)})


def test_gateway_invokes_the_handler_with_event_and_context() -> None:
    response = _echo_gateway().handle(_request(b"hi", [("Content-Type", "text/plain")]))
    assert response.status == 200
    seen = json.loads(response.body)
    assert seen["event"]["body"] == "hi"
    assert seen["event"]["requestContext"]["apiId"] == "abcdef1234"
    assert seen["context"]["function_name"] == "touchline-EchoFunction"
    assert seen["context"]["memory_limit_in_mb"] == "256"
    assert response.header("apigw-requestid") == seen["event"]["requestContext"]["requestId"]
    shortcut = _echo_gateway().handle(HttpRequest("GET", "/files/a/b.txt", []))
    assert (shortcut.status, json.loads(shortcut.body)) == (200, {"proxy": "a/b.txt"})


def test_gateway_errors() -> None:
    gateway = _echo_gateway()
    missing = gateway.handle(HttpRequest("GET", "/nope", []))
    assert (missing.status, json.loads(missing.body)) == (404, {"message": "Not Found"})
    failed = gateway.handle(_request(b"raise", [("Content-Type", "text/plain")]))
    assert (failed.status, json.loads(failed.body)) == (500, {"message": "Internal Server Error"})
    assert gateway.handle(HttpRequest("POST", "/_dev/unknown", [])).status == 404


def test_cors_preflight_and_response_headers() -> None:
    cors = CorsConfig(
        ["https://shop.example", "https://*.example.org"], ["POST"], ["content-type"], ["x-id"], 600, False
    )
    gateway = _echo_gateway(cors)
    preflight = gateway.handle(
        HttpRequest(
            "OPTIONS",
            "/api/event",
            [("Origin", "https://www.example.org"), ("Access-Control-Request-Method", "POST")],
        )
    )
    assert preflight.status == 204
    assert preflight.header("access-control-allow-origin") == "https://www.example.org"
    assert preflight.header("access-control-allow-methods") == "POST"
    assert preflight.header("access-control-allow-headers") == "content-type"
    assert preflight.header("access-control-max-age") == "600"
    refused = gateway.handle(
        HttpRequest(
            "OPTIONS",
            "/api/event",
            [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")],
        )
    )
    assert refused.status == 204 and refused.header("access-control-allow-origin") is None
    # The handler's own CORS header is replaced by the API's configuration.
    response = gateway.handle(
        _request(b"x", [("Content-Type", "text/plain"), ("Origin", "https://shop.example")])
    )
    assert [v for k, v in response.headers if k == "access-control-allow-origin"] == ["https://shop.example"]
    assert response.header("access-control-expose-headers") == "x-id"
    unknown_origin = gateway.handle(
        _request(b"x", [("Content-Type", "text/plain"), ("Origin", "https://evil.example")])
    )
    assert unknown_origin.header("access-control-allow-origin") is None


def test_handlers_load_under_unique_module_names() -> None:
    first = load_handler(FIXTURES / "functions" / "echo", "app.handler", "One")
    second = load_handler(FIXTURES / "functions" / "tick", "app.handler", "Two")
    assert first.__module__ != second.__module__
    with pytest.raises(TemplateError, match="does not exist"):
        load_handler(FIXTURES / "functions" / "echo", "missing.handler", "Three")
    with pytest.raises(TemplateError, match="no callable"):
        load_handler(FIXTURES / "functions" / "echo", "app.nothing", "Four")


def test_unserialisable_results_fail_like_lambda() -> None:
    spec = FunctionSpec("Fn", FIXTURES / "functions" / "echo", "app.handler", "python3.11", 5, 128, {}, [])
    function = LocalFunction(spec, name="fn", environment={})
    function._handler = lambda event, context: {"when": datetime.now(UTC)}
    with pytest.raises(InvocationError, match="cannot serialise"):
        function.invoke({})


CONTAINER_APP = """
import threading
import time

busy = threading.Lock()


def handler(event, context):
    # A container runs one invocation at a time; two at once would share this module's state.
    if not busy.acquire(blocking=False):
        raise RuntimeError("two invocations in one container")
    try:
        time.sleep(0.05)
        return {"container": __name__}
    finally:
        busy.release()
"""


def test_parallel_invocations_get_a_container_each_up_to_the_limit(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CONTAINER_APP)
    spec = FunctionSpec("BusyFunction", tmp_path, "app.handler", "python3.11", 5, 128, {}, [])
    function = LocalFunction(spec, name="busy", environment={})
    function.load()
    with ThreadPoolExecutor(max_workers=MAX_CONTAINERS * 2) as pool:
        results = list(pool.map(lambda _: function.invoke({}).result, range(MAX_CONTAINERS * 4)))
    containers = {r["container"] for r in results}
    assert 1 < len(containers) <= MAX_CONTAINERS
    # Warm containers are reused: a second burst imports nothing new.
    with ThreadPoolExecutor(max_workers=MAX_CONTAINERS * 2) as pool:
        again = {
            r["container"] for r in pool.map(lambda _: function.invoke({}).result, range(MAX_CONTAINERS * 2))
        }
    assert again <= containers


def test_a_test_handler_is_one_container(tmp_path: Path) -> None:
    spec = FunctionSpec("Fn", tmp_path, "app.handler", "python3.11", 5, 128, {}, [])
    function = LocalFunction(spec, name="fn", environment={})
    seen: list[int] = []
    lock = threading.Lock()

    def handler(event: Any, context: Any) -> dict[str, int]:
        assert lock.acquire(blocking=False), "two invocations at once"
        try:
            seen.append(1)
            return {}
        finally:
            lock.release()

    function._handler = handler
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda _: function.invoke({}), range(8)))
    assert len(seen) == 8
