"""Daily rollups of sessions and credits (seed 001's daily_metrics, seed 000's by-source tables).

Each run recomputes whole days: every day that gained, lost or changed a session or a
conversion. Order revenue in `daily_metrics` is credited last-touch to the session dimensions;
`orders_by_source_daily` has it under every model.
"""

from __future__ import annotations

DAILY_METRICS_SELECT = """
SELECT site_id, date, channel, source, device_type, currency,
       sum(visitors) AS visitors, sum(sessions) AS sessions, sum(pageviews) AS pageviews,
       sum(bounces) AS bounces, sum(duration_s) AS duration_s, sum(goal_completions) AS goal_completions,
       sum(conversions) AS conversions, sum(revenue) AS revenue,
       toUInt64({version:UInt64}) AS version, toUInt8(0) AS is_deleted
FROM (
    SELECT site_id, toDate(session_start) AS date, channel, source, device_type, '' AS currency,
           toUInt64(uniqExact(visitor_id)) AS visitors, toUInt64(count()) AS sessions,
           toUInt64(sum(pageviews)) AS pageviews, toUInt64(sum(is_bounce)) AS bounces,
           toUInt64(sum(duration_s)) AS duration_s, toUInt64(sum(goals)) AS goal_completions,
           toFloat64(0) AS conversions, toDecimal128(0, 4) AS revenue
    FROM sessions FINAL
    WHERE site_id = {site:String} AND ({date_scope_sessions})
    GROUP BY site_id, date, channel, source, device_type
    UNION ALL
    SELECT site_id, toDate(converted_at) AS date, channel, source, device_type, currency,
           toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0), toUInt64(0),
           sum(credit) AS conversions, toDecimal128(sum(attributed_revenue), 4) AS revenue
    FROM attribution_credits FINAL
    WHERE site_id = {site:String} AND model = 'last_touch' AND conversion_kind = 'order'
      AND ({date_scope_credits})
    GROUP BY site_id, date, channel, source, device_type, currency
)
GROUP BY site_id, date, channel, source, device_type, currency
"""

VISITS_BY_SOURCE_SELECT = """
SELECT site_id, toDate(session_start) AS date, channel, source,
       toUInt64(count()) AS sessions, toUInt64(uniqExact(visitor_id)) AS visitors,
       toUInt64({version:UInt64}) AS version, toUInt8(0) AS is_deleted
FROM sessions FINAL
WHERE site_id = {site:String} AND ({date_scope_sessions})
GROUP BY site_id, date, channel, source
"""

ORDERS_BY_SOURCE_SELECT = """
SELECT site_id, toDate(converted_at) AS date, model, channel, source, currency,
       sum(credit) AS orders, toDecimal128(sum(attributed_revenue), 4) AS revenue,
       toUInt64({version:UInt64}) AS version, toUInt8(0) AS is_deleted
FROM attribution_credits FINAL
WHERE site_id = {site:String} AND conversion_kind = 'order' AND ({date_scope_credits})
GROUP BY site_id, date, model, channel, source, currency
"""

# table -> the SELECT of its rows (each table's sorting key is its dimensions).
ROLLUPS: dict[str, str] = {
    "daily_metrics": DAILY_METRICS_SELECT,
    "visits_by_source_daily": VISITS_BY_SOURCE_SELECT,
    "orders_by_source_daily": ORDERS_BY_SOURCE_SELECT,
}


def rollup_select(select: str, dates_table: str | None) -> str:
    """`select` limited to the days in `dates_table` (every day when None)."""
    if dates_table is None:
        sessions_scope = credits_scope = "1"
    else:
        # The constant lower bound lets ClickHouse skip whole months (sessions are partitioned by
        # month of start); the IN keeps exactly the changed days.
        sessions_scope = (
            f"session_start >= (SELECT toDateTime64(min(date), 3, 'UTC') FROM {dates_table}) "
            f"AND toDate(session_start) IN (SELECT date FROM {dates_table})"
        )
        credits_scope = (
            f"converted_at >= (SELECT toDateTime64(min(date), 3, 'UTC') FROM {dates_table}) "
            f"AND toDate(converted_at) IN (SELECT date FROM {dates_table})"
        )
    return select.replace("{date_scope_sessions}", sessions_scope).replace(
        "{date_scope_credits}", credits_scope
    )
