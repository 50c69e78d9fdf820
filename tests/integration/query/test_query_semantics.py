"""The engine's metrics, dimensions, filters and options against answers counted in Python.

The known site of tests/query_world.py (UTC) and the same hits on a Europe/Berlin site: local
days must be Berlin days computed from the instants, not UTC days relabelled.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from query_world import DOCS_TODAY, DOMAIN, Expect, local_day

from touchline.query.errors import QueryError

TODAY = DOCS_TODAY
START = datetime.combine(TODAY - timedelta(days=30), time(), UTC)
END = datetime.combine(TODAY, time(), UTC)


def q(**body: Any) -> dict[str, Any]:
    return {"site_id": DOMAIN, "date_range": "30d", **body}


def rows(answer: dict[str, Any]) -> dict[tuple[str, ...], list[Any]]:
    return {tuple(r["dimensions"]): r["metrics"] for r in answer["results"]}


def test_session_metrics_by_visit_dimension(loaded: Any) -> None:
    e = Expect(loaded.world, START, END)
    for dimension in (
        "visit:channel",
        "visit:device",
        "visit:entry_page",
        "visit:country",
        "visit:utm_campaign",
    ):
        answer = loaded.run(
            q(metrics=["visits", "bounce_rate", "visit_duration", "pageviews"], dimensions=[dimension])
        )
        want = {
            (k[0],): [m["visits"], m["bounce_rate"], m["visit_duration"], m["pageviews"]]
            for k, v in e.group(e.sessions(), lambda v, d=dimension: (v.value(d),)).items()
            for m in [e.session_metrics(v)]
        }
        assert rows(answer) == want, dimension


def test_views_per_visit_and_totals(loaded: Any) -> None:
    e = Expect(loaded.world, START, END)
    m = e.session_metrics(e.sessions())
    [row] = loaded.run(q(metrics=["visits", "views_per_visit", "bounce_rate"]))["results"]
    assert row["metrics"] == [m["visits"], round(m["pageviews"] / m["visits"], 2), m["bounce_rate"]]
    hits = e.events()
    [row] = loaded.run(q(metrics=["visitors", "pageviews", "events"]))["results"]
    assert row["metrics"] == [e.visitors(hits), sum(h.hit.event_type == "pageview" for h in hits), len(hits)]


@pytest.mark.parametrize(
    ("filters", "test"),
    [
        (
            [["is", "event:page", ["/pricing", "/login"]]],
            lambda h, v: h.hit.pathname in ("/pricing", "/login"),
        ),
        ([["is_not", "event:page", ["/"]]], lambda h, v: h.hit.pathname != "/"),
        (
            [["contains_not", "event:page", ["blog", "BLOG"]]],
            lambda h, v: "blog" not in h.hit.pathname.lower(),
        ),
        (
            [["matches", "event:page", ["^/(docs|login)"]]],
            lambda h, v: h.hit.pathname.startswith(("/docs", "/login")),
        ),
        (
            [["matches_not", "event:page", ["^/b", "in$"]]],
            lambda h, v: not (h.hit.pathname.startswith("/b") or h.hit.pathname.endswith("in")),
        ),
        (
            [["is", "event:page", ["/blog/post"], {"case_sensitive": False}]],
            lambda h, v: h.hit.pathname.lower() == "/blog/post",
        ),
        ([["is", "event:props:is_customer", ["true"]]], lambda h, v: h.prop.get("is_customer") == "true"),
        ([["is", "visit:channel", ["Email"]]], lambda h, v: v is not None and v.session.channel == "Email"),
        (
            [["not", ["or", [["is", "visit:country", ["DE"]], ["contains", "event:page", ["doc"]]]]]],
            lambda h, v: not ((v is not None and v.first.country == "DE") or "doc" in h.hit.pathname),
        ),
        (
            [["is", "event:page", ["/"]], ["is", "visit:os", ["Mac"]]],
            lambda h, v: h.hit.pathname == "/" and v is not None and v.first.os == "Mac",
        ),
    ],
)
def test_filters(loaded: Any, filters: list[Any], test: Any) -> None:
    e = Expect(loaded.world, START, END)
    hits = e.events(test)
    assert hits, "a filter that selects nothing proves little"
    [row] = loaded.run(q(metrics=["visitors", "events"], filters=filters))["results"]
    assert row["metrics"] == [e.visitors(hits), len(hits)]


def test_percentage_and_conversion_rates(loaded: Any) -> None:
    e = Expect(loaded.world, START, END)
    answer = rows(loaded.run(q(metrics=["visitors", "percentage"], dimensions=["visit:device"])))
    total = e.session_metrics(e.sessions())["visitors"]
    for (device,), (visitors, percentage) in answer.items():
        assert percentage == round(visitors / total * 100, 1), device
    conversions = rows(
        loaded.run(
            q(
                metrics=["visitors", "conversion_rate", "group_conversion_rate"],
                dimensions=["visit:channel"],
                filters=[["is", "event:goal", ["Signup"]]],
            )
        )
    )
    # Divisors without the goal filter and only visit dimensions left: visitors of the sessions.
    all_visitors = e.session_metrics(e.sessions())["visitors"]
    assert conversions
    for (channel,), (visitors, rate, group_rate) in conversions.items():
        converted = e.visitors(
            e.events(
                lambda h, v, c=channel: h.hit.name == "Signup" and v is not None and v.session.channel == c
            )
        )
        channel_visitors = e.session_metrics(e.sessions(lambda v, c=channel: v.session.channel == c))[
            "visitors"
        ]
        assert visitors == converted
        assert rate == round(converted / all_visitors * 100, 2)
        assert group_rate == round(converted / channel_visitors * 100, 2), channel


def test_goal_dimension_and_properties(loaded: Any) -> None:
    e = Expect(loaded.world, START, END)
    answer = rows(
        loaded.run(q(metrics=["visitors", "events"], dimensions=["event:goal", "event:props:is_customer"]))
    )
    want = {
        k: [e.visitors(v), len(v)]
        for k, v in e.group(
            [h for h in e.events() if h.hit.event_type == "goal"],
            lambda h: (h.hit.name, h.prop["is_customer"]),
        ).items()
    }
    assert answer == want


@pytest.mark.parametrize("channel_test", ["is", "is_not"])
def test_goals_under_a_visit_filter(loaded: Any, channel_test: str) -> None:
    """Grouped by goal, the hits are cut to goal completions before they meet their sessions."""
    e = Expect(loaded.world, START, END)
    answer = rows(
        loaded.run(
            q(
                metrics=["visitors", "events"],
                dimensions=["event:goal"],
                filters=[[channel_test, "visit:channel", ["Email"]]],
            )
        )
    )

    def in_email(v: Any) -> bool:
        return v is not None and v.session.channel == "Email"

    goals = e.events(lambda h, v: h.hit.event_type == "goal" and in_email(v) == (channel_test == "is"))
    grouped = e.group(goals, lambda h: (h.hit.name,))
    want = {name: [e.visitors(v), len(v)] for name, v in grouped.items()}
    assert want, "a filter that selects no goal proves little"
    assert answer == want


def test_pagination_and_order(loaded: Any) -> None:
    full = loaded.run(q(metrics=["pageviews"], dimensions=["event:page"], order_by=[["event:page", "asc"]]))
    pages = [r["dimensions"][0] for r in full["results"]]
    assert pages == sorted(pages)
    page = loaded.run(
        q(
            metrics=["pageviews"],
            dimensions=["event:page"],
            order_by=[["event:page", "asc"]],
            pagination={"limit": 2, "offset": 3},
            include={"total_rows": True},
        )
    )
    assert page["results"] == full["results"][3:5] and page["meta"]["total_rows"] == len(pages)
    past = loaded.run(
        q(
            metrics=["pageviews"],
            dimensions=["event:page"],
            pagination={"offset": 1000},
            include={"total_rows": True},
        )
    )
    assert past["results"] == [] and past["meta"]["total_rows"] == len(pages)


def test_week_and_month_buckets_start_inside_the_range(loaded: Any) -> None:
    weeks = loaded.run(q(metrics=["visitors"], dimensions=["time:week"], include={"time_labels": True}))
    labels = weeks["meta"]["time_labels"]
    first = (TODAY - timedelta(days=30)).isoformat()
    assert labels[0] == first and [r["dimensions"][0] for r in weeks["results"]] == labels
    months = loaded.run(q(metrics=["visitors"], dimensions=["time:month"], include={"time_labels": True}))
    assert months["meta"]["time_labels"] == [first, "2024-09-01"]
    e = Expect(loaded.world, START, END)
    [september] = [r for r in months["results"] if r["dimensions"] == ["2024-09-01"]]
    assert september["metrics"] == [e.visitors(e.events(lambda h, v: h.hit.at.month == 9))]


def test_money_never_adds_currencies(loaded: Any) -> None:
    e = Expect(loaded.world, START, END)
    mixed = loaded.run(q(metrics=["total_revenue"]))
    assert mixed["results"][0]["metrics"] == [None]
    assert mixed["meta"]["metric_warnings"]["total_revenue"]["code"] == "no_single_revenue_currency"
    split = rows(
        loaded.run(
            q(
                metrics=["total_revenue", "average_revenue"],
                dimensions=["revenue:currency"],
                filters=[["is", "revenue:currency", ["USD", "EUR"]]],
            )
        )
    )
    for currency in ("USD", "EUR"):
        amounts = [
            h.hit.revenue for h in e.events() if h.hit.currency == currency and h.hit.revenue is not None
        ]
        total, average = split[(currency,)]
        assert Decimal(total["amount"]) == sum(amounts) and total["currency"] == currency
        assert Decimal(average["amount"]) == (sum(amounts) / len(amounts)).quantize(Decimal("0.01"))


def test_orders_and_net_revenue_per_currency(loaded: Any) -> None:
    answer = rows(
        loaded.run(
            {
                "site_id": DOMAIN,
                "date_range": "all",
                "dimensions": ["revenue:currency"],
                "metrics": ["orders", "gross_revenue", "net_revenue", "linked_order_share"],
            }
        )
    )
    for currency in ("USD", "EUR"):
        orders = [o for o in loaded.world.orders if o.currency == currency and o.ordered_at.date() <= TODAY]
        count, gross, net, linked = answer[(currency,)]
        assert count == len(orders) and Decimal(gross["amount"]) == sum(o.amount for o in orders)
        assert net == gross and linked == 1.0


def test_attribution_adds_up_to_net_revenue_under_every_model(loaded: Any) -> None:
    models = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
    answer = loaded.run(
        {
            "site_id": DOMAIN,
            "date_range": "all",
            "dimensions": ["revenue:currency"],
            "metrics": [f"attributed_revenue:{m}" for m in models] + ["net_revenue"],
        }
    )
    priced = [r for r in answer["results"] if r["dimensions"] != [""]]  # goals carry no currency
    assert {r["dimensions"][0] for r in priced} == {"USD", "EUR"}
    for row in priced:
        *credited, net = row["metrics"]
        assert {c["amount"] for c in credited} == {net["amount"]}, row


def test_local_days_in_the_site_time_zone(berlin: Any) -> None:
    """Berlin days from the instants: a hit at 22:30 UTC on the 1st is on the 2nd in Berlin."""
    tz = ZoneInfo("Europe/Berlin")
    answer = berlin.run(
        {"site_id": DOMAIN, "metrics": ["visitors", "events"], "date_range": "7d", "dimensions": ["time:day"]}
    )
    start = datetime.combine(TODAY - timedelta(days=7), time(), tz).astimezone(UTC)
    end = datetime.combine(TODAY, time(), tz).astimezone(UTC)
    assert (
        answer["query"]["date_range"][0]
        == datetime.combine(TODAY - timedelta(days=7), time(), tz).isoformat()
    )
    e = Expect(berlin.world, start, end)
    want = {
        (k[0],): [e.visitors(v), len(v)]
        for k, v in e.group(e.events(), lambda h: (local_day(h.hit.at, "Europe/Berlin"),)).items()
    }
    assert rows(answer) == want and len(want) == 7
    utc = Expect(berlin.world, datetime.combine(TODAY - timedelta(days=7), time(), UTC), END)
    utc_days = {
        (k[0],): [utc.visitors(v), len(v)]
        for k, v in utc.group(utc.events(), lambda h: (local_day(h.hit.at, "UTC"),)).items()
    }
    assert utc_days != want, "UTC days relabelled would give other numbers"
    hours = berlin.run(
        {
            "site_id": DOMAIN,
            "metrics": ["visitors"],
            "date_range": "day",
            "dimensions": ["time:hour"],
            "include": {"time_labels": True},
        }
    )
    assert hours["meta"]["time_labels"][0] == f"{TODAY.isoformat()} 00:00:00"
    sessions = berlin.run(
        {"site_id": DOMAIN, "metrics": ["visits"], "date_range": "7d", "dimensions": ["time:day"]}
    )
    want_visits = {
        (k[0],): [len(v)]
        for k, v in e.group(e.sessions(), lambda v: (local_day(v.session.start, "Europe/Berlin"),)).items()
    }
    assert rows(sessions) == want_visits


def test_bad_combinations_are_refused(loaded: Any) -> None:
    for body, message in [
        (
            q(metrics=["bounce_rate"], dimensions=["event:page"]),
            "cannot be queried along with event dimensions",
        ),
        (
            q(metrics=["views_per_visit"], filters=[["is", "event:page", ["/"]]]),
            "cannot be queried with a filter",
        ),
        (q(metrics=["percentage"]), "can only be queried with dimensions"),
        (q(metrics=["scroll_depth"]), "can only be queried with event:page"),
        (
            q(metrics=["attributed_revenue:linear"], dimensions=["visit:browser"]),
            "cannot be grouped by `visit:browser`",
        ),
        (q(metrics=["orders"], dimensions=["visit:channel"]), "cannot be grouped by `visit:channel`"),
        (q(metrics=["attributed_revenue:nope"]), "Unknown metric"),
        (
            q(metrics=["visitors"], filters=[["or", [["is", "event:goal", ["Signup"]]]]]),
            "only be filtered at the top level",
        ),
        (
            q(metrics=["visitors"], filters=[["is_not", "event:goal", ["Signup"]]]),
            "can be used with `event:goal`",
        ),
        (q(metrics=["visitors"], filters=[["is", "visit:country", ["Germany"]]]), "2-letter country code"),
        (q(metrics=["visitors"], date_range=["2024-09-10", "2024-09-01"]), "the end is before the start"),
        (q(metrics=["visitors"], pagination={"limit": 0}), "pagination/limit"),
        (q(metrics=["visitors", "visitors"]), "unique"),
    ]:
        with pytest.raises(QueryError) as raised:
            loaded.run(body)
        assert message in raised.value.message, (body, raised.value.message)
