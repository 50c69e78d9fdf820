"""`goal_conversions` (seed 001): one row per completion of a goal, a query over events rather than
a table, so an edited goal is re-evaluated over all of history at its next read.

A completion is a hit the goal's definition matches (touchline.goals: a custom event or a page
pattern, its property matches); a hit matching two goals completes both. Each row carries:

    conversion_id      `<goal id>:<event id>`: stable, so a reader can dedupe on it
    goal_id, goal_name, visitor_id, person_id (the signed-in user's person on a shared browser,
                       else identity_map's for the visitor; `visitor:<id>` when unmapped)
    session_id, source, channel, campaign: the session the hit belongs to, as it started
                       (source `Direct / None` when it had none; all empty for a hit not
                       sessionised yet)
    converted_at       the hit's time; inserted_at: when the hit was stored (read new rows by it)
    goal_value         the goal's value, else the hit's revenue (in `currency`)
    revenue_after      net paid order revenue (orders net of refunds, per currency) of the same
                       person from the completion up to the site's attribution window after it:
                       converted_at <= ordered_at < converted_at + lookback_days (default 30)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from touchline.aggregate.conversions import conversions_select, goal_parameters
from touchline.aggregate.persons import USER_MAP, VISITOR_MAP
from touchline.config.attribution_settings import AttributionSettings
from touchline.warehouse.sql import Sql

# Every goal a hit completes (indices into the goal arrays of `goal_parameters`).
GOAL_INDICES = """arrayFilter(i -> if({goal_patterns:Array(String)}[i] = '',
        e.event_type != 'pageview' AND e.name = {goal_events:Array(String)}[i],
        e.event_type = 'pageview' AND match(e.pathname, {goal_patterns:Array(String)}[i]))
    AND arrayAll((k, v) -> mapContains(e.props, k) AND e.props[k] = v,
                 {goal_prop_keys:Array(Array(String))}[i], {goal_prop_values:Array(Array(String))}[i]),
    arrayEnumerate({goal_names:Array(String)}))"""

SESSION_SPAN_MS = 24 * 3600 * 1000

GOAL_CONVERSIONS = f"""
WITH
    visitor_map AS ({VISITOR_MAP}),
    user_map AS ({USER_MAP}),
    orders AS ({{orders}}),
    completions AS (
        SELECT concat({{goal_ids:Array(String)}}[g], ':', toString(e.event_id)) AS conversion_id,
               {{goal_ids:Array(String)}}[g] AS goal_id, {{goal_names:Array(String)}}[g] AS goal_name,
               e.visitor_id AS visitor_id,
               multiIf(u.person_id != '', u.person_id, m.person_id != '', m.person_id,
                       concat('visitor:', e.visitor_id)) AS person_id,
               s.session_id AS session_id,
               if(s.session_id = '', '', if(s.source = '', 'Direct / None', s.source)) AS source,
               s.channel AS channel, s.campaign AS campaign,
               e.timestamp AS converted_at, e.inserted_at AS inserted_at,
               if({{goal_values:Array(String)}}[g] != '', toDecimal128({{goal_values:Array(String)}}[g], 4),
                  toDecimal128(ifNull(e.revenue, 0), 4)) AS goal_value,
               if({{goal_values:Array(String)}}[g] != '', {{goal_currencies:Array(String)}}[g], e.currency)
                   AS currency
        FROM (SELECT * FROM events AS e FINAL
              WHERE site_id = {{site:String}} AND timestamp >= fromUnixTimestamp64Milli({{since_ms:Int64}})
                AND timestamp < fromUnixTimestamp64Milli({{until_ms:Int64}})
                AND inserted_at >= fromUnixTimestamp64Milli({{inserted_since_ms:Int64}})
                AND ({{inserted_until_ms:Int64}} = 0
                     OR inserted_at <= fromUnixTimestamp64Milli({{inserted_until_ms:Int64}}))
                AND event_type NOT IN ('engagement', 'identify', 'device', 'consent')
                AND ((event_type != 'pageview' AND has({{goal_events:Array(String)}}, name))
                     OR (event_type = 'pageview' AND {{goal_any_page:String}} != ''
                         AND match(pathname, {{goal_any_page:String}})))) AS e
        ARRAY JOIN {GOAL_INDICES} AS g
        ASOF LEFT JOIN (
            SELECT * FROM sessions FINAL WHERE site_id = {{site:String}}
                AND session_start >= fromUnixTimestamp64Milli({{since_ms:Int64}} - {SESSION_SPAN_MS})) AS s
            ON e.visitor_id = s.visitor_id AND e.timestamp >= s.session_start
        LEFT JOIN visitor_map AS m ON m.visitor_id = e.visitor_id
        LEFT JOIN user_map AS u ON u.user_id = s.user_id
        WHERE ({{goal_filter:Array(String)}} = [] OR has({{goal_filter:Array(String)}}, goal_id)))
SELECT conversion_id, any(goal_id), any(goal_name), any(visitor_id), any(person_id),
       any(session_id), any(source), any(channel), any(campaign),
       any(converted_at) AS at, any(inserted_at), any(goal_value), any(currency),
       sumMap(if(within, [order_currency], CAST([], 'Array(String)')),
              if(within, [order_revenue], CAST([], 'Array(Decimal(38, 4))')))
FROM (
    SELECT c.*, o.currency AS order_currency, o.revenue AS order_revenue,
           o.ordered_at >= c.converted_at
               AND o.ordered_at < c.converted_at + toIntervalMillisecond({{window_ms:Int64}}) AS within
    FROM completions AS c
    LEFT JOIN orders AS o ON o.person_id = c.person_id)
GROUP BY conversion_id
ORDER BY at, conversion_id
LIMIT {{limit:UInt64}}
"""

ORDERS = f"""
        SELECT person_id, converted_at AS ordered_at, currency, revenue
        FROM ({conversions_select(goal_scope="0")}) WHERE conversion_kind = 'order'"""
# Without revenue after (what a webhook sender reads: it is not known at the completion yet).
NO_ORDERS = (
    "SELECT '' AS person_id, toDateTime64(0, 3, 'UTC') AS ordered_at, '' AS currency, "
    "toDecimal128(0, 4) AS revenue WHERE 0"
)

COLUMNS = (
    "conversion_id",
    "goal_id",
    "goal_name",
    "visitor_id",
    "person_id",
    "session_id",
    "source",
    "channel",
    "campaign",
    "converted_at",
    "inserted_at",
    "goal_value",
    "currency",
)


def goal_conversions(
    sql: Sql,
    site_id: str,
    settings: AttributionSettings,
    since: datetime,
    until: datetime,
    *,
    goal_ids: list[str] | None = None,
    inserted_since: datetime | None = None,
    inserted_until: datetime | None = None,
    revenue_after: bool = True,
    limit: int = 10_000,
) -> list[dict[str, Any]]:
    """Completions of the site's active goals between `since` and `until` (hits' times), oldest
    first; `inserted_since`/`inserted_until` keep those stored in that span, both ends included
    (what a webhook sender reads); `revenue_after=False` leaves the orders unread (`{}`)."""
    params: dict[str, Any] = {
        "site": site_id,
        **goal_parameters(settings.goals),
        "goal_ids": [g.id for g in settings.goals if g.active] or ["\x00no goal"],
        "goal_filter": goal_ids or [],
        "since_ms": int(since.timestamp() * 1000),
        "until_ms": int(until.timestamp() * 1000),
        "inserted_since_ms": int(inserted_since.timestamp() * 1000) if inserted_since else 0,
        "inserted_until_ms": int(inserted_until.timestamp() * 1000) if inserted_until else 0,
        "window_ms": int(timedelta(days=settings.lookback_days).total_seconds() * 1000),
        "limit": limit,
    }
    out = []
    statement = GOAL_CONVERSIONS.replace("{orders}", ORDERS if revenue_after else NO_ORDERS)
    for row in sql.rows(statement, params):
        record = dict(zip(COLUMNS, row[: len(COLUMNS)], strict=True))
        currencies, amounts = row[len(COLUMNS)]
        record["revenue_after"] = {c: Decimal(a) for c, a in zip(currencies, amounts, strict=True) if a}
        out.append(record)
    return out


def conversion_out(record: dict[str, Any]) -> dict[str, Any]:
    """A row as JSON shows it (times ISO 8601 UTC, money as strings)."""
    out = dict(record)
    for key in ("converted_at", "inserted_at"):
        value = out[key]
        out[key] = value.isoformat() if isinstance(value, datetime) else str(value)
    out["goal_value"] = str(out["goal_value"])
    out["revenue_after"] = {c: str(a) for c, a in out["revenue_after"].items()}
    return out
