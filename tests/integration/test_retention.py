"""Retention per table family on the embedded engine: TTLs set by migrate, rows aged out by a
merge, and an aggregation after raw events expired keeps what it can no longer recompute."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from factories import pageview_json, paid_order_json
from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.settings import WarehouseSettings
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.retention import FAMILIES, Retention, RetentionError, apply_retention
from touchline.warehouse.sql import ClientSql

SITE = "site1"
# Yesterday noon, not now: an order an hour after its hit must fall on the hit's day, which a run
# after 23:00 UTC broke (the rollups then held four days where the test expects two).
NOW = (datetime.now(UTC) - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def days_ago(days: int, hours: int = 0) -> datetime:
    return NOW - timedelta(days=days) + timedelta(hours=hours)


def ttl_days(client: Any, table: str) -> str:
    engine_full = client.command(
        "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        parameters={"t": table},
    )
    return str(engine_full).split(" TTL ", 1)[1]


def count(client: Any, table: str) -> int:
    return int(client.command(f"SELECT count() FROM {table} FINAL WHERE site_id = 'site1'"))


def expire(client: Any, *tables: str) -> None:
    """What ClickHouse's background merges do eventually, now."""
    for table in tables:
        client.command(f"OPTIMIZE TABLE {table} FINAL")


def hit(visitor: str, when: datetime, channel: str, source: str = "") -> str:
    return pageview_json(SITE, visitor, when, channel, source)


def order(order_id: str, when: datetime, visitor: str) -> str:
    return paid_order_json(SITE, order_id, when, "40.00", "EUR", visitor)


def test_migrate_sets_one_ttl_per_family(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    assert "toIntervalDay(730)" in ttl_days(client, "events")
    assert "toIntervalDay(730)" in ttl_days(client, "sessions")
    assert "toIntervalDay(1825)" in ttl_days(client, "daily_metrics")

    retention = Retention(events_days=400, sessions_days=500, metrics_days=2000)
    changed = migrate(client, retention)
    assert changed == []  # no migration pending: only the TTLs moved
    for family, tables in FAMILIES.items():
        for table in tables:
            assert f"toIntervalDay({retention.days(family)})" in ttl_days(client, table), table
    assert apply_retention(client, retention) == []  # already as wanted: nothing altered
    # Tables outside the three families keep everything.
    assert " TTL " not in str(
        client.command(
            "SELECT engine_full FROM system.tables WHERE database = currentDatabase() AND name = 'orders'"
        )
    )


def test_expired_rows_go_at_the_next_merge_per_family(warehouse_url: str) -> None:
    client = connect(warehouse_url)
    apply_retention(client, Retention(events_days=400, sessions_days=500, metrics_days=2000))
    sink = ClickHouseRowSink(client)
    sink.insert_rows(
        "events", [hit("v1", days_ago(450), "Direct"), hit("v1", days_ago(10), "Direct")], "events"
    )
    client.insert(
        "sessions",
        [[SITE, "v1", "s-old", days_ago(550), 1], [SITE, "v1", "s-kept", days_ago(450), 1]],
        column_names=["site_id", "visitor_id", "session_id", "session_start", "version"],
    )
    today = date.today()
    client.insert(
        "daily_metrics",
        [[SITE, today - timedelta(days=2100), 1], [SITE, today - timedelta(days=1000), 1]],
        column_names=["site_id", "date", "version"],
    )
    expire(client, "events", "sessions", "daily_metrics")
    assert count(client, "events") == 1
    assert client.command("SELECT session_id FROM sessions FINAL WHERE site_id = 'site1'") == "s-kept"
    assert count(client, "daily_metrics") == 1


def credit_channels(client: Any, conversion: str) -> list[str]:
    rows = client.query(
        "SELECT channel FROM attribution_credits FINAL WHERE site_id = 'site1' "
        "AND conversion_id = {c:String} AND model = 'last_touch'",
        parameters={"c": conversion},
    ).result_rows
    return [row[0] for row in rows]


def test_a_rebuild_after_events_expired_keeps_what_it_cannot_recompute(warehouse_url: str) -> None:
    """Sessions, credits and rollups older than the horizon stay as computed; newer ones are
    rebuilt as usual. Without the horizon the old order would be re-credited to nothing."""
    client = connect(warehouse_url)
    sink = ClickHouseRowSink(client)
    sink.insert_rows(
        "events",
        [hit("v1", days_ago(600), "Organic Search", "Google"), hit("v2", days_ago(3), "Email", "news")],
        "events",
    )
    sink.insert_rows(
        "orders",
        [order("old", days_ago(600, hours=1), "v1"), order("new", days_ago(3, hours=1), "v2")],
        "orders",
    )
    aggregator = Aggregator(ClientSql(client), MemoryWatermarks())
    aggregator.run(SITE, AttributionSettings(), full=True)
    old_day = days_ago(600).date()
    metrics_before = client.query(
        "SELECT date, channel, currency, visitors, revenue FROM daily_metrics FINAL "
        "WHERE site_id = 'site1' ORDER BY date, channel, currency"
    ).result_rows
    assert sorted({row[0] for row in metrics_before}) == [old_day, days_ago(3).date()]
    assert credit_channels(client, "stripe:old") == ["Organic Search"]

    # The operator shortens raw events to 400 days but keeps sessions (and metrics) longer.
    # Parts already stored expire by the new TTL too (it is materialized, not only set).
    assert apply_retention(client, Retention(events_days=400, sessions_days=1000), wait=True) == [
        "events",
        "customer_events",
        "devices",
        "video_events",
        "object_events",
        "consent_events",
        "cart_events",
        "wishlist_events",
        "sessions",
        "journeys",
    ]
    assert count(client, "events") == 1

    report = aggregator.run(SITE, AttributionSettings(), full=True)
    assert report.sessions == 1  # only the recent one could be recomputed
    assert count(client, "sessions") == 2
    assert credit_channels(client, "stripe:old") == ["Organic Search"]
    assert credit_channels(client, "stripe:new") == ["Email"]
    metrics_after = client.query(
        "SELECT date, channel, currency, visitors, revenue FROM daily_metrics FINAL "
        "WHERE site_id = 'site1' ORDER BY date, channel, currency"
    ).result_rows
    assert metrics_after == metrics_before

    # An identity change re-credits a person's whole history, except what is past the horizon.
    client.insert(
        "identity_map",
        [[SITE, "visitor", "v1", "user:7", 2], [SITE, "visitor", "v2", "user:7", 2]],
        column_names=["site_id", "id_type", "id_value", "person_id", "version"],
    )
    aggregator.run(SITE, AttributionSettings())
    assert credit_channels(client, "stripe:old") == ["Organic Search"]
    assert count(client, "journeys") >= 1


@pytest.mark.parametrize(
    ("events", "sessions", "metrics", "message"),
    [
        (400, 300, None, "sessions retention (300 days) must be at least the events retention"),
        (400, None, 365, "metrics retention (365 days) must be at least the sessions retention"),
        (0, None, None, "events retention must be 1 to 3650 days, not 0"),
        (730, 4000, None, "sessions retention must be 1 to 3650 days, not 4000"),
    ],
)
def test_contradicting_retention_is_refused(
    events: int, sessions: int | None, metrics: int | None, message: str
) -> None:
    with pytest.raises(RetentionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Retention(events, sessions, metrics)


def test_settings_follow_the_family_below() -> None:
    assert WarehouseSettings.from_env({}).retention() == Retention(730, None, None)
    derived = WarehouseSettings.from_env({"TOUCHLINE_RETENTION_DAYS": "1825"}).retention()
    assert (derived.events_days, derived.sessions, derived.metrics) == (1825, 1825, 1825)
    explicit = WarehouseSettings.from_env(
        {
            "TOUCHLINE_RETENTION_DAYS": "365",
            "TOUCHLINE_SESSION_RETENTION_DAYS": "730",
            "TOUCHLINE_METRICS_RETENTION_DAYS": "3650",
        }
    ).retention()
    assert (explicit.events_days, explicit.sessions, explicit.metrics) == (365, 730, 3650)
