"""The query API fuzzed from its own OpenAPI document (schemathesis): no 5xx, every 4xx a JSON error.

Cases come from `GET /api/docs/openapi.json`'s schema of `POST /api/v2/query` (valid and invalid
metric lists, dimensions, ranges, filters, pagination); half of them are aimed at the known site
with a valid key, so they reach the engine and ClickHouse rather than stopping at the key check.
150 cases in the default run (as the route fuzz of tests/fuzz sends per route: about 90 s of CI
on a loaded machine at 300); `TOUCHLINE_FUZZ_EXAMPLES=5000` for a long one.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3
import jsonschema
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from query_world import DOMAIN

from helpers import TABLE, LambdaContextStub, load_handler_module
from touchline.auth.api_keys import ApiKeyStore
from touchline.load import service as load_service
from touchline.openapi import document
from touchline.query import service

EXAMPLES = int(os.environ.get("TOUCHLINE_FUZZ_EXAMPLES", "150"))
SCHEMA = schemathesis.openapi.from_dict(document())
QUERY = SCHEMA["/api/v2/query"]["POST"]
_PROPERTIES = document()["components"]["schemas"]["QueryRequest"]["properties"]
METRICS = _PROPERTIES["metrics"]["items"]["enum"]
DIMENSIONS = [*_PROPERTIES["dimensions"]["items"]["anyOf"][0]["enum"], "event:props:is_customer"]
RANGES = _PROPERTIES["date_range"]["anyOf"][0]["enum"]
CLAUSES = st.lists(
    st.sampled_from(["/", "/pricing", "blog", "^/b", "(", "Germany", "DE", "Signup", "true", ""])
    | st.text(max_size=5),
    max_size=3,
)
SIMPLE = st.tuples(
    st.sampled_from(["is", "is_not", "contains", "contains_not", "matches", "matches_not"]),
    st.sampled_from(DIMENSIONS),
    CLAUSES,
).map(list)
FILTER = st.recursive(
    SIMPLE,
    lambda inner: (
        st.tuples(st.just("not"), inner).map(list)
        | st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3)).map(list)
        | st.tuples(st.sampled_from(["has_done", "has_not_done"]), inner).map(list)
    ),
    max_leaves=4,
)
# Queries made of real names: most reach the compiler and ClickHouse.
GRAMMAR = st.fixed_dictionaries(
    {
        "site_id": st.just(DOMAIN),
        "metrics": st.lists(st.sampled_from(METRICS), min_size=1, max_size=4, unique=True),
        "date_range": st.sampled_from(
            [
                *RANGES,
                ["2024-09-01", "2024-09-10"],
                ["2024-09-10T10:00:00+02:00", "2024-09-11T10:00:00+02:00"],
            ]
        ),
    },
    optional={
        "dimensions": st.lists(st.sampled_from(DIMENSIONS), max_size=2, unique=True),
        "filters": st.lists(FILTER, max_size=2),
        "pagination": st.fixed_dictionaries({"limit": st.integers(1, 50), "offset": st.integers(0, 20)}),
        "include": st.fixed_dictionaries({"total_rows": st.booleans(), "time_labels": st.booleans()}),
    },
)


@pytest.fixture
def query_api(aws: dict[str, str], loaded: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("TOUCHLINE_CLICKHOUSE_URL", loaded.url)
    load_service.reset()
    service.api.cache_clear()
    ddb = boto3.client("dynamodb")
    ddb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": f"DOMAIN#{DOMAIN}"}, "sk": {"S": "SITE"}, "site_id": {"S": loaded.site.site_id}},
    )
    ddb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"SITE#{loaded.site.site_id}"},
            "sk": {"S": "SITE"},
            "site_id": {"S": loaded.site.site_id},
            "domain": {"S": DOMAIN},
        },
    )
    key, _ = ApiKeyStore(ddb, TABLE).create([loaded.site.site_id], ["stats:read"], rate_limit=1_000_000)
    yield load_handler_module("query"), key
    service.api.cache_clear()
    load_service.reset()


def event(body: Any, headers: dict[str, str]) -> dict[str, Any]:
    return {
        "version": "2.0",
        "routeKey": "POST /api/v2/query",
        "rawPath": "/api/v2/query",
        "rawQueryString": "",
        "headers": {k.lower(): v for k, v in headers.items()},
        "requestContext": {
            "http": {"method": "POST", "path": "/api/v2/query", "sourceIp": "203.0.113.9"},
            "requestId": "fuzz",
            "routeKey": "POST /api/v2/query",
            "stage": "$default",
        },
        "body": body if isinstance(body, str) else json.dumps(body),
        "isBase64Encoded": False,
    }


def test_fuzz_query_api_from_its_openapi_document(query_api: Any) -> None:
    app, key = query_api
    response_schema = {"$ref": "#/components/schemas/QueryResponse", "components": document()["components"]}
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        # Examples are slow (each may run a query): report the first failure instead of
        # spending minutes shrinking it.
        phases=[Phase.explicit, Phase.generate],
        print_blob=True,
    )
    @given(case=QUERY.as_strategy(), grammar=GRAMMAR, pick=st.integers(0, 9))
    def check(case: Any, grammar: dict[str, Any], pick: int) -> None:
        # 0: schemathesis's case as generated (its own, invalid, Authorization); 1-4: its body for
        # the known site with a valid key; 5-9: a query made of real names with a valid key.
        body: Any = case.body
        headers = {"content-type": "application/json"}
        if pick == 0:
            if case.headers and "Authorization" in case.headers:
                headers["authorization"] = case.headers["Authorization"]
        else:
            headers["authorization"] = f"Bearer {key}"
            if pick >= 5:
                body = grammar
            elif isinstance(body, dict):
                body = {**body, "site_id": DOMAIN}
        response = app.handler(event(body, headers), LambdaContextStub())
        status = response["statusCode"]
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, (body, response["body"])
        if os.environ.get("FUZZ_DEBUG"):
            print(status, pick, json.dumps(body)[:200], response["body"][:200])
        payload = json.loads(response["body"])
        if status >= 400:
            assert isinstance(payload.get("error"), str) and payload["error"], payload
        else:
            jsonschema.validate(payload, response_schema)

    check()
    assert seen.get(200, 0) > 0 and seen.get(400, 0) > 0, seen


def test_every_http_route_of_the_template_is_in_the_served_document() -> None:
    """The document AccountsFunction serves (its own routes merged with touchline.openapi's)."""
    from helpers import ROOT
    from touchline_dev.devstack.template import load_template

    accounts = load_handler_module("accounts")
    served = {}
    for path in ("/api/docs/openapi.json", "/api/docs"):
        request = {
            "version": "2.0",
            "routeKey": f"GET {path}",
            "rawPath": path,
            "rawQueryString": "",
            "headers": {},
            "requestContext": {
                "http": {"method": "GET", "path": path, "sourceIp": "203.0.113.9"},
                "stage": "$default",
            },
            "isBase64Encoded": False,
        }
        served[path] = accounts.handler(request, LambdaContextStub())
        assert served[path]["statusCode"] == 200, served[path]
    spec = json.loads(served["/api/docs/openapi.json"]["body"])
    assert spec["openapi"].startswith("3.1") and "swagger-ui" in served["/api/docs"]["body"].lower()
    documented = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    routes = set()
    for resource in load_template(ROOT / "template.yaml").resources.values():
        for event_ in (resource.properties.get("Events") or {}).values():
            if event_.get("Type") == "HttpApi":
                routes.add((event_["Properties"]["Method"].upper(), event_["Properties"]["Path"]))
    assert routes and routes <= documented, routes - documented
    # The management API's own models came along (the accounts resolver documents them).
    assert "InviteMember" in spec["components"]["schemas"] and "QueryRequest" in spec["components"]["schemas"]
