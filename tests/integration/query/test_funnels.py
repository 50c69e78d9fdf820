"""Funnels in ClickHouse equal the pure-Python oracle (tests/funnel_oracle.py) under hypothesis:
loose and strict, windows, ties, steps that are pages or goals, a breakdown by source.

The default run is a fixed derandomized sample; TOUCHLINE_FUNNEL_EXAMPLES=2000 explores more."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from funnel_oracle import Hit, funnel
from goals_world import hit_row, insert, new_site, session_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from query_world import Loaded

from touchline.funnels.model import make_funnel
from touchline.funnels.report import funnel_report
from touchline.goals.patterns import matches
from touchline.query.engine import QueryEngine
from touchline.query.model import Goal, SiteContext
from touchline.query.sql import ClientWarehouse

BASE = datetime(2025, 3, 1, tzinfo=UTC)
RANGE = ["2025-03-01", "2025-03-05"]
EXAMPLES = int(os.environ.get("TOUCHLINE_FUNNEL_EXAMPLES", "0"))
PAGES = ("/", "/pricing", "/blog/a", "/blog/b/c", "/signup", "/thanks", "/product/7/reviews")
PATTERNS = ("/", "/pricing", "/blog/*", "/blog/**", "/signup", "/thanks", "/product/*/reviews")
GOALS = (
    Goal("Signup", "Signup"),
    Goal("Signup pro", "Signup", props=(("plan", "pro"),)),
    Goal("Thanks", page_pattern="/thanks", value=Decimal("5"), currency="EUR"),
)
SOURCES = ("google", "", "newsletter")


def shown(source: str) -> str:
    return source or "Direct / None"


def completes(step: tuple[str, str], path: str, name: str, plan: str) -> bool:
    kind, value = step
    if kind == "page":
        return name == "pageview" and matches(value, path)
    goal = next(g for g in GOALS if g.name == value)
    if goal.page_pattern:
        return name == "pageview" and matches(goal.page_pattern, path)
    return name == goal.event_name and all(dict(plan=plan).get(k) == v for k, v in goal.props)


step = st.one_of(
    st.tuples(st.just("page"), st.sampled_from(PATTERNS)),
    st.tuples(st.just("goal"), st.sampled_from([g.name for g in GOALS])),
)
# (seconds after BASE, page or event, plan): close times so windows and ties matter.
hit = st.tuples(
    st.one_of(st.integers(0, 20), st.integers(0, 3 * 86400)),
    st.one_of(st.sampled_from(PAGES), st.just("Signup")),
    st.sampled_from(("", "pro", "free")),
)
visitor = st.tuples(
    st.lists(hit, max_size=9),
    st.lists(st.tuples(st.integers(0, 3 * 86400), st.sampled_from(SOURCES)), min_size=1, max_size=2),
)
case = st.fixed_dictionaries(
    {
        "steps": st.lists(step, min_size=2, max_size=4),
        "window_hours": st.sampled_from((0.002, 1.0, 24.0)),
        "visitors": st.lists(visitor, min_size=1, max_size=5),
    }
)


def engine(loaded: Loaded) -> QueryEngine:
    return QueryEngine(ClientWarehouse(loaded.client), clock=lambda: datetime(2025, 3, 10, tzinfo=UTC))


def load_case(loaded: Loaded, data: dict[str, Any]) -> tuple[SiteContext, list[tuple[Any, ...]]]:
    """Insert the case's hits and sessions on a new site; the hits as (visitor, at, path, name,
    plan, session source)."""
    site_id = new_site()
    hits, events, sessions = [], [], []
    for v, (visitor_hits, visitor_sessions) in enumerate(data["visitors"]):
        name = f"v{v}"
        starts = sorted((BASE + timedelta(seconds=s), src) for s, src in visitor_sessions)
        # The first session starts at the visitor's first hit at the latest.
        first = min([BASE + timedelta(seconds=h[0]) for h in visitor_hits] + [starts[0][0]])
        starts[0] = (first, starts[0][1])
        sessions += [session_row(site_id, name, at, src) for at, src in starts]
        for seconds, what, plan in visitor_hits:
            at = BASE + timedelta(seconds=seconds, milliseconds=0)
            path, event = (what, "pageview") if what.startswith("/") else ("/signup", what)
            source = [src for start, src in starts if start <= at][-1]
            props = {"plan": plan} if plan else {}
            event_id = uuid.uuid4()
            events.append(hit_row(site_id, name, at, path, event, props=props, event_id=event_id))
            hits.append((name, at, path, event, plan, source, str(event_id)))
    insert(loaded.client, "events", events)
    insert(loaded.client, "sessions", sessions)
    return SiteContext(site_id, f"{site_id}.example.com", goals=GOALS), hits


def check(loaded: Loaded, data: dict[str, Any], strict: bool) -> None:
    site, hits = load_case(loaded, data)
    steps = [{kind: value} for kind, value in data["steps"]]
    definition = make_funnel(site.site_id, "f", steps, data["window_hours"], strict)
    report = funnel_report(engine(loaded), site, definition, date_range=RANGE, breakdown="visit:source")
    oracle_hits = [
        Hit(
            v,
            int(at.timestamp() * 1000),
            eid,
            tuple(completes(s, path, name, plan) for s in data["steps"]),
            shown(src),
        )
        for v, at, path, name, plan, src, eid in hits
    ]
    totals, groups = funnel(oracle_hits, len(steps), definition.window_ms, strict)
    assert [s["visitors"] for s in report["steps"]] == totals.visitors
    assert [s["median_seconds_from_previous"] for s in report["steps"]] == [
        None if m is None else round(m / 1000, 3) for m in totals.median_ms
    ]
    got = {r["value"]: [s["visitors"] for s in r["steps"]] for r in report["breakdown_rows"]}
    assert got == {d: f.visitors for d, f in groups.items()}
    got_medians = {
        r["value"]: [s["median_seconds_from_previous"] for s in r["steps"]] for r in report["breakdown_rows"]
    }
    assert got_medians == {
        d: [None if m is None else round(m / 1000, 3) for m in f.median_ms] for d, f in groups.items()
    }


@pytest.mark.parametrize("strict", [False, True], ids=["loose", "strict"])
def test_funnels_equal_the_oracle(loaded: Loaded, strict: bool) -> None:
    @settings(
        max_examples=EXAMPLES or 100,
        derandomize=not EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(case)
    def run(data: dict[str, Any]) -> None:
        check(loaded, data, strict)

    run()
