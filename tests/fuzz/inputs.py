"""What the fuzz suite sends: hostile requests for any route, and good ones for the routes we know.

`hostile(route, world)` draws one request for a route: a known good body of that route mutated
(a field replaced by a wrong type, a huge or tiny number, a far-off date, a bogus currency,
deep nesting, a lone surrogate), or raw bytes (invalid UTF-8, truncated JSON, deep brackets),
sent with a drawn content type and encoding (gzip, a gzip bomb, a broken stream, unknown
encodings), drawn headers (odd authorizations, huge or non-ASCII values), and sometimes a
payload 2.0 event bent the way only a broken proxy would send it (`isBase64Encoded` on a body
that is not base64, a missing body). Routes the template gains later are fuzzed with the
generic bodies until someone adds their good requests to `GOOD`.

`good(route, world, n)` is the n-th well-formed request of a route and the marker that finds it
in ClickHouse afterwards (None for a route that stores nothing, such as a query).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import json
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from touchline.tracking.ids import event_id
from touchline_dev.devstack.template import HttpRoute

UA = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@dataclass(frozen=True)
class World:
    """The credentials and ids every route needs to accept a good request."""

    site_id: str
    domain: str
    write_key: str
    payments_token: str
    query_key: str
    stripe_secret: str
    shopify_secret: str
    run: str  # makes this run's markers unique
    # The people routes (Cognito): an owner's ID token, their organisation and its site.
    session: str = ""
    org_id: str = ""
    owned_site_id: str = ""
    spare_site_id: str = ""  # the one `DELETE /api/v1/sites/{site_id}` may delete


@dataclass(frozen=True)
class Marker:
    """How to find a good request in the warehouse: `table` has a row whose `column` is `value`."""

    table: str
    column: str
    value: str


@dataclass
class Request:
    method: str
    target: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    hook: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    marker: Marker | None = None
    label: str = ""


def signed_in(route: HttpRoute) -> bool:
    """Behind the Cognito authorizer: the people routes."""
    return route.authorizer == "CognitoAuthorizer"


def target_of(route: HttpRoute, world: World) -> str:
    """The route's path with its parameters filled in: a site id for `{site_id}` (the owner's
    own site on the people routes), the owner's organisation for `{org_id}`."""
    parts = []
    for segment in route.path.split("/"):
        if segment == "{site_id}" and route.route_key == "DELETE /api/v1/sites/{site_id}":
            parts.append(world.spare_site_id or "x")
        elif segment == "{site_id}":
            parts.append(world.owned_site_id if signed_in(route) else world.site_id)
        elif segment == "{org_id}":
            parts.append(world.org_id or "x")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append("x")
        else:
            parts.append(segment)
    return "/".join(parts)


# --------------------------------------------------------------------------- good requests


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def _basic(key: str) -> str:
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


def _collector(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], Marker]:
    url = f"https://{world.domain}/fuzz/{world.run}/{n}?utm_source=fuzz"
    body = {"n": "pageview", "u": url, "d": world.domain, "r": "https://news.example.org/"}
    headers = [("content-type", "text/plain"), ("user-agent", UA)]
    return body, headers, Marker("events", "url", url)


def _tracking(call: str) -> Callable[[World, int], tuple[dict[str, Any], list[tuple[str, str]], Marker]]:
    def build(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], Marker]:
        message_id = f"fuzz-{world.run}-{call}-{n}"
        message: dict[str, Any] = {
            "messageId": message_id,
            "anonymousId": f"anon-{world.run}-{n}",
            "timestamp": "2026-11-17T10:00:00Z",
            "context": {"ip": "203.0.113.9", "userAgent": UA, "page": {"url": f"https://{world.domain}/"}},
        }
        if call in ("track", "batch"):
            message.update(event="Signed Up", properties={"plan": "pro", "revenue": 9.99, "currency": "EUR"})
        elif call == "identify":
            message.update(userId=f"user-{world.run}-{n}", traits={"email": f"u{n}@example.com"})
        elif call in ("page", "screen"):
            message.update(name="Home", properties={"url": f"https://{world.domain}/home"})
        elif call == "group":
            message.update(groupId="acme", traits={"name": "Acme"})
        elif call == "alias":
            message.update(userId=f"user-{world.run}-{n}", previousId=f"anon-{world.run}-{n}")
        if call == "batch":
            body: dict[str, Any] = {"batch": [{**message, "type": "track"}], "sentAt": "2026-11-17T10:00:01Z"}
        else:
            body = message
        headers = [("content-type", "application/json"), ("authorization", _basic(world.write_key))]
        return body, headers, Marker("events", "toString(event_id)", event_id(world.site_id, message_id))

    return build


def _payment(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], Marker]:
    order = f"fuzz-{world.run}-{n}"
    body = {
        "transaction_id": order,
        "amount": "29.99",
        "currency": "EUR",
        "visitor_id": f"v{world.run}{n:08d}",
        "email": f"buyer{n}@example.com",
    }
    headers = [("content-type", "application/json"), ("authorization", f"Bearer {world.payments_token}")]
    return body, headers, Marker("orders", "order_id", order)


def stripe_signature(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """Stripe's scheme (docs.stripe.com/webhooks#verify-manually): `t=<ts>,v1=<hmac(ts.body)>`."""
    ts = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def shopify_signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _stripe(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], Marker]:
    intent = f"pi_fuzz{world.run}{n}"
    body = {
        "id": f"evt_fuzz{world.run}{n}",
        "object": "event",
        "api_version": "2024-06-20",
        "created": 1795000000,
        "livemode": True,
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": intent,
                "object": "payment_intent",
                "amount": 4900,
                "amount_received": 4900,
                "currency": "usd",
                "status": "succeeded",
                "created": 1795000000,
                "customer": f"cus_fuzz{n}",
                "metadata": {"touchline_visitor_id": f"v{world.run}{n:08d}"},
                "livemode": True,
            }
        },
    }
    return body, [("content-type", "application/json; charset=utf-8")], Marker("orders", "order_id", intent)


def _shopify(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], Marker]:
    order_id = 7_000_000_000 + n
    body = {
        "id": order_id,
        "currency": "USD",
        "total_price": "19.90",
        "current_total_price": "19.90",
        "subtotal_price": "19.90",
        "financial_status": "paid",
        "created_at": "2026-11-17T10:00:00-05:00",
        "processed_at": "2026-11-17T10:00:00-05:00",
        "updated_at": "2026-11-17T10:05:00-05:00",
        "email": f"shopper{n}@example.com",
        "customer": {"id": 115310627314723954 + n, "email": f"shopper{n}@example.com"},
        "note_attributes": [{"name": "_touchline_visitor_id", "value": f"v{world.run}{n:08d}"}],
        "line_items": [{"id": 1, "price": "19.90", "quantity": 1, "title": "Socks", "product_id": 5}],
        "refunds": [],
        "test": False,
    }
    return body, [("content-type", "application/json")], Marker("orders", "order_id", str(order_id))


def _query(world: World, n: int) -> tuple[dict[str, Any], list[tuple[str, str]], None]:
    body = {"site_id": world.domain, "metrics": ["visitors", "pageviews"], "date_range": "all"}
    headers = [("content-type", "application/json"), ("authorization", f"Bearer {world.query_key}")]
    return body, headers, None


GoodBuilder = Callable[[World, int], tuple[dict[str, Any], list[tuple[str, str]], Marker | None]]

GOOD: dict[str, GoodBuilder] = {
    "POST /api/event": _collector,
    **{f"POST /v1/{call}": _tracking(call) for call in ("batch", "track", "identify", "page", "screen")},
    "POST /v1/group": _tracking("group"),
    "POST /v1/alias": _tracking("alias"),
    "POST /api/v1/payments": _payment,
    "POST /webhooks/stripe/{site_id}": _stripe,
    "POST /webhooks/shopify/{site_id}": _shopify,
    "POST /api/v2/query": _query,
}


def _signed(route: HttpRoute, world: World, body: bytes, headers: list[tuple[str, str]]) -> None:
    """Sign a (possibly hostile) body as the provider would: the fuzz must get past the signature."""
    if route.path.startswith("/webhooks/stripe/"):
        headers.append(("stripe-signature", stripe_signature(body, world.stripe_secret)))
    elif route.path.startswith("/webhooks/shopify/"):
        headers.extend(
            [
                ("x-shopify-hmac-sha256", shopify_signature(body, world.shopify_secret)),
                ("x-shopify-topic", "orders/paid"),
                ("x-shopify-webhook-id", hashlib.sha1(body).hexdigest()),
            ]
        )


def good(route: HttpRoute, world: World, n: int) -> Request | None:
    builder = GOOD.get(route.route_key)
    if builder is None:
        return None
    data, headers, marker = builder(world, n)
    body = _json(data)
    headers = list(headers)
    _signed(route, world, body, headers)
    return Request(route.method, target_of(route, world), headers, body, marker=marker, label="good")


# --------------------------------------------------------------------------- hostile values

HUGE_INTS = [2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**30, 5_000_000_000, -1, 0]
ODD_FLOATS = [1e308, -1e308, 1e-308, 5e-324, -0.0, 1e30, 0.1 + 0.2]
ODD_STRINGS = [
    "",
    " ",
    "NAN",
    "nan",
    "Infinity",
    "-1",
    "1e30",
    "0x10",
    "9" * 400,
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "0000-00-00",
    "+275760-09-13T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2262-04-12T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "\ud800",
    "\x00",
    "é" * 3000,
    "<script>alert(1)</script>",
    "'; DROP TABLE events; --",
    "{site_id:String}",
    "../../etc/passwd",
    "a" * 70_000,
    "US",
    "usd",
    "XXX",
    "€",
    "https://evil.example/",
    "javascript:alert(1)",
]
CURRENCIES = ["NAN", "XYZ", "usd", "US", "EURO", "", "12", "XXX", "XTS", "€€€"]


def _json_values(depth: int) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(HUGE_INTS),
        st.integers(),
        st.sampled_from(ODD_FLOATS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(ODD_STRINGS),
        st.text(max_size=40),
    )
    if depth <= 0:
        return scalars
    inner = _json_values(depth - 1)
    return st.one_of(
        scalars,
        st.lists(inner, max_size=4),
        st.dictionaries(st.text(max_size=12), inner, max_size=4),
    )


# Built once: a strategy is cheap to draw from but not to build.
JSON_VALUES = {depth: _json_values(depth) for depth in range(4)}


def json_values(depth: int = 2) -> st.SearchStrategy[Any]:
    return JSON_VALUES[depth]


def _paths(value: Any, prefix: tuple[Any, ...] = (), depth: int = 6) -> list[tuple[Any, ...]]:
    """Where a field can be changed: every path into the body, but not deep inside what an earlier
    mutation planted (a 1,000-level nesting or a 3,000-item list would make this quadratic)."""
    found = [prefix] if prefix else []
    if depth == 0:
        return found
    if isinstance(value, dict):
        for key, item in list(value.items())[:20]:
            found.extend(_paths(item, (*prefix, key), depth - 1))
    elif isinstance(value, list):
        for index, item in enumerate(value[:20]):
            found.extend(_paths(item, (*prefix, index), depth - 1))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any, delete: bool = False) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replaced(value[head], rest, new, delete)
        return copy
    copy_list = list(value)
    if delete and not rest:
        copy_list.pop(head)
    else:
        copy_list[head] = _replaced(value[head], rest, new, delete)
    return copy_list


def nested(depth: int, kind: str = "list") -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


@st.composite
def mutated_json(draw: st.DrawFn, base: Any) -> bytes:
    """The good body with one to three fields changed (or dropped), serialised as JSON text."""
    value = base
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(value)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        what = draw(st.sampled_from(["value", "value", "value", "delete", "deep", "currency", "wrap"]))
        if what == "delete":
            value = _replaced(value, path, None, delete=True)
        elif what == "deep":
            depth = draw(st.sampled_from([64, 200, 300, 1000, 1100]))
            value = _replaced(value, path, nested(depth, draw(st.sampled_from(["list", "dict"]))))
        elif what == "currency":
            value = _replaced(value, path, draw(st.sampled_from(CURRENCIES)))
        elif what == "wrap":
            value = _replaced(value, path, [draw(json_values(0))] * draw(st.sampled_from([0, 2, 3000])))
        else:
            value = _replaced(value, path, draw(json_values()))
    return json.dumps(value).encode()


def _deep_text(depth: int, opener: str) -> bytes:
    closer = {"[": "]", "{": "}"}[opener]
    if opener == "{":
        return ('{"a":' * depth + "1" + closer * depth).encode()
    return (opener * depth + closer * depth).encode()


@st.composite
def raw_body(draw: st.DrawFn, base: bytes) -> bytes:
    kind = draw(
        st.sampled_from(
            ["binary", "utf8-hole", "truncated", "deep", "nan", "empty", "array", "huge", "dupkeys"]
        )
    )
    if kind == "binary":
        return draw(st.binary(max_size=300))
    if kind == "utf8-hole":
        at = draw(st.integers(0, max(0, len(base) - 1)))
        return base[:at] + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80\x80"])) + base[at:]
    if kind == "truncated":
        return base[: draw(st.integers(0, max(0, len(base) - 1)))]
    if kind == "deep":
        return _deep_text(
            draw(st.sampled_from([255, 256, 1024, 1025, 5000, 100_000])), draw(st.sampled_from("[{"))
        )
    if kind == "nan":
        return base.replace(b"1", b"NaN", 1) if b"1" in base else b'{"a": NaN, "b": Infinity}'
    if kind == "empty":
        return draw(st.sampled_from([b"", b" ", b"null", b"{}", b"[]", b"0", b'""', b"\xef\xbb\xbf{}"]))
    if kind == "array":
        return b"[" + base + b"," + base + b"]"
    if kind == "huge":
        return base[:-1] + b',"pad":"' + b"x" * draw(st.sampled_from([20_000, 600_000, 1_100_000])) + b'"}'
    return base[:-1] + b"," + base[1:]  # duplicate keys


GZIP_BOMB = gzip.compress(b"\x00" * (20 * 1024 * 1024), compresslevel=9)  # 20 MB → ~20 KB


@st.composite
def encoded(draw: st.DrawFn, body: bytes) -> tuple[bytes, list[tuple[str, str]]]:
    """The body as sent on the wire, and the Content-Encoding header it claims."""
    kind = draw(
        st.sampled_from(
            ["identity", "identity", "identity", "gzip", "bomb", "badgzip", "deflate", "br", "odd"]
        )
    )
    if kind == "identity":
        return body, []
    if kind == "gzip":
        return gzip.compress(body), [("content-encoding", "gzip")]
    if kind == "bomb":
        return GZIP_BOMB, [("content-encoding", "gzip")]
    if kind == "badgzip":
        squeezed = gzip.compress(body)
        return squeezed[: max(1, len(squeezed) // 2)] + b"\x00junk", [("content-encoding", "gzip")]
    if kind == "deflate":
        return zlib.compress(body), [("content-encoding", "deflate")]
    if kind == "br":
        return body, [("content-encoding", "br")]
    return body, [
        ("content-encoding", draw(st.sampled_from(["gzip, gzip", "GZIP", "x-gzip", "compress", "\u00e9"])))
    ]


CONTENT_TYPES = [
    "application/json",
    "text/plain",
    "text/plain;charset=UTF-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/octet-stream",
    "application/json; charset=latin-1",
    "",
    "image/png",
]


def header_values() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["", " ", "null", "Bearer", "Bearer ", "Basic", "Basic !!!", "Basic " + "A" * 5000]),
        st.sampled_from(
            ["Bearer tl_" + "x" * 43, "Bearer tlk_abc_def", "Basic " + base64.b64encode(b"\xff:").decode()]
        ),
        st.text(max_size=60),
        st.sampled_from(["é", "\u2028", "x" * 9000]),
    )


def _bend_base64(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "isBase64Encoded": True, "body": (event.get("body") or "") + "%%%"}


def _claim_base64(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "isBase64Encoded": True}


def _drop_body(event: dict[str, Any]) -> dict[str, Any]:
    bent = dict(event)
    bent.pop("body", None)
    return bent


def _null_headers(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "headers": None}


EVENT_HOOKS: list[Callable[[dict[str, Any]], dict[str, Any]] | None] = [
    _bend_base64,
    _claim_base64,
    _drop_body,
    _null_headers,
]


def _default_body(route: HttpRoute) -> Any:
    return {"name": "x", "url": "https://example.com/", "value": 1, "list": [1, "a"], "nested": {"k": None}}


@st.composite
def hostile(draw: st.DrawFn, route: HttpRoute, world: World) -> Request:
    """One hostile request for `route` (see the module docstring)."""
    builder = GOOD.get(route.route_key)
    if builder is not None:
        data, base_headers, _ = builder(world, draw(st.integers(0, 10**6)))
    else:
        data, base_headers = _default_body(route), [("content-type", "application/json")]
    if signed_in(route) and world.session:
        base_headers = [*base_headers, ("authorization", f"Bearer {world.session}")]
    base = _json(data)
    shape = draw(st.sampled_from(["mutated", "mutated", "mutated", "raw", "generic"]))
    if shape == "mutated":
        body = draw(mutated_json(data))
    elif shape == "raw":
        body = draw(raw_body(base))
    else:
        body = _json(draw(json_values(3)))
    headers = [(k, v) for k, v in base_headers if draw(st.integers(0, 9)) > 0]  # sometimes drop one
    if draw(st.booleans()):
        headers = [(k, v) for k, v in headers if k != "content-type"]
        headers.append(("content-type", draw(st.sampled_from(CONTENT_TYPES))))
    if draw(st.integers(0, 4)) == 0:
        name = draw(
            st.sampled_from(
                [
                    "authorization",
                    "user-agent",
                    "x-forwarded-for",
                    "origin",
                    "cookie",
                    "if-none-match",
                    "accept-encoding",
                ]
            )
        )
        headers = [(k, v) for k, v in headers if k != name] + [(name, draw(header_values()))]
    sign_first = draw(st.booleans())
    wire, encoding_headers = draw(encoded(body))
    headers.extend(encoding_headers)
    if sign_first:
        _signed(route, world, wire, headers)
    hook = draw(st.sampled_from(EVENT_HOOKS)) if draw(st.integers(0, 14)) == 0 else None
    return Request(route.method, target_of(route, world), headers, wire, hook=hook, label=shape)
