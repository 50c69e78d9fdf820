"""Conversions: paid orders (net of refunds) and completions of goals marked as conversions.

Each conversion gets a person: the user signed in during its browser's session in progress at
the time when there is one (a shared browser credits each user's own orders: docs/identity.md),
else its visitor's person when it carries a visitor id, else the
person its customer id or hashed email resolves to in `identity_map`, else a person of its own
(no touchpoints: credited to "(none)"). Orders whose net revenue is not positive (fully refunded,
voided) are not conversions.
"""

from __future__ import annotations

from typing import Any

from touchline.aggregate.persons import VISITOR_MAP, session_at
from touchline.config.attribution_settings import ConversionGoal
from touchline.goals.patterns import wildcard_regex

ORDER_NET_REVENUE = """
    SELECT o.site_id AS site_id, o.source AS source, o.order_id AS order_id, o.ordered_at AS ordered_at,
           o.currency AS currency, o.amount - least(o.amount, ifNull(r.refunded, 0)) AS net,
           o.visitor_id AS visitor_id, o.customer_id_type AS customer_id_type,
           o.customer_id AS customer_id, o.email_sha256 AS email_sha256,
           least(o.amount, ifNull(r.refunded, 0)) AS refunded, o.amount AS amount,
           o.discount_amount AS discount_amount, o.discount_code AS discount_code
    FROM (SELECT * FROM orders FINAL
          WHERE site_id = {site:String} AND status = 'paid' AND cancelled = 0 AND is_test = 0
            AND ({order_scope})) AS o
    LEFT JOIN (
        -- Per payment the greater of its refunds and its latest cumulative total (a refund
        -- reported both ways counts once), then summed per order (docs/revenue.md).
        SELECT source, order_key, sum(refunded) AS refunded FROM (
            SELECT source, if(order_id != '', order_id, payment_id) AS order_key, payment_id,
                   greatest(sumIf(amount, kind = 'refund'), maxIf(amount, kind = 'cumulative')) AS refunded
            FROM refunds FINAL WHERE site_id = {site:String} AND is_test = 0
            GROUP BY source, order_key, payment_id)
        GROUP BY source, order_key
    ) AS r ON r.source = o.source AND r.order_key = o.order_id
    -- A PaymentIntent row whose payment another order row (its invoice or session) names is the
    -- same payment: it is counted there.
    WHERE NOT (o.order_id = o.payment_id AND (o.source, o.payment_id) IN (
        SELECT source, payment_id FROM orders FINAL
        WHERE site_id = {site:String} AND status = 'paid' AND payment_id != '' AND order_id != payment_id))
"""


def goal_parameters(goals: tuple[ConversionGoal, ...]) -> dict[str, Any]:
    """The active goals as query parameters (parallel arrays, one entry per goal: the custom
    event or the page regex, the property matches, the value); a placeholder keeps the arrays
    typed when there is none."""
    active = [g for g in goals if g.active]
    if not active:
        return {
            "goal_names": ["\x00no goal"],
            "goal_events": ["\x00no goal"],
            "goal_patterns": [""],
            "goal_prop_keys": [[]],
            "goal_prop_values": [[]],
            "goal_values": [""],
            "goal_currencies": [""],
            "goal_any_page": "",
        }
    pages = [wildcard_regex(g.page_pattern) for g in active if g.track_method == "page_url"]
    return {
        "goal_names": [g.name for g in active],
        "goal_events": [g.custom_event for g in active],
        "goal_patterns": [
            wildcard_regex(g.page_pattern) if g.track_method == "page_url" else "" for g in active
        ],
        "goal_prop_keys": [[k for k, _ in g.properties] for g in active],
        "goal_prop_values": [[v for _, v in g.properties] for g in active],
        "goal_values": [str(g.value) if g.value is not None else "" for g in active],
        "goal_currencies": [g.currency for g in active],
        # One regex for "some page goal", so the scan keeps only candidate hits before matching
        # each goal; "" when there is no page goal (no pageview is a candidate).
        "goal_any_page": "|".join(f"(?:{p})" for p in pages),
    }


# Hits that may complete a goal (cheap, constant parameters): what the per-goal match then reads.
GOAL_CANDIDATE = """((event_type = 'goal' AND has({goal_events:Array(String)}, name))
    OR (event_type = 'pageview' AND {goal_any_page:String} != ''
        AND match(pathname, {goal_any_page:String})))"""


# The first goal (in name order) a hit completes; 0 for none. One hit is at most one conversion.
GOAL_INDEX = """arrayFirstIndex(i -> if({goal_patterns:Array(String)}[i] = '',
        event_type = 'goal' AND name = {goal_events:Array(String)}[i],
        event_type = 'pageview' AND match(pathname, {goal_patterns:Array(String)}[i]))
    AND arrayAll((k, v) -> mapContains(props, k) AND props[k] = v,
                 {goal_prop_keys:Array(Array(String))}[i], {goal_prop_values:Array(Array(String))}[i]),
    arrayEnumerate({goal_names:Array(String)}))"""


CONVERSIONS_SELECT = f"""
    WITH
    visitor_map AS ({VISITOR_MAP}),
    other_map AS (
        SELECT id_type, id_value, person_id FROM identity_map FINAL
        WHERE site_id = {{site:String}} AND id_type != 'visitor'),
    order_rows AS ({ORDER_NET_REVENUE}),
    orders_c AS (
        SELECT
            concat(o.source, ':', o.order_id) AS conversion_id, 'order' AS conversion_kind,
            '' AS conversion_name, o.ordered_at AS converted_at, o.currency AS currency,
            toDecimal128(o.net, 4) AS revenue,
            multiIf(su.person_id != '', su.person_id,
                    o.visitor_id != '',
                        if(m.person_id != '', m.person_id, concat('visitor:', o.visitor_id)),
                    c.person_id != '', c.person_id,
                    e.person_id != '', e.person_id,
                    concat('order:', o.source, ':', o.order_id)) AS person_id
        FROM order_rows AS o
        {session_at("o.visitor_id", "o.ordered_at")}
        LEFT JOIN visitor_map AS m ON m.visitor_id = o.visitor_id
        LEFT JOIN other_map AS c ON c.id_type = o.customer_id_type AND c.id_value = o.customer_id
        LEFT JOIN (SELECT id_value, person_id FROM other_map WHERE id_type = 'email_sha256') AS e
            ON e.id_value = o.email_sha256
        WHERE o.net > 0),
    goals_c AS (
        SELECT
            toString(ev.event_id) AS conversion_id, 'goal' AS conversion_kind,
            {{goal_names:Array(String)}}[ev.goal_index] AS conversion_name, ev.timestamp AS converted_at,
            {{goal_values:Array(String)}}[ev.goal_index] AS goal_value,
            if(goal_value != '', {{goal_currencies:Array(String)}}[ev.goal_index], ev.currency) AS currency,
            if(goal_value != '', toDecimal128(goal_value, 4), toDecimal128(ifNull(ev.revenue, 0), 4))
                AS revenue,
            multiIf(su.person_id != '', su.person_id, m.person_id != '', m.person_id,
                    concat('visitor:', ev.visitor_id)) AS person_id
        FROM (SELECT *, {GOAL_INDEX} AS goal_index FROM events FINAL
              WHERE site_id = {{site:String}} AND {GOAL_CANDIDATE} AND ({{goal_scope}})
              ) AS ev
        {session_at("ev.visitor_id", "ev.timestamp")}
        LEFT JOIN visitor_map AS m ON m.visitor_id = ev.visitor_id
        WHERE ev.goal_index > 0)
    SELECT conversion_id, conversion_kind, conversion_name, converted_at, currency, revenue, person_id
    FROM orders_c
    UNION ALL
    SELECT conversion_id, conversion_kind, conversion_name, converted_at, currency, revenue, person_id
    FROM goals_c
"""


def conversions_select(order_scope: str = "1", goal_scope: str = "1") -> str:
    """Conversions from the orders matching `order_scope` (a clause over `orders` columns) and
    the goal events matching `goal_scope` (over `events` columns); "1" for all."""
    return CONVERSIONS_SELECT.replace("{order_scope}", order_scope).replace("{goal_scope}", goal_scope)
