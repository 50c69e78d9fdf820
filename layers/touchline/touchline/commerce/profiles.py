"""customer_profiles: one row per customer and currency, with RFM and the fitted models' predictions.

Three steps: the customers' order summaries (one SQL pass over the staged orders and line
items), the BG/NBD and Gamma-Gamma fits per currency (touchline.commerce.models), then the rows
with each customer's RFM scores (looked up per value from the staged summaries) and predictions.
Definitions: docs/commerce.md.
"""

from __future__ import annotations

from touchline.commerce.money_sql import divide_money, round_money
from touchline.commerce.rfm import segment_sql

CUSTOMER_COLUMNS = (
    "person_id String, currency String, email_sha256 String, customer_id_type String, customer_id String, "
    "total_orders UInt32, total_revenue Decimal(38, 4), total_refunds Decimal(38, 4), "
    "net_revenue Decimal(38, 4), avg_order_value Decimal(18, 4), first_order_date Date, "
    "last_order_date Date, days_since_last_order UInt32, avg_days_between_orders Nullable(Float64), "
    "purchase_days UInt32, customer_age_days UInt32, favorite_category String, "
    "favorite_brand String, categories_purchased Array(String), brands_purchased Array(String), "
    "unique_products_purchased UInt32, discount_usage_rate Float64, avg_discount_amount Decimal(18, 4), "
    "weekend_buyer UInt8, preferred_order_hour UInt8, "
    # the models' inputs: repeat purchase days, days from first to last purchase day, mean net
    # value of the repeat purchase days
    "x UInt32, t_x Float64, big_t Float64, mean_repeat_value Float64, orders_signature UInt64"
)

# What a customer's row is computed from, per order: when it changes, so may the row. XORed over
# the customer's orders (order ids are unique), so it is independent of their order.
ORDER_SIGNATURE = (
    "cityHash64(source, order_id, ordered_at, amount, refunded, discount_amount, discount_code, "
    "email_sha256, customer_id_type, customer_id)"
)


def signatures_select(orders: str) -> str:
    """(person_id, currency, orders_signature) of every customer of the staged orders."""
    return f"""
SELECT person_id, currency, groupBitXor({ORDER_SIGNATURE}) AS orders_signature
FROM {orders} WHERE person_id != '' GROUP BY person_id, currency"""


def _score_lookup(customers: str, column: str, worst_first: str) -> str:
    """(currency, value, score) for one RFM score (rfm.score): per distinct value, how many
    customers are strictly worse (a running count over the values, worst first) and equal.
    Grouped first, so the window sorts a few thousand values, not every customer's wide row."""
    return f"""(
    SELECT currency, v, toUInt8(1 + intDiv(5 * (2 * (sum(n) OVER worse - n) + n),
                                           2 * sum(n) OVER (PARTITION BY currency))) AS score
    FROM (SELECT currency, {column} AS v, count() AS n FROM {customers} GROUP BY currency, v)
    WINDOW worse AS (PARTITION BY currency ORDER BY v {worst_first}
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))"""


def scored(customers: str) -> str:
    """The staged customers with their RFM scores and segment: quintiles over every customer of
    the site and currency (changed or not), looked up by value."""
    lookups = "\n".join(
        f"LEFT JOIN {_score_lookup(customers, column, order)} AS {alias}\n"
        f"    ON {alias}.currency = c.currency AND {alias}.v = c.{column}"
        for alias, column, order in (
            ("rs", "days_since_last_order", "DESC"),
            ("fs", "total_orders", "ASC"),
            ("ms", "net_revenue", "ASC"),
        )
    )
    segment = segment_sql("recency_score", "intDiv(frequency_score + monetary_score + 1, 2)")
    return f"""(
SELECT c.*, rs.score AS recency_score, fs.score AS frequency_score, ms.score AS monetary_score,
       concat(toString(recency_score), toString(frequency_score), toString(monetary_score)) AS rfm_score,
       {segment} AS rfm_segment
FROM {customers} AS c
{lookups})"""


def customers_select(orders: str, lines: str) -> str:
    """Every customer's summary (scored later, by `scored`), from the staged orders and lines."""
    return summary_select(orders, lines)


def summary_select(orders: str, lines: str) -> str:
    """Every customer's summary (no scores), from the staged orders and lines."""
    favorite = "arraySort(v -> (-v.1, v.2), groupArray((revenue, {0})))[1].2"
    return f"""
WITH
-- One pass over the customers' orders: the per-day and per-hour figures come from each
-- customer's few (day, net, hour) triples as arrays, not from two more groupings and joins.
agg AS (
    SELECT person_id, currency,
           count() AS total_orders, sum(amount) AS total_revenue, sum(refunded) AS total_refunds,
           sum(net) AS total_net,
           min(toDate(ordered_at)) AS first_order_date, max(toDate(ordered_at)) AS last_order_date,
           countIf(discount_amount > 0 OR discount_code != '') AS discounted_orders,
           sumIf(discount_amount, discount_amount > 0) AS discount_total,
           countIf(discount_amount > 0) AS discount_count,
           countIf(toDayOfWeek(ordered_at) >= 6) AS weekend_orders,
           argMaxIf(email_sha256, (ordered_at, order_id), email_sha256 != '') AS email_sha256,
           argMaxIf((customer_id_type, customer_id), (ordered_at, order_id), customer_id != '') AS customer,
           groupBitXor(order_signature) AS orders_signature,
           uniqExact(toDate(ordered_at)) AS purchase_days,
           groupArray((toDate(ordered_at), net)) AS day_nets,
           groupArray(toHour(ordered_at)) AS order_hours
    FROM (SELECT *, {ORDER_SIGNATURE} AS order_signature FROM {orders} WHERE person_id != '')
    GROUP BY person_id, currency),
products AS (
    SELECT person_id, currency, uniqExact(product_key) AS unique_products,
           arraySort(groupUniqArrayIf(category, category != '')) AS categories,
           arraySort(groupUniqArrayIf(brand, brand != '')) AS brands
    FROM {lines} WHERE person_id != '' GROUP BY person_id, currency),
categories AS (
    SELECT person_id, currency, {favorite.format("category")} AS favorite_category
    FROM (SELECT person_id, currency, category, sum(line_total) AS revenue FROM {lines}
          WHERE person_id != '' AND category != '' GROUP BY person_id, currency, category)
    GROUP BY person_id, currency),
brands AS (
    SELECT person_id, currency, {favorite.format("brand")} AS favorite_brand
    FROM (SELECT person_id, currency, brand, sum(line_total) AS revenue FROM {lines}
          WHERE person_id != '' AND brand != '' GROUP BY person_id, currency, brand)
    GROUP BY person_id, currency),
customer_rows AS (
    SELECT a.person_id AS person_id, a.currency AS currency, a.email_sha256 AS email_sha256,
           a.customer.1 AS customer_id_type, a.customer.2 AS customer_id,
           toUInt32(a.total_orders) AS total_orders, a.total_revenue AS total_revenue,
           a.total_refunds AS total_refunds, a.total_revenue - a.total_refunds AS net_revenue,
           {divide_money("a.total_revenue", "a.total_orders", "a.currency")} AS avg_order_value,
           a.first_order_date AS first_order_date, a.last_order_date AS last_order_date,
           toUInt32(dateDiff('day', a.last_order_date, toDate({{as_of:Date}}))) AS days_since_last_order,
           if(a.total_orders > 1,
              dateDiff('day', a.first_order_date, a.last_order_date) / (a.total_orders - 1),
              NULL) AS avg_days_between_orders,
           toUInt32(a.purchase_days) AS purchase_days,
           toUInt32(dateDiff('day', a.first_order_date, toDate({{as_of:Date}}))) AS customer_age_days,
           c.favorite_category AS favorite_category, b.favorite_brand AS favorite_brand,
           p.categories AS categories_purchased, p.brands AS brands_purchased,
           toUInt32(p.unique_products) AS unique_products_purchased,
           a.discounted_orders / a.total_orders AS discount_usage_rate,
           {divide_money("a.discount_total", "a.discount_count", "a.currency")} AS avg_discount_amount,
           toUInt8(a.weekend_orders * 2 > a.total_orders) AS weekend_buyer,
           -- the hour of most orders, the earliest of a tie
           toUInt8(arraySort(h -> (-countEqual(a.order_hours, h), h), a.order_hours)[1])
               AS preferred_order_hour,
           toUInt32(a.purchase_days - 1) AS x,
           toFloat64(dateDiff('day', a.first_order_date, a.last_order_date)) AS t_x,
           toFloat64(dateDiff('day', a.first_order_date, toDate({{as_of:Date}}))) AS big_t,
           if(a.purchase_days > 1,
              toFloat64(a.total_net - arraySum(arrayMap(v -> v.2, arrayFilter(
                  v -> v.1 = a.first_order_date, a.day_nets)))) / (a.purchase_days - 1),
              0) AS mean_repeat_value,
           a.orders_signature AS orders_signature
    FROM agg AS a
    LEFT JOIN products AS p ON p.person_id = a.person_id AND p.currency = a.currency
    LEFT JOIN categories AS c ON c.person_id = a.person_id AND c.currency = a.currency
    LEFT JOIN brands AS b ON b.person_id = a.person_id AND b.currency = a.currency)
SELECT * FROM customer_rows
"""


_PASSTHROUGH = (
    "person_id", "currency", "email_sha256", "customer_id_type", "customer_id", "total_orders",
    "total_revenue", "total_refunds", "net_revenue", "avg_order_value", "first_order_date",
    "last_order_date", "days_since_last_order", "avg_days_between_orders", "purchase_days",
    "customer_age_days", "recency_score", "frequency_score", "monetary_score", "rfm_score",
    "rfm_segment", "favorite_category", "favorite_brand", "categories_purchased", "brands_purchased",
    "unique_products_purchased", "discount_usage_rate", "avg_discount_amount", "weekend_buyer",
    "preferred_order_hour", "orders_signature",
)  # fmt: skip
_MONEY_TOTALS = ("total_revenue", "total_refunds", "net_revenue")


def profiles_select(customers: str, models: str, predictions: str) -> str:
    """customer_profiles rows: the scored summaries (`scored`) with each customer's predictions
    under the site's fit."""
    # Unfitted sites join zeros: every expression is guarded before it can divide by them.
    p_alive = (
        "if(m.bg = 0 OR c.x = 0, 1.0, 1.0 / (1.0 + exp(log(m.a / (m.b + c.x - 1)) "
        "+ (m.r + c.x) * (log(m.alpha + c.big_t) - log(m.alpha + c.t_x)))))"
    )
    order_value = "if(m.gg = 0, 0, m.p * (m.gamma + c.x * c.mean_repeat_value) / (m.p * c.x + m.q - 1))"
    clv = f"toDecimal128(if(m.bg = 0, 0, e.alive_365 * {p_alive}) * {order_value}, 8)"
    passthrough = ",\n       ".join(
        f"toDecimal64(c.{n}, 4) AS {n}" if n in _MONEY_TOTALS else f"c.{n} AS {n}" for n in _PASSTHROUGH
    )
    return f"""
SELECT {{site:String}} AS site_id, {passthrough},
       if(m.bg = 1, {p_alive}, NULL) AS p_alive,
       if(m.bg = 1, 1.0 - {p_alive}, NULL) AS churn_risk_score,
       if(m.bg = 1, e.alive_90 * {p_alive}, NULL) AS predicted_purchases_90d,
       if(m.gg = 1, {round_money(f"toDecimal128({order_value}, 8)", "c.currency")}, NULL)
           AS expected_order_value,
       if(m.bg = 1 AND m.gg = 1, {round_money(clv, "c.currency")}, NULL) AS predicted_clv_12m,
       toDate({{as_of:Date}}) AS as_of, toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM {customers} AS c
LEFT JOIN {models} AS m ON m.currency = c.currency
LEFT JOIN {predictions} AS e ON e.currency = c.currency AND e.x = c.x AND e.big_t = c.big_t
"""


_SCORE_COLUMNS = ("recency_score", "frequency_score", "monetary_score", "rfm_score", "rfm_segment")


def changed_select(orders: str, newer: str) -> str:
    """(person_id, currency) of the customers whose row may differ from the stored one: their
    orders' signature moved (an order, refund or identity change: new, gone or moved between
    people), they have no stored row or only a stored one, or their orders' line items or the
    catalogue rows of their products changed since the last run (`newer` on `inserted_at`)."""
    return f"""
SELECT person_id, currency FROM (
    SELECT person_id, currency, orders_signature, 1 AS side FROM ({signatures_select(orders)})
    UNION ALL
    SELECT person_id, currency, orders_signature, 2 FROM customer_profiles FINAL
    WHERE site_id = {{site:String}})
GROUP BY person_id, currency
HAVING uniqExact(side) = 1 OR min(orders_signature) != max(orders_signature)
UNION DISTINCT
SELECT person_id, currency FROM {orders}
WHERE person_id != '' AND (source, order_id) IN (
    SELECT source, order_id FROM order_line_items
    WHERE site_id = {{site:String}} AND ({newer}
        OR product_id IN (SELECT product_id FROM products
                          WHERE site_id = {{site:String}} AND version > {{since_ms:Int64}})))
"""


def changed_customers_select(orders: str, lines: str, changed: str) -> str:
    """Every customer (scored later, by `scored`): the changed ones summarised afresh from their
    orders and lines, the others as stored (their summaries cannot have moved; their scores
    can), `changed` 1/0."""
    stored = f"""
    SELECT person_id, currency, email_sha256, customer_id_type, customer_id, total_orders,
           total_revenue, total_refunds, net_revenue, avg_order_value, first_order_date,
           last_order_date, days_since_last_order, avg_days_between_orders, purchase_days,
           customer_age_days, favorite_category, favorite_brand, categories_purchased,
           brands_purchased, unique_products_purchased, discount_usage_rate, avg_discount_amount,
           weekend_buyer, preferred_order_hour, toUInt32(purchase_days - 1) AS x,
           toFloat64(dateDiff('day', first_order_date, last_order_date)) AS t_x,
           toFloat64(customer_age_days) AS big_t, toFloat64(0) AS mean_repeat_value,
           orders_signature, toUInt8(0) AS changed
    FROM customer_profiles FINAL
    WHERE site_id = {{site:String}}
      AND (person_id, currency) NOT IN (SELECT person_id, currency FROM {changed})"""
    fresh = f"SELECT *, toUInt8(1) AS changed FROM ({summary_select(orders, lines)})"
    return f"{fresh}\nUNION ALL{stored}"


def changed_profiles_select(customers: str, models: str, predictions: str) -> str:
    """customer_profiles rows of the changed customers (predicted with the stored fit) and, for the
    others, their stored rows wherever their RFM scores moved."""
    rescored = ", ".join(f"c.{n}" if n in _SCORE_COLUMNS else f"p.{n}" for n in _PASSTHROUGH)
    everyone = scored(customers)
    return f"""
SELECT * FROM ({profiles_select(f"(SELECT * FROM {everyone} WHERE changed = 1)", models, predictions)})
UNION ALL
SELECT p.site_id, {rescored}, p.p_alive, p.churn_risk_score, p.predicted_purchases_90d,
       p.expected_order_value, p.predicted_clv_12m, p.as_of, toUInt64({{version:UInt64}}), toUInt8(0)
FROM (SELECT * FROM customer_profiles FINAL WHERE site_id = {{site:String}}) AS p
INNER JOIN (SELECT * FROM {everyone} WHERE changed = 0) AS c
    ON c.person_id = p.person_id AND c.currency = p.currency
WHERE (p.recency_score, p.frequency_score, p.monetary_score)
      != (c.recency_score, c.frequency_score, c.monetary_score)
"""
