"""Hits under visit filters: cutting both sides of the hit-to-session join to the visitors with a
matching session (`CompileContext.visit_restriction`) changes no answer, also for hits the last
aggregation has not sessionised (joined to a session of defaults, which `is_not` and
"(not set)"-style filters pass)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from query_world import DOCS_TODAY, DOMAIN, GOALS, World

from touchline.query.compile import CompileContext

NOW = datetime.combine(DOCS_TODAY, time(12), UTC)

FILTERS = [
    [["is", "visit:channel", ["Email"]]],
    [["is_not", "visit:channel", ["Email"]]],
    [["is", "visit:source", ["Direct / None"]]],
    [["is", "visit:device", ["(not set)"]]],
    [["not", ["is", "visit:country", ["DE"]]]],
    [["is", "visit:channel", ["Email", "Direct"]], ["is_not", "visit:os", ["Mac"]]],
]
BODIES = [
    {"metrics": ["visitors", "events"], "dimensions": ["event:page"]},
    {"metrics": ["visitors", "events", "conversion_rate"], "dimensions": ["event:goal"]},
    {"metrics": ["visitors", "events"], "dimensions": ["event:name"]},
]


@pytest.fixture(scope="module")
def late(chdb_path: Any) -> Any:
    """The query world aggregated, then hits of a new visitor and a returning one that no run
    has sessionised."""
    from query_world import load_world

    loaded = load_world(chdb_path, World.build(DOCS_TODAY, seed=11), NOW, site_id="cutsite000000001")
    returning = loaded.world.hits[0].hit.visitor_id
    at = NOW - timedelta(days=1)
    hits = [("brand-new-visitor", "/"), ("brand-new-visitor", "/pricing"), (returning, "/")]
    for i, (visitor, path) in enumerate(hits):
        loaded.client.command(
            "INSERT INTO events (event_id, site_id, timestamp, received_at, event_type, name, visitor_id, "
            "url, hostname, pathname) VALUES ({id:UUID}, {site:String}, {at:DateTime64(3, 'UTC')}, "
            "{at:DateTime64(3, 'UTC')}, 'pageview', 'pageview', {visitor:String}, {url:String}, "
            "{host:String}, {path:String})",
            parameters={
                "id": str(uuid.uuid4()),
                "site": loaded.site.site_id,
                "at": at + timedelta(minutes=i),
                "visitor": visitor,
                "url": f"https://{DOMAIN}{path}",
                "host": DOMAIN,
                "path": path,
            },
        )
    return loaded


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
def test_the_cut_changes_no_answer(late: Any, filters: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert GOALS
    answered = []
    for body in BODIES:
        query = {
            "site_id": DOMAIN,
            "date_range": "30d",
            **body,
            "filters": [*filters, *body.get("filters", [])],
        }
        sql = late.engine().compile(late.engine().parse(query, late.site)).sql
        if body["dimensions"] == ["event:goal"]:
            # Grouped by goal, the hits are cut to goal completions instead (fewer rows still).
            assert "LEFT JOIN (SELECT * FROM sessions WHERE 0)" not in sql
            assert "AND visitor_id IN (SELECT e.visitor_id FROM events AS e WHERE" in sql
        else:
            assert "LEFT JOIN (SELECT * FROM sessions WHERE 0)" in sql, "the cut is not in the statement"
        cut = late.run(query)
        with monkeypatch.context() as patch:
            patch.setattr(CompileContext, "visit_restriction", lambda self, window: None)
            whole = late.run(query)
        assert cut["results"] == whole["results"], (filters, body)
        answered.extend(whole["results"])
    assert answered, "filters that select nothing prove little"
