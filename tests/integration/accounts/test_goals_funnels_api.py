"""Goals and funnels through the real AccountsFunction (definitions) and QueryFunction (figures),
as people by role and as an API key: page goals, edits, funnels defined, listed, computed, deleted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from types import ModuleType
from typing import Any

import pytest
from goals_world import hit_row, insert, session_row

from accounts_world import World, api_event
from helpers import LambdaContextStub, load_handler_module
from touchline.accounts.permissions import Role
from touchline.query import service as query_service
from touchline.revenue.rows import OrderRow
from touchline.warehouse.client import connect

AT = datetime(2025, 5, 6, 9, tzinfo=UTC)


@pytest.fixture(scope="module")
def query_app(world: World) -> Iterator[ModuleType]:
    for cached in (query_service.api, query_service.people, query_service.audit_sink):
        cached.cache_clear()
    yield load_handler_module("query")
    for cached in (query_service.api, query_service.people, query_service.audit_sink):
        cached.cache_clear()


def figures(
    app: ModuleType, funnel_id: str, query: dict[str, str], *, claims: Any = None, bearer: str = ""
) -> tuple[int, Any]:
    path = f"/api/v1/funnels/{funnel_id}" if claims is not None else f"/api/v2/funnels/{funnel_id}"
    event = api_event("GET", path, claims=claims, query=query)
    event["pathParameters"] = {"funnel_id": funnel_id}
    event["queryStringParameters"] = query
    if bearer:
        event["headers"]["authorization"] = f"Bearer {bearer}"
    answer = app.handler(event, LambdaContextStub())
    return answer["statusCode"], json.loads(answer["body"])


def test_goals_and_funnels_through_the_apis(world: World, query_app: ModuleType) -> None:
    owner, viewer = world.a.members[Role.OWNER], world.a.members[Role.VIEWER]
    site_id = world.fresh_site(world.a)
    goals = f"/api/v1/sites/{site_id}/goals"
    page_goal = {"name": "Read docs", "track_method": "page_url", "page_pattern": "/docs/**"}
    status, made, _ = world.request("POST", goals, user=owner, body=page_goal)
    assert status == 201, made
    assert (made["track_method"], made["page_pattern"], made["event_name"], made["active"]) == (
        "page_url",
        "/docs/**",
        None,
        True,
    )
    pro = {
        "name": "Pro signup",
        "event_name": "Signup",
        "properties": {"plan": "pro"},
        "value": "49",
        "currency": "usd",
    }
    assert world.request("POST", goals, user=owner, body=pro)[0] == 201
    bad = {"name": "Bad", "track_method": "page_url", "page_pattern": "docs"}
    status, answer, _ = world.request("POST", goals, user=owner, body=bad)
    assert status == 400 and "starting with /" in json.dumps(answer), answer
    assert world.request("POST", goals, user=viewer, body=page_goal)[0] == 403
    status, changed, _ = world.request(
        "PATCH", f"{goals}/Pro signup", user=owner, body={"name": "Pro", "value": None}
    )
    assert status == 200 and (changed["name"], changed["value"], changed["properties"]) == (
        "Pro",
        None,
        {"plan": "pro"},
    ), changed
    _, listed, _ = world.request("GET", goals, user=viewer)
    assert {g["name"]: g["id"] for g in listed}["Pro"] == changed["id"]

    # Traffic: two visitors read the docs, one signs up on the pro plan.
    client = connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
    hits = [
        hit_row(site_id, "v1", AT, "/pricing"),
        hit_row(site_id, "v1", AT + timedelta(minutes=1), "/docs/start"),
        hit_row(site_id, "v1", AT + timedelta(minutes=2), "/signup", "Signup", props={"plan": "pro"}),
        hit_row(site_id, "v2", AT, "/pricing"),
        hit_row(site_id, "v2", AT + timedelta(minutes=3), "/docs/a/b"),
        hit_row(site_id, "v3", AT, "/pricing"),
    ]
    insert(client, "events", hits)
    insert(client, "sessions", [session_row(site_id, v, AT, "google") for v in ("v1", "v2", "v3")])

    steps = [{"page": "/pricing"}, {"goal": "Read docs"}, {"goal": "Pro"}]
    body = {"site_id": site_id, "name": "Docs to pro", "steps": steps, "window_hours": 2}
    status, funnel, _ = world.request("POST", "/api/v1/funnels", user=owner, body=body)
    assert status == 201, funnel
    assert world.request("POST", "/api/v1/funnels", user=owner, body=body)[0] == 409
    unknown = {**body, "name": "x", "steps": [{"page": "/"}, {"goal": "Nope"}]}
    assert world.request("POST", "/api/v1/funnels", user=owner, body=unknown)[0] == 400
    assert world.request("POST", "/api/v1/funnels", user=viewer, body={**body, "name": "v"})[0] == 403
    _, listed, _ = world.request("GET", "/api/v1/funnels", user=viewer, query={"site_id": site_id})
    assert [f["id"] for f in listed] == [funnel["id"]]

    query = {"site_id": site_id, "date_range": "2025-05-01,2025-05-31", "breakdown": "visit:source"}
    status, report = figures(query_app, funnel["id"], query, claims=world.caller(viewer))
    assert status == 200, report
    assert [s["visitors"] for s in report["steps"]] == [3, 2, 1]
    assert [s["dropoff"] for s in report["steps"]] == [0, 1, 1]
    assert [s["median_seconds_from_previous"] for s in report["steps"]] == [None, 120.0, 60.0]
    assert report["conversion_rate"] == 33.33
    assert [(r["value"], r["steps"][0]["visitors"]) for r in report["breakdown_rows"]] == [("google", 3)]
    _, plain = figures(query_app, funnel["id"], {**query, "breakdown": ""}, claims=world.caller(viewer))
    assert plain["steps"] == report["steps"] and plain["breakdown_rows"] == []
    # Another organisation's people, and keys, see nothing of it.
    assert figures(query_app, funnel["id"], query, claims=world.caller(world.b.members[Role.OWNER]))[0] == 401
    _, key, _ = world.request(
        "POST", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner, body={"name": "f"}
    )
    status, by_key = figures(query_app, funnel["id"], query, bearer=key["key"])
    assert status == 200 and by_key["steps"] == report["steps"]
    status, answer = figures(query_app, funnel["id"], {**query, "breakdown": "event:page"}, bearer=key["key"])
    assert status == 400 and "visit dimension" in answer["error"]
    assert figures(query_app, "fnope", query, bearer=key["key"])[0] == 404

    # Renaming a goal keeps the funnels that use it.
    status, _, _ = world.request("PATCH", f"{goals}/Pro", user=owner, body={"name": "Pro plan"})
    assert status == 200
    _, listed, _ = world.request("GET", "/api/v1/funnels", user=viewer, query={"site_id": site_id})
    assert listed[0]["steps"][2] == {"goal": "Pro plan"}
    query_service.api.cache_clear()  # the query function's site cache (60 s) would see the old name
    renamed = figures(query_app, funnel["id"], query, bearer=key["key"])[1]
    assert [s["visitors"] for s in renamed["steps"]] == [3, 2, 1] and renamed["steps"][2][
        "label"
    ] == "goal:Pro plan"

    path = f"/api/v1/funnels/{funnel['id']}"
    assert world.request("DELETE", path, user=viewer, query={"site_id": site_id})[0] == 403
    assert world.request("DELETE", path, user=owner, query={"site_id": site_id})[0] == 204
    assert world.request("GET", "/api/v1/funnels", user=owner, query={"site_id": site_id})[1] == []


def conversions(
    app: ModuleType, query: dict[str, str], *, claims: Any = None, bearer: str = ""
) -> tuple[int, Any]:
    path = "/api/v1/goal-conversions" if claims is not None else "/api/v2/goal-conversions"
    event = api_event("GET", path, claims=claims, query=query)
    event["queryStringParameters"] = query
    if bearer:
        event["headers"]["authorization"] = f"Bearer {bearer}"
    answer = app.handler(event, LambdaContextStub())
    return answer["statusCode"], json.loads(answer["body"])


def test_goal_conversions_through_the_query_api(world: World, query_app: ModuleType) -> None:
    owner, viewer = world.a.members[Role.OWNER], world.a.members[Role.VIEWER]
    site_id = world.fresh_site(world.a)
    goals = f"/api/v1/sites/{site_id}/goals"
    pricing = {"name": "Pricing", "track_method": "page_url", "page_pattern": "/pricing"}
    pro = {
        "name": "Pro",
        "event_name": "Signup",
        "properties": {"plan": "pro"},
        "value": "49",
        "currency": "USD",
    }
    assert world.request("POST", goals, user=owner, body=pricing)[0] == 201
    assert world.request("POST", goals, user=owner, body=pro)[0] == 201
    client = connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
    insert(
        client,
        "events",
        [
            hit_row(site_id, "v1", AT, "/pricing"),
            hit_row(site_id, "v1", AT + timedelta(minutes=2), "/signup", "Signup", props={"plan": "pro"}),
            hit_row(site_id, "v2", AT + timedelta(hours=1), "/pricing"),
            hit_row(site_id, "v2", AT + timedelta(hours=1), "/signup", "Signup", props={"plan": "free"}),
        ],
    )
    insert(client, "sessions", [session_row(site_id, "v1", AT, "google"), session_row(site_id, "v2", AT)])
    paid = OrderRow(
        site_id=site_id,
        source="stripe",
        order_id="o1",
        status="paid",
        ordered_at=AT + timedelta(days=2),
        currency="USD",
        amount=Decimal("120.00"),
        visitor_id="v1",
        version=1,
    )
    insert(client, "orders", [paid.to_json()])
    may = {"site_id": site_id, "date_range": "2025-05-01,2025-05-31"}
    # The query function caches a person's readable sites (people_cache_seconds): this site is new.
    query_service.people.cache_clear()
    status, report = conversions(query_app, may, claims=world.caller(viewer))
    assert status == 200, report
    rows = report["results"]
    assert [(r["goal_name"], r["visitor_id"], r["source"]) for r in rows] == [
        ("Pricing", "v1", "google"),
        ("Pro", "v1", "google"),
        ("Pricing", "v2", "Direct / None"),
    ]
    assert rows[1]["goal_value"] == "49.0000" and rows[1]["currency"] == "USD"
    assert rows[0]["revenue_after"] == {"USD": "120.0000"} and rows[2]["revenue_after"] == {}
    assert report["lookback_days"] == 30 and report["truncated"] is False
    assert {g["name"] for g in report["goals"]} == {"Pricing", "Pro"}
    # One goal, by name or id; a page of one; what is wrong is a 400 naming it.
    status, only = conversions(query_app, {**may, "goal": "Pro"}, claims=world.caller(viewer))
    assert status == 200 and [r["goal_name"] for r in only["results"]] == ["Pro"]
    by_id = conversions(query_app, {**may, "goal": rows[1]["goal_id"]}, claims=world.caller(viewer))[1]
    assert by_id["results"] == only["results"]
    status, page = conversions(query_app, {**may, "limit": "1"}, claims=world.caller(viewer))
    assert status == 200 and len(page["results"]) == 1 and page["truncated"] is True
    for bad, says in (
        ({**may, "goal": "Nope"}, "No goal 'Nope'"),
        ({**may, "limit": "0"}, "limit is 1 to"),
        ({**may, "limit": "ten"}, "whole number"),
        ({**may, "date_range": "yesterdayish"}, "date_range"),
        ({"date_range": "7d"}, "site_id"),
    ):
        status, answer = conversions(query_app, bad, claims=world.caller(viewer))
        assert status == 400 and says in answer["error"], (bad, answer)
    # Another organisation's people see nothing; an API key of the organisation reads the same.
    assert conversions(query_app, may, claims=world.caller(world.b.members[Role.OWNER]))[0] == 401
    _, key, _ = world.request(
        "POST", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner, body={"name": "c"}
    )
    status, keyed = conversions(query_app, may, bearer=key["key"])
    assert status == 200 and keyed["results"] == rows
    assert conversions(query_app, may, bearer="tl_nope")[0] == 401
    # A shared link's session reads the site's figures, not its visitors' conversions.
    status, link, _ = world.request(
        "POST", f"/api/v1/sites/{site_id}/shared-links", user=owner, body={"name": "board"}
    )
    assert status == 201, link
    status, session, _ = world.request("POST", "/api/v1/shared-links/session", body={"link": link["link"]})
    assert status == 201, session
    status, refused = conversions(query_app, may, bearer=session["token"])
    assert status == 403 and "aggregate" in refused["error"]
