"""product_relationships: market baskets over every order (any currency) with at least one product.

A basket is the set of distinct products of one order. For every ordered pair (A, B) bought
together in at least `min_co_purchases` baskets: support = P(A ∧ B), confidence = P(B | A),
lift = confidence / P(B), exactly as mlxtend's association rules compute them for {A} → {B}.
The relationship type reads the lift: ≥ `lift_threshold` frequently_bought, > 1 complement,
= 1 independent, < 1 substitute (bought together less often than by chance).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BasketSettings:
    min_co_purchases: int = 3
    lift_threshold: float = 2.0


def relationships_select(lines: str) -> str:
    # A pair's counts and dates are symmetric: each basket's unordered pairs (a < b, from its
    # sorted items) are grouped once and mirrored after HAVING, half the rows of every (a, b != a).
    # A basket's items are a sorted array made distinct, not a hash set per order (~1M of them).
    return f"""
WITH
baskets AS (
    SELECT source, order_id, toDate(min(ordered_at)) AS day,
           arrayDistinct(arraySort(groupArray(product_key))) AS items
    FROM {lines} GROUP BY source, order_id),
total AS (SELECT count() AS n FROM baskets),
item_counts AS (SELECT item, count() AS n FROM baskets ARRAY JOIN items AS item GROUP BY item),
names AS (
    SELECT product_key,
           argMaxIf(product_name, (ordered_at, order_id, line_item_id), product_name != '') AS line_name
    FROM {lines} GROUP BY product_key),
catalogue AS (
    SELECT product_id, argMax(title, version) AS title FROM products FINAL
    WHERE site_id = {{site:String}} GROUP BY product_id),
unordered AS (
    SELECT items[i] AS x, y, count() AS co, min(day) AS first_co, max(day) AS last_co
    FROM baskets ARRAY JOIN arrayEnumerate(items) AS i ARRAY JOIN arraySlice(items, i + 1) AS y
    WHERE length(items) > 1
    GROUP BY x, y
    HAVING co >= {{min_co_purchases:UInt64}}),
pairs AS (
    SELECT pair.1 AS a, pair.2 AS b, co, first_co, last_co
    FROM unordered ARRAY JOIN [(x, y), (y, x)] AS pair)
SELECT {{site:String}} AS site_id, p.a AS product_a, p.b AS product_b,
       if(ca.title != '', ca.title, na.line_name) AS product_a_name,
       if(cb.title != '', cb.title, nb.line_name) AS product_b_name,
       toUInt32(p.co) AS co_purchase_count, toUInt32(ia.n) AS orders_with_a, toUInt32(ib.n) AS orders_with_b,
       toUInt32((SELECT n FROM total)) AS baskets,
       p.co / baskets AS support,
       p.co / ia.n AS confidence,
       confidence / (ib.n / baskets) AS lift,
       p.first_co AS first_co_purchase, p.last_co AS last_co_purchase,
       multiIf(lift >= {{lift_threshold:Float64}}, 'frequently_bought',
               toUInt64(p.co) * baskets > toUInt64(ia.n) * ib.n, 'complement',
               toUInt64(p.co) * baskets = toUInt64(ia.n) * ib.n, 'independent',
               'substitute') AS relationship_type,
       toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM pairs AS p
INNER JOIN item_counts AS ia ON ia.item = p.a
INNER JOIN item_counts AS ib ON ib.item = p.b
LEFT JOIN names AS na ON na.product_key = p.a
LEFT JOIN names AS nb ON nb.product_key = p.b
LEFT JOIN catalogue AS ca ON ca.product_id = p.a
LEFT JOIN catalogue AS cb ON cb.product_id = p.b
"""
