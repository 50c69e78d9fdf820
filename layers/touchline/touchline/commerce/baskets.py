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


COUNT_COLUMNS = "x String, y String, co UInt64, first_co Date, last_co Date"


def counts_select(lines: str) -> str:
    """Every count the relationships need, from one grouping of the lines by order: per basket
    (its sorted distinct items behind a 0 that sorts first) the row (0, 0) counts the baskets,
    (item, 0) the baskets with the item, and (a, b) with a < b each unordered pair, kept when
    bought together often enough. Items are numbered in product-key order (grouping number pairs
    takes ~0.6x the time of string pairs), named back at the end; no product key is empty."""
    return f"""
WITH (SELECT arraySort(groupUniqArray(product_key)) FROM {lines}) AS names,
numbered AS (SELECT names[n] AS product_key, toUInt32(n) AS n
             FROM (SELECT arrayJoin(arrayEnumerate(names)) AS n))
SELECT if(a = 0, '', names[a]) AS x, if(b = 0, '', names[b]) AS y, co, first_co, last_co
FROM (
    SELECT items[i] AS a, b, count() AS co, min(day) AS first_co, max(day) AS last_co
    FROM (SELECT toDate(min(l.ordered_at)) AS day,
                 arrayConcat([toUInt32(0)], arrayDistinct(arraySort(groupArray(k.n)))) AS items
          FROM {lines} AS l INNER JOIN numbered AS k ON k.product_key = l.product_key
          GROUP BY l.source, l.order_id)
    ARRAY JOIN arrayEnumerate(items) AS i
    ARRAY JOIN if(i = 1, [toUInt32(0)], arrayConcat([toUInt32(0)], arraySlice(items, i + 1))) AS b
    GROUP BY a, b
    HAVING b = 0 OR co >= {{min_co_purchases:UInt64}})
"""


def relationships_select(counts: str, lines: str) -> str:
    # A pair's counts and dates are symmetric: each basket's unordered pairs (a < b) are grouped
    # once (`counts`) and mirrored here, half the rows of every (a, b != a).
    return f"""
WITH
total AS (SELECT co AS n FROM {counts} WHERE x = '' AND y = ''),
item_counts AS (SELECT x AS item, co AS n FROM {counts} WHERE x != '' AND y = ''),
names AS (
    SELECT product_key,
           argMaxIf(product_name, (ordered_at, order_id, line_item_id), product_name != '') AS line_name
    FROM {lines} GROUP BY product_key),
catalogue AS (
    SELECT product_id, argMax(title, version) AS title FROM products FINAL
    WHERE site_id = {{site:String}} GROUP BY product_id),
pairs AS (
    SELECT pair.1 AS a, pair.2 AS b, co, first_co, last_co
    FROM (SELECT * FROM {counts} WHERE y != '') ARRAY JOIN [(x, y), (y, x)] AS pair)
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
