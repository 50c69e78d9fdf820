"""goal_conversions: one row per completion, with the session's source, the goal's value and the
person's net order revenue within the attribution window after it; re-evaluated when a goal is
edited (a query, not a table)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from goals_world import hit_row, insert, new_site, session_row
from query_world import Loaded

from touchline.config.attribution_settings import AttributionSettings
from touchline.goals.conversions import goal_conversions
from touchline.goals.definition import edited, make_goal
from touchline.revenue.rows import OrderRow
from touchline.warehouse.sql import ClientSql

T = datetime(2025, 6, 3, 12, tzinfo=UTC)


def order(site_id: str, order_id: str, at: datetime, amount: str, visitor: str, currency: str = "USD") -> str:
    return OrderRow(
        site_id=site_id,
        source="stripe",
        order_id=order_id,
        status="paid",
        ordered_at=at,
        currency=currency,
        amount=Decimal(amount),
        visitor_id=visitor,
        version=1,
    ).to_json()


def test_one_row_per_completion_with_source_value_and_revenue_after(loaded: Loaded) -> None:
    site_id = new_site()
    insert(
        loaded.client,
        "events",
        [
            hit_row(site_id, "v1", T, "/pricing"),
            hit_row(site_id, "v1", T + timedelta(minutes=1), "/signup", "Signup", props={"plan": "pro"}),
            hit_row(site_id, "v2", T + timedelta(hours=1), "/pricing"),
            hit_row(
                site_id, "v2", T + timedelta(hours=1, minutes=5), "/signup", "Signup", props={"plan": "free"}
            ),
        ],
    )
    insert(
        loaded.client,
        "sessions",
        [session_row(site_id, "v1", T, "google"), session_row(site_id, "v2", T + timedelta(hours=1))],
    )
    insert(
        loaded.client,
        "orders",
        [
            order(site_id, "o1", T + timedelta(days=2), "100.00", "v1"),
            order(site_id, "o2", T + timedelta(days=3), "7.50", "v1", "EUR"),
            order(site_id, "o3", T + timedelta(days=31), "50.00", "v1"),  # after the 30-day window
            order(site_id, "o4", T - timedelta(days=1), "9.00", "v2"),  # before the completion
        ],
    )
    pricing = make_goal(
        "Pricing", track_method="page_url", page_pattern="/pricing", value=Decimal("2"), currency="EUR"
    )
    pro = make_goal("Pro", event_name="Signup", properties={"plan": "pro"})
    settings = AttributionSettings(goals=(pricing, pro))
    sql = ClientSql(loaded.client)
    rows = goal_conversions(sql, site_id, settings, T - timedelta(days=1), T + timedelta(days=1))
    got = [
        (r["goal_name"], r["visitor_id"], r["source"], r["goal_value"], r["currency"], r["revenue_after"])
        for r in rows
    ]
    assert got == [
        ("Pricing", "v1", "google", Decimal("2"), "EUR", {"USD": Decimal("100"), "EUR": Decimal("7.5")}),
        ("Pro", "v1", "google", Decimal("0"), "", {"USD": Decimal("100"), "EUR": Decimal("7.5")}),
        ("Pricing", "v2", "Direct / None", Decimal("2"), "EUR", {}),
    ]
    assert all(r["conversion_id"].startswith(f"{r['goal_id']}:") for r in rows)
    assert rows[0]["person_id"] == "visitor:v1" and rows[0]["session_id"]

    # Edit a goal: history is re-read (no rebuild step), and an inactive goal completes nothing.
    narrowed = edited(pricing, {"page_pattern": "/pricing/**"})
    again = goal_conversions(
        sql,
        site_id,
        replace(settings, goals=(narrowed, edited(pro, {"active": False}))),
        T - timedelta(days=1),
        T + timedelta(days=1),
    )
    assert again == []
    wider = edited(pro, {"properties": {}})
    names = [
        r["visitor_id"]
        for r in goal_conversions(sql, site_id, AttributionSettings(goals=(wider,)), T, T + timedelta(days=1))
    ]
    assert names == ["v1", "v2"]
    # What a webhook sender reads: only rows stored since a moment.
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert goal_conversions(sql, site_id, settings, T, T + timedelta(days=1), inserted_since=later) == []
