"""Issue 13: `/_dev/*` refuses what a web page can forge (a cross-site simple POST, a foreign
Origin, a DNS-rebound Host) and still answers the CLI's and curl's requests."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from touchline_dev.devstack.dev_guard import DevRouteGuard
from touchline_dev.devstack.http_gateway import ApiInfo, Gateway, HttpRequest, HttpResponse, RouteTable
from touchline_dev.devstack.moto_backend import MotoServer, aws_client, stack_origins

JSON = ("Content-Type", "application/json")
LOCAL = ("Host", "127.0.0.1:3000")


def _gateway(bound_host: str = "127.0.0.1") -> tuple[Gateway, list[str]]:
    ran: list[str] = []

    def sql(request: HttpRequest) -> HttpResponse:
        ran.append(request.body.decode())
        return HttpResponse.json(200, {"rows": []})

    routes = {"POST /_dev/sql": sql, "GET /_dev/health": lambda _r: HttpResponse.json(200, {"status": "ok"})}
    gateway = Gateway(RouteTable([]), {}, {"HttpApi": ApiInfo("a")}, routes, DevRouteGuard(bound_host))
    return gateway, ran


def _post(gateway: Gateway, *headers: tuple[str, str]) -> HttpResponse:
    return gateway.handle(HttpRequest("POST", "/_dev/sql", list(headers), b'{"query": "SELECT 1"}'))


@pytest.mark.parametrize(
    "headers",
    [
        # what `touchline sql` (urllib) and curl send
        (LOCAL, JSON),
        (("Host", "localhost:3000"), ("Content-Type", "application/json; charset=utf-8")),
        (("Host", "[::1]:3000"), JSON),
        # a same-origin page of the stack itself
        (LOCAL, JSON, ("Origin", "http://127.0.0.1:3000"), ("Sec-Fetch-Site", "same-origin")),
    ],
)
def test_the_cli_and_curl_are_answered(headers: tuple[tuple[str, str], ...]) -> None:
    gateway, ran = _gateway()
    assert _post(gateway, *headers).status == 200
    assert ran == ['{"query": "SELECT 1"}']


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        # the exploit: fetch(…, {method: "POST", mode: "no-cors", body}) from any page
        ((LOCAL, ("Content-Type", "text/plain;charset=UTF-8"), ("Origin", "https://evil.example")), "origin"),
        # the same with the browser's Origin stripped (a form post from an old browser)
        ((LOCAL, ("Content-Type", "text/plain")), "application/json"),
        ((LOCAL, ("Content-Type", "application/x-www-form-urlencoded")), "application/json"),
        ((LOCAL,), "application/json"),
        # JSON is only sendable cross-origin after a preflight; refused even if one got through
        ((LOCAL, JSON, ("Origin", "https://evil.example")), "origin"),
        ((LOCAL, JSON, ("Origin", "null")), "origin"),
        ((LOCAL, JSON, ("Sec-Fetch-Site", "cross-site")), "sec-fetch-site"),
        ((LOCAL, JSON, ("Sec-Fetch-Site", "same-site")), "sec-fetch-site"),
        # DNS rebinding: evil.example resolves to 127.0.0.1, so the page is "same-origin" with it
        ((("Host", "evil.example:3000"), JSON, ("Origin", "http://evil.example:3000")), "host"),
        ((("Host", "evil.example:3000"), JSON), "host"),
        ((JSON,), "host"),
    ],
)
def test_what_a_web_page_can_send_is_refused(headers: tuple[tuple[str, str], ...], why: str) -> None:
    gateway, ran = _gateway()
    response = _post(gateway, *headers)
    body = json.loads(response.body)
    assert (response.status, body["error"]) == (403, "forbidden")
    assert why in body["message"].lower()
    assert ran == []
    assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]


def test_a_preflight_to_a_dev_route_is_never_granted() -> None:
    gateway, _ = _gateway()
    preflight = HttpRequest(
        "OPTIONS",
        "/_dev/sql",
        [LOCAL, ("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")],
    )
    response = gateway.handle(preflight)
    assert response.status == 404
    assert not [name for name, _ in response.headers if name.lower().startswith("access-control-")]


def test_get_health_needs_a_local_host_but_no_json() -> None:
    gateway, _ = _gateway()
    assert gateway.handle(HttpRequest("GET", "/_dev/health", [LOCAL])).status == 200
    assert gateway.handle(HttpRequest("GET", "/_dev/health", [("Host", "evil.example")])).status == 403


def test_a_stack_bound_to_a_lan_address_answers_that_host_too() -> None:
    gateway, _ = _gateway("192.168.1.20")
    assert _post(gateway, ("Host", "192.168.1.20:3000"), JSON).status == 200
    assert _post(gateway, ("Host", "evil.example:3000"), JSON).status == 403
    anywhere, _ = _gateway("0.0.0.0")
    assert _post(anywhere, ("Host", "0.0.0.0:3000"), JSON).status == 403
    assert _post(anywhere, LOCAL, JSON).status == 200


def _call(
    url: str, method: str, headers: dict[str, str], body: bytes | None = None
) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as exc:
        return int(exc.code), {k.lower(): v for k, v in exc.headers.items()}


def test_moto_refuses_foreign_pages_and_admits_boto3_and_the_stacks_own(moto: MotoServer) -> None:
    """moto answers any origin's preflight and checks no credentials: a page that found its port
    could read the local secrets or wipe the stack. Only the stack's own pages get through."""
    moto.allowed_origins = stack_origins("http://127.0.0.1:3000")
    try:
        _moto_checks(moto)
    finally:
        moto.allowed_origins = ()  # the shared server, as the other tests expect it


def _moto_checks(moto: MotoServer) -> None:
    secrets = aws_client("secretsmanager", moto.url)
    secrets.create_secret(Name="touchline/clickhouse-url", SecretString="chdb:///x")  # boto3: no Origin
    read = {"X-Amz-Target": "secretsmanager.GetSecretValue", "Content-Type": "application/x-amz-json-1.1"}
    body = json.dumps({"SecretId": "touchline/clickhouse-url"}).encode()
    evil = {"Origin": "https://evil.example"}
    assert _call(moto.url, "POST", {**read, **evil}, body)[0] == 403
    preflight = {
        **evil,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "x-amz-target",
    }
    # A preflight runs nothing: it is answered, and the call it announces is judged by its target.
    assert _call(moto.url, "OPTIONS", preflight)[0] == 200
    preflight_reset = _call(moto.url + "/moto-api/reset", "OPTIONS", preflight)
    assert preflight_reset[0] == 403 and "access-control-allow-origin" not in preflight_reset[1]
    assert _call(moto.url + "/moto-api/reset", "POST", {**evil, "Content-Type": "text/plain"}, b"")[0] == 403
    admin = {**evil, "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminCreateUser"}
    assert _call(moto.url, "POST", {**admin, "Content-Type": "application/x-amz-json-1.1"}, b"{}")[0] == 403
    # What real Cognito serves any origin (a sign-in with the user's own password) reaches moto.
    sign_in = {**evil, "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth"}
    answered = _call(moto.url, "POST", {**sign_in, "Content-Type": "application/x-amz-json-1.1"}, b"{}")
    assert answered[0] != 403
    rebound = {"Host": f"evil.example:{moto.url.rsplit(':', 1)[1]}"}
    assert _call(moto.url + "/moto-api/reset", "POST", rebound, b"")[0] == 403
    assert secrets.get_secret_value(SecretId="touchline/clickhouse-url")["SecretString"] == "chdb:///x"
    # the dashboard signs in against moto's Cognito from the stack's origin (localhost too)
    for origin in ("http://127.0.0.1:3000", "http://localhost:3000"):
        status, headers = _call(moto.url, "OPTIONS", {**preflight, "Origin": origin})
        assert status == 200 and headers.get("access-control-allow-origin") in {origin, "*"}
    other_page = {"Origin": "http://127.0.0.1:4000", "X-Amz-Target": "secretsmanager.GetSecretValue"}
    assert _call(moto.url, "POST", {**read, **other_page}, body)[0] == 403
