"""Multi-touch attribution in ClickHouse: conversions x touchpoints → credits per model.

A conversion's touchpoints are its person's sessions (a shared browser's: those its person was
signed in during, touchline.aggregate.persons) that started at or before it and within
the lookback window, in order of start. Each model gives every touchpoint a credit (summing to
1); attributed revenue is credit x revenue in the currency's minor unit, rounded by largest
remainder so the pieces add up to the revenue exactly. See docs/attribution.md.

The float operations here (products, divisions, exp2, the remainder ordering) are mirrored
one for one by the reference implementation in tests/oracle, so both round the same way.
"""

from __future__ import annotations

from touchline.aggregate.persons import USER_MAP, VISITOR_MAP, session_person
from touchline.revenue.money import ISO_EXPONENTS

MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
NONE_CHANNEL = "(none)"
DIRECT = "Direct"
DAY_MS = 86_400_000


def currency_parameters() -> dict[str, list[str] | list[int]]:
    codes = sorted(ISO_EXPONENTS)
    return {"exp_codes": codes, "exp_values": [ISO_EXPONENTS[c] for c in codes]}


# A conversion's revenue in whole units of its currency's minor unit (1/10,000 when it has more
# places than the currency), and its sign. Shared with touchline.datadriven.credits.
UNITS_COLUMNS = """transform(currency, {exp_codes:Array(String)}, {exp_values:Array(UInt8)}, 2)
            AS currency_exp,
        if(toDecimal128(revenue * intExp10(currency_exp), 4)
               = toDecimal128(toInt64(revenue * intExp10(currency_exp)), 4),
           currency_exp, 4) AS unit_exp,
        toInt64(abs(revenue) * intExp10(unit_exp)) AS units,
        if(revenue < 0, -1, 1) AS sign"""
# `credits` (summing to 1) → `shares` of `units` by largest remainder: every share rounded down,
# the units left over one each to the largest fractional parts, ties to the earlier touchpoint.
LARGEST_REMAINDER_COLUMNS = """arrayMap(c -> c * units, credits) AS raw,
        arrayMap(r -> floor(r), raw) AS floors,
        units - toInt64(arraySum(floors)) AS leftover,
        arraySort(i -> (-(raw[i] - floors[i]), i), arrayEnumerate(credits)) AS by_remainder,
        arrayMap(i -> toInt64(floors[i]) + toInt64(indexOf(by_remainder, i) <= leftover),
                 arrayEnumerate(credits)) AS shares"""

# Tuple positions in a path element: 1 start, 2 session_id, 3 visitor_id, 4 channel, 5 source,
# 6 medium, 7 campaign, 8 content, 9 term, 10 device_type.
CREDITS_SELECT = f"""
WITH
visitor_map AS ({VISITOR_MAP}),
user_map AS ({USER_MAP}),
touches AS (
    SELECT {session_person()} AS person_id,
           s.session_start AS session_start, s.session_id AS session_id, s.visitor_id AS visitor_id,
           s.channel AS channel, s.source AS source, s.medium AS medium, s.campaign AS campaign,
           s.content AS content, s.term AS term, s.device_type AS device_type
    FROM (SELECT * FROM sessions FINAL WHERE site_id = {{site:String}} AND ({{touch_visitors}})) AS s
    LEFT JOIN visitor_map AS m ON m.visitor_id = s.visitor_id
    LEFT JOIN user_map AS u ON u.user_id = s.user_id
    WHERE person_id IN (SELECT person_id FROM {{conversions}})),
paths AS (
    SELECT
        c.conversion_id AS conversion_id,
        any(c.conversion_kind) AS conversion_kind,
        any(c.conversion_name) AS conversion_name,
        any(c.person_id) AS person_id,
        any(c.converted_at) AS converted_at,
        any(c.currency) AS currency,
        any(c.revenue) AS revenue,
        arraySort(x -> (x.1, x.2), groupArrayIf(
            (t.session_start, t.session_id, t.visitor_id, t.channel, t.source, t.medium, t.campaign,
             t.content, t.term, t.device_type),
            t.session_id != '' AND t.session_start <= c.converted_at
            AND dateDiff('millisecond', t.session_start, c.converted_at) <= {{lookback_ms:Int64}})) AS path
    FROM {{conversions}} AS c
    LEFT JOIN touches AS t ON t.person_id = c.person_id
    GROUP BY c.conversion_id),
weighted AS (
    SELECT *,
        length(path) AS n,
        arrayEnumerate(path) AS idx,
        arrayMap(x -> exp2(-(toFloat64(dateDiff('millisecond', x.1, converted_at))
                             / {{half_life_ms:Float64}})),
                 path) AS decay,
        arrayLastIndex(x -> x.4 != '{DIRECT}', path) AS last_non_direct_raw,
        {UNITS_COLUMNS}
    FROM paths),
credited AS (
    SELECT *, model, model_credits
    FROM weighted
    ARRAY JOIN
        {{models:Array(String)}} AS model,
        [arrayMap(i -> toFloat64(i = 1), idx),
         arrayMap(i -> toFloat64(i = n), idx),
         arrayMap(i -> toFloat64(i = if(last_non_direct_raw = 0, n, last_non_direct_raw)), idx),
         arrayMap(i -> 1 / n, idx),
         arrayMap(w -> w / arraySum(decay), decay),
         arrayMap(i -> multiIf(n = 1, 1., n = 2, 0.5, i = 1 OR i = n, 0.4, 0.2 / (n - 2)), idx)
        ] AS model_credits),
rounded AS (
    SELECT *,
        if(n = 0, [1.], model_credits) AS credits,
        {LARGEST_REMAINDER_COLUMNS},
        if(n = 0, [(converted_at, '', '', '{NONE_CHANNEL}', '', '', '', '', '', '')], path) AS touch_path
    FROM credited)
SELECT
    {{site:String}} AS site_id,
    conversion_id, conversion_kind, conversion_name, person_id, converted_at, model,
    toUInt16(if(n = 0, 0, touch_index)) AS touch_index,
    toUInt16(n) AS touch_count,
    touch.2 AS session_id, touch.3 AS visitor_id, touch.1 AS touch_at, touch.4 AS channel,
    touch.5 AS source, touch.6 AS medium, touch.7 AS campaign, touch.8 AS content, touch.9 AS term,
    touch.10 AS device_type,
    credit, currency,
    toDecimal128(revenue, 4) AS revenue,
    toDecimal128(sign * share, 4) / intExp10(unit_exp) AS attributed_revenue,
    toUInt64({{version:UInt64}}) AS version,
    toUInt8(0) AS is_deleted
FROM rounded
ARRAY JOIN touch_path AS touch, credits AS credit, shares AS share, arrayEnumerate(credits) AS touch_index
-- Single-touch models keep only the credited touchpoint: no rows of credit 0.
WHERE credit > 0
"""


def credits_select(conversions_table: str, touch_visitors: str = "1") -> str:
    """Credit rows for every conversion in `conversions_table` (columns of conversions_select).

    `touch_visitors` narrows the sessions read to a superset of the converting persons' visitors
    (a WHERE clause over `visitor_id`); the person filter after the join stays exact.
    """
    return CREDITS_SELECT.replace("{conversions}", conversions_table).replace(
        "{touch_visitors}", touch_visitors
    )
