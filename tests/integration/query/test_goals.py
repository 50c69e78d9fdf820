"""Goals are queries over events: page patterns, property matches and edits as `event:goal` sees
them, from the definitions in the config table (what the query API loads per site)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from goals_world import hit_list, hit_row, insert, session_row
from query_world import Loaded

from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore
from touchline.config.watermarks import DynamoWatermarks
from touchline.goals.definition import edited, make_goal
from touchline.query.engine import QueryEngine
from touchline.query.sites import SiteContexts
from touchline.query.sql import ClientWarehouse

AT = datetime(2025, 4, 2, 10, tzinfo=UTC)
RANGE = ["2025-04-01", "2025-04-03"]
# visitor → their hits (path, event name, props)
HITS: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "a": [
        ("/blog/a", "pageview", {}),
        ("/blog/b/c", "pageview", {}),
        ("/docs/x/y", "pageview", {}),
        ("/product/7/reviews", "pageview", {}),
        ("/signup", "Signup", {"plan": "pro"}),
    ],
    "b": [("/blog/a", "pageview", {}), ("/blog/a", "pageview", {}), ("/signup", "Signup", {"plan": "free"})],
    "c": [("/pricing", "pageview", {}), ("/docs", "pageview", {})],
}


def load(loaded: Loaded, aws: dict[str, str]) -> tuple[Any, Any, str]:
    ddb = boto3.client("dynamodb")
    table = aws["TOUCHLINE_CONFIG_TABLE"]
    site = SiteStore(ddb, table).add("goals.example.com")
    events, sessions = [], []
    for visitor, hits in HITS.items():
        rows = [
            hit_row(site.site_id, visitor, AT + timedelta(minutes=i), path, name, props=props)
            for i, (path, name, props) in enumerate(hits)
        ]
        sessions.append(session_row(site.site_id, visitor, AT, "google", hit_list=hit_list(rows)))
        events.extend(rows)
    insert(loaded.client, "events", events)
    insert(loaded.client, "sessions", sessions)
    settings = AttributionSettingsStore(ddb, table)
    for goal in (
        make_goal("Blog", track_method="page_url", page_pattern="/blog/*"),
        make_goal("Docs", track_method="page_url", page_pattern="/docs/**"),
        make_goal("Reviews", track_method="page_url", page_pattern="/product/*/reviews"),
        make_goal("Signup"),
        make_goal(
            "Signup pro", track_method="data_attribute", event_name="Signup", properties={"plan": "pro"}
        ),
        make_goal("Gone", track_method="page_url", page_pattern="/pricing", active=False),
    ):
        settings.add_goal(site.site_id, goal)
    engine = QueryEngine(ClientWarehouse(loaded.client), clock=lambda: AT + timedelta(days=5))
    return engine, settings, site.site_id


def contexts(aws: dict[str, str]) -> SiteContexts:
    ddb = boto3.client("dynamodb")
    table = aws["TOUCHLINE_CONFIG_TABLE"]
    return SiteContexts(
        SiteStore(ddb, table),
        AttributionSettingsStore(ddb, table),
        DynamoWatermarks(ddb, table),
        ttl_seconds=0,
    )


def by_goal(engine: QueryEngine, site: Any, metrics: list[str], **extra: Any) -> dict[str, list[Any]]:
    body = {
        "site_id": site.domain,
        "metrics": metrics,
        "date_range": RANGE,
        "dimensions": ["event:goal"],
        **extra,
    }
    return {r["dimensions"][0]: r["metrics"] for r in engine.run(body, site)["results"]}


def test_page_property_and_event_goals_in_the_query_api(loaded: Loaded, aws: dict[str, str]) -> None:
    engine, _, site_id = load(loaded, aws)
    found = contexts(aws).load(site_id)
    assert found is not None
    site = found[0]
    assert by_goal(engine, site, ["visitors", "events", "conversion_rate"]) == {
        "Blog": [2, 3, 66.67],  # /blog/b/c is not /blog/* (one segment)
        "Docs": [1, 1, 33.33],  # /docs/x/y is /docs/**; /docs alone is not
        "Reviews": [1, 1, 33.33],
        "Signup": [2, 2, 66.67],
        "Signup pro": [1, 1, 33.33],  # the property match; "Gone" is inactive
    }
    # A goal as a filter, with the dashboard's group conversion rate by source.
    body = {
        "site_id": site.domain,
        "metrics": ["visitors", "group_conversion_rate"],
        "date_range": RANGE,
        "filters": [["is", "event:goal", ["Docs", "Reviews"]]],
        "dimensions": ["visit:source"],
    }
    assert [(r["dimensions"], r["metrics"]) for r in engine.run(body, site)["results"]] == [
        (["google"], [1, 33.33])
    ]


def test_editing_a_goal_re_evaluates_history(loaded: Loaded, aws: dict[str, str]) -> None:
    engine, settings, site_id = load(loaded, aws)
    blog = next(g for g in settings.get(site_id).goals if g.name == "Blog")
    settings.replace_goal(site_id, "Blog", edited(blog, {"page_pattern": "/blog/**", "name": "All blog"}))
    gone = next(g for g in settings.get(site_id).goals if g.name == "Gone")
    settings.replace_goal(
        site_id, "Gone", edited(gone, {"active": True, "value": Decimal("3"), "currency": "USD"})
    )
    found = contexts(aws).load(site_id)
    assert found is not None
    goals = by_goal(engine, found[0], ["visitors", "events"])
    assert (goals["All blog"], goals["Gone"]) == ([2, 4], [1, 1])
    assert "Blog" not in goals
    stored = {g.name: g for g in settings.get(site_id).goals}
    assert stored["All blog"].id == blog.id and settings.get(site_id).goals_changed_ms > 0
