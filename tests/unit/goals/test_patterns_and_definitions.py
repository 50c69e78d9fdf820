"""Page patterns as Plausible documents them, and goal and funnel definitions as the API and the
CLI check them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from touchline.funnels.model import make_funnel, parse_step
from touchline.goals.definition import edited, make_goal
from touchline.goals.patterns import check_pattern, matches


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/blog/*", "/blog/post-1", True),
        ("/blog/*", "/blog/", True),
        ("/blog/*", "/blog/a/b", False),  # * stays within one segment
        ("/blog/*", "/blog", False),
        ("/docs/**", "/docs/a", True),
        ("/docs/**", "/docs/a/b/c", True),  # ** crosses segments
        ("/docs/**", "/doc", False),
        ("/product/*/reviews", "/product/42/reviews", True),
        ("/product/*/reviews", "/product/42/x/reviews", False),
        ("/product/**/reviews", "/product/42/x/reviews", True),
        ("/blog*", "/blog-post", True),
        ("/blog*", "/blog", True),
        ("/pricing", "/pricing", True),
        ("/pricing", "/pricing/", False),  # the whole path must match
        ("/a.b", "/aXb", False),  # everything but * is literal
        ("/(x)+", "/(x)+", True),
    ],
)
def test_page_patterns_follow_plausible(pattern: str, path: str, expected: bool) -> None:
    assert matches(pattern, path) is expected


@pytest.mark.parametrize("bad", ["blog/*", "", "/a/***", "/" + "x" * 600])
def test_bad_patterns_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        check_pattern(bad)


def test_goal_definitions() -> None:
    page = make_goal("Blog", track_method="page_url", page_pattern="/blog/*")
    assert (page.custom_event, page.page_pattern, page.active) == ("", "/blog/*", True)
    pro = make_goal(
        "Pro", event_name="Signup", properties={"plan": "pro"}, value=Decimal("9.5"), currency="eur"
    )
    assert (pro.custom_event, pro.properties, pro.currency) == ("Signup", (("plan", "pro"),), "EUR")
    assert make_goal("Signup").custom_event == "Signup"
    for bad in (
        {"track_method": "page_url"},  # no pattern
        {"track_method": "javascript", "page_pattern": "/x"},
        {"track_method": "page_url", "page_pattern": "/x", "event_name": "E"},
        {"track_method": "css"},
        {"value": Decimal("5")},  # no currency
        {"value": Decimal("-1"), "currency": "USD"},
        {"properties": {str(i): "v" for i in range(11)}},
    ):
        with pytest.raises(ValueError):
            make_goal("G", **bad)


def test_editing_keeps_the_id_and_switches_kinds_cleanly() -> None:
    goal = make_goal("Signup", event_name="signup", value=Decimal("5"), currency="USD")
    renamed = edited(goal, {"name": "Sign-up", "track_method": "page_url", "page_pattern": "/welcome"})
    assert (renamed.id, renamed.name, renamed.event_name, renamed.page_pattern) == (
        goal.id,
        "Sign-up",
        "",
        "/welcome",
    )
    assert edited(renamed, {"value": None}).value is None
    assert edited(renamed, {"active": False}).active is False
    with pytest.raises(ValueError):
        edited(goal, {"colour": "red"})


def test_funnel_definitions() -> None:
    funnel = make_funnel("s", "Checkout", ["/pricing", "Signup", "goal:/odd name", {"page": "/thanks"}])
    assert [(s.kind, s.value) for s in funnel.steps] == [
        ("page", "/pricing"),
        ("goal", "Signup"),
        ("goal", "/odd name"),
        ("page", "/thanks"),
    ]
    assert (funnel.window_hours, funnel.strict, funnel.window_ms) == (24.0, False, 86_400_000)
    for steps in (["/a"], ["/a"] * 9):
        with pytest.raises(ValueError, match="2 to 8 steps"):
            make_funnel("s", "F", steps)
    with pytest.raises(ValueError):
        make_funnel("s", "F", ["/a", "/b"], window_hours=0)
    with pytest.raises(ValueError):
        parse_step({"page": "no-slash"})
    with pytest.raises(ValueError):
        parse_step({"css": "#x"})
