"""Hits under visit filters, both ways the engine reads them.

- From the sessions' hit lists (`EventsTable._session_hits`) when a statement reads only the hit
  columns those hold: the same answers as joining every hit to its session, for the hits the
  aggregation has sessionised; hits it has not yet are not counted under a visit filter.
- Joined to their sessions otherwise: cutting both sides of the join to the visitors with a
  matching session (`CompileContext.visit_restriction`) changes no answer, also for hits the last
  aggregation has not sessionised (joined to a session of defaults, which `is_not` and
  "(not set)"-style filters pass)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from query_world import DOCS_TODAY, DOMAIN, GOALS, World

from touchline.aggregate import sessions
from touchline.query.builtin import tables
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
    loaded.before = {repr(q): loaded.run(q)["results"] for q in (*_queries(), *_queries([]))}
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


def _queries(filters: list[list[Any]] | None = None, date_range: Any = "30d") -> list[dict[str, Any]]:
    """Each body under each filter set (or under `filters`)."""
    sets = FILTERS if filters is None else [filters]
    return [
        {"site_id": DOMAIN, "date_range": date_range, **body, "filters": [*f, *body.get("filters", [])]}
        for f in sets
        for body in BODIES
    ]


def _joined(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every statement join hits to their sessions (no hit column is in a hit list)."""
    monkeypatch.setattr(tables, "SESSION_HIT_COLUMNS", frozenset())


def test_hit_lists_answer_as_the_join_does(late: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Up to the day before the late hits: every hit of the range is sessionised.
    until = (NOW - timedelta(days=2)).date()
    queries = _queries(date_range=[str(until - timedelta(days=29)), str(until)])
    for query in queries:
        sql = late.engine().compile(late.engine().parse(query, late.site)).sql
        assert "ARRAY JOIN s.hit_" in sql and "ASOF" not in sql, query
    listed = [late.run(q)["results"] for q in queries]
    with monkeypatch.context() as patch:
        _joined(patch)
        joined = [late.run(q)["results"] for q in queries]
    assert listed == joined
    assert sum(map(len, listed)) > len(queries), "filters that select nothing prove little"


def test_unsessionised_hits_wait_for_the_aggregation_under_visit_filters(late: Any) -> None:
    for query in _queries():
        assert late.run(query)["results"] == late.before[repr(query)], query
    # Without a visit filter the late hits count at once (they are in the range).
    unfiltered = _queries([])
    assert [late.run(q)["results"] for q in unfiltered] != [late.before[repr(q)] for q in unfiltered]


def test_hit_lists_hold_the_hits_the_events_relation_counts() -> None:
    assert set(tables.NON_EVENTS) == set(sessions.NON_HIT_EVENT_TYPES)
    listed = ["timestamp" if f == "ts" else f for f in sessions.HIT_LIST_FIELDS]
    assert listed == ["timestamp", "event_type", "name", "pathname", "revenue", "currency"]
    assert {*listed, "visitor_id", "visitor_hash"} == tables.SESSION_HIT_COLUMNS


def test_statements_reading_other_hit_columns_still_join(late: Any) -> None:
    query = {**_queries()[0], "metrics": ["visitors"], "dimensions": ["event:hostname"]}
    sql = late.engine().compile(late.engine().parse(query, late.site)).sql
    assert "ASOF LEFT JOIN" in sql and "hit_list" not in sql


@pytest.mark.parametrize("filters", FILTERS, ids=[str(f) for f in FILTERS])
def test_the_cut_changes_no_answer(late: Any, filters: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    assert GOALS
    _joined(monkeypatch)
    answered = []
    for query in _queries(filters):
        sql = late.engine().compile(late.engine().parse(query, late.site)).sql
        if query["dimensions"] == ["event:goal"]:
            # Grouped by goal, the hits are cut to goal completions instead (fewer rows still).
            assert "LEFT JOIN (SELECT * FROM sessions WHERE 0)" not in sql
            assert "AND visitor_id IN (SELECT e.visitor_id FROM events AS e WHERE" in sql
        else:
            assert "LEFT JOIN (SELECT * FROM sessions WHERE 0)" in sql, "the cut is not in the statement"
        cut = late.run(query)
        with monkeypatch.context() as patch:
            patch.setattr(CompileContext, "visit_restriction", lambda self, window: None)
            whole = late.run(query)
        assert cut["results"] == whole["results"], (filters, query)
        answered.extend(whole["results"])
    assert answered, "filters that select nothing prove little"
