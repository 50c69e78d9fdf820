"""products_master: per product and currency, the catalogue's description and the sales metrics.

Sales come from the staged line items (every order source); name, brand, category and tags from
the catalogue (`products`, the Shopify sync) where it knows the product, else from the line items.
Reviews (`Product Reviewed`, product_reviews) give each product its review count and mean rating.
Views are product-view events (`Product Viewed` with a `product_id`) and pageviews of Shopify
product pages (`/products/<handle>`), each counted once per session. Definitions: docs/commerce.md.
"""

from __future__ import annotations

from touchline.commerce.money_sql import divide_money

# Days `day` is inside the window of the last `n` days ending on the as-of date.
_IN = "dateDiff('day', day, toDate({{as_of:Date}})) < {n}"

CATALOGUE = """
    SELECT product_id, argMax(title, version) AS title, argMax(vendor, version) AS vendor,
           argMax(product_type, version) AS product_type, argMax(tags, version) AS tags,
           argMax(skus, version) AS skus, argMax(handle, version) AS handle,
           min(toDate(created_at)) AS created
    FROM products FINAL WHERE site_id = {site:String} GROUP BY product_id
"""

# Sessions (of the last 30 days) in which each product was viewed.
VIEWS = f"""
    SELECT product_key, uniqExact(s.session_id) AS view_sessions
    FROM (
        SELECT visitor_id, timestamp,
               multiIf(name = 'Product Viewed' AND props['product_id'] != '', props['product_id'],
                       name = 'Product Viewed' AND props['sku'] != '', concat('sku:', props['sku']),
                       h.product_id) AS product_key
        FROM (SELECT visitor_id, timestamp, name, props, event_type,
                     extract(pathname, '^/products/([^/?#]+)') AS handle
              FROM events
              WHERE site_id = {{site:String}}
                AND timestamp >= toDateTime64(toDate({{as_of:Date}}) - 29, 3, 'UTC')
                AND timestamp < toDateTime64(toDate({{as_of:Date}}) + 1, 3, 'UTC')
                AND (name = 'Product Viewed' OR (event_type = 'pageview' AND pathname LIKE '/products/%'))
              ) AS e
        LEFT JOIN (SELECT handle, product_id FROM ({CATALOGUE}) WHERE handle != '') AS h
            ON h.handle = e.handle AND e.handle != ''
    ) AS v
    ASOF INNER JOIN (
        SELECT visitor_id, session_id, session_start FROM sessions FINAL
        WHERE site_id = {{site:String}}
          AND session_start >= toDateTime64(toDate({{as_of:Date}}) - 30, 3, 'UTC')
    ) AS s ON s.visitor_id = v.visitor_id AND v.timestamp >= s.session_start
    WHERE product_key != ''
    GROUP BY product_key
"""

# Reviews per product (all time): a review sent again with its review_id counts once (FINAL).
REVIEWS = """
    SELECT product_id AS product_key, count() AS review_count, countIf(rated = 1) AS rating_count,
           sumIf(rating, rated = 1) AS rating_sum
    FROM product_reviews FINAL WHERE site_id = {site:String} GROUP BY product_id
"""


def products_select(lines: str) -> str:
    windows = []
    for n in (30, 60, 90):
        inside = _IN.format(n=n)
        windows.append(
            f"sumIf(line_total, {inside}) AS revenue_{n}d, sumIf(quantity, {inside}) AS quantity_{n}d"
        )
    # Customers per window from one pass per (product, buyer): a buyer is inside a window when
    # their last purchase of the product is; an order has one buyer, so orders add up.
    last = "dateDiff('day', last_day, toDate({as_of:Date}))"
    buyer_windows = ", ".join(
        f"countIf(person_id != '' AND {last} < {n}) AS customers_{n}d" for n in (30, 60, 90)
    )
    return f"""
WITH
items AS (SELECT *, toDate(ordered_at) AS day FROM {lines}),
per_buyer AS (
    SELECT product_key, currency, person_id, uniqExact(source, order_id) AS orders,
           uniqExactIf((source, order_id), {_IN.format(n=30)}) AS orders_30, max(day) AS last_day
    FROM items GROUP BY product_key, currency, person_id),
buyers AS (
    SELECT product_key, currency, sum(orders) AS orders_total, sum(orders_30) AS orders_30d,
           countIf(person_id != '') AS customers_total, {buyer_windows},
           if(customers_total > 0, countIf(person_id != '' AND orders >= 2) / customers_total, 0)
               AS repurchase_rate
    FROM per_buyer GROUP BY product_key, currency),
sales AS (
    SELECT product_key, currency,
           argMaxIf(product_name, (ordered_at, order_id, line_item_id), product_name != '') AS line_name,
           argMaxIf(sku, (ordered_at, order_id, line_item_id), sku != '') AS line_sku,
           argMaxIf(brand, (ordered_at, order_id, line_item_id), brand != '') AS brand,
           argMaxIf(category, (ordered_at, order_id, line_item_id), category != '') AS category,
           arraySort(arrayDistinct(arrayFlatten(groupArray(categories)))) AS collections,
           sum(unit_price * quantity) AS price_total, sum(quantity) AS units,
           sum(unit_price) AS unit_price_sum,
           min(unit_price) AS min_price, max(unit_price) AS max_price,
           {", ".join(windows)},
           sum(line_total) AS revenue_total, sum(quantity) AS quantity_total,
           min(day) AS first_sold_date, max(day) AS last_sold_date,
           count() AS lines, countIf(discount_amount > 0) AS discounted_lines,
           sumIf(discount_amount, discount_amount > 0) AS discount_total
    FROM items GROUP BY product_key, currency),
catalogue AS ({CATALOGUE}),
views AS ({VIEWS}),
reviews AS ({REVIEWS}),
rows AS (
    SELECT s.product_key AS product_id, s.currency AS currency,
           if(c.title != '', c.title, s.line_name) AS product_name,
           if(s.line_sku != '', s.line_sku, if(empty(c.skus), '', c.skus[1])) AS sku,
           s.brand AS brand, s.category AS category, s.collections AS collections, c.tags AS tags,
           if(s.units > 0, {divide_money("s.price_total", "s.units", "s.currency")},
              {divide_money("s.unit_price_sum", "s.lines", "s.currency")}) AS avg_price,
           toDecimal64(s.min_price, 4) AS min_price, toDecimal64(s.max_price, 4) AS max_price,
           toDecimal64(s.revenue_30d, 4) AS revenue_30d, toDecimal64(s.revenue_60d, 4) AS revenue_60d,
           toDecimal64(s.revenue_90d, 4) AS revenue_90d,
           toUInt32(s.quantity_30d) AS quantity_sold_30d, toUInt32(s.quantity_60d) AS quantity_sold_60d,
           toUInt32(s.quantity_90d) AS quantity_sold_90d,
           toUInt32(b.customers_30d) AS unique_customers_30d,
           toUInt32(b.customers_60d) AS unique_customers_60d,
           toUInt32(b.customers_90d) AS unique_customers_90d,
           toDecimal64(s.revenue_total, 4) AS revenue_total,
           toUInt32(s.quantity_total) AS quantity_sold_total,
           toUInt32(b.orders_total) AS orders_total, toUInt32(b.customers_total) AS unique_customers_total,
           toUInt32(v.view_sessions) AS view_sessions_30d,
           if(v.view_sessions > 0, b.orders_30d / v.view_sessions, NULL) AS conversion_rate,
           b.repurchase_rate AS repurchase_rate,
           if(b.orders_total > 0, s.quantity_total / b.orders_total, 0) AS avg_units_per_order,
           {divide_money("s.revenue_total", "b.customers_total", "s.currency")} AS revenue_per_customer,
           s.first_sold_date AS first_sold_date, s.last_sold_date AS last_sold_date,
           toUInt32(dateDiff('day',
               if(c.created > toDate('1970-01-01') AND c.created < s.first_sold_date,
                  c.created, s.first_sold_date),
               toDate({{as_of:Date}}))) AS days_on_market,
           s.quantity_30d / least(30, dateDiff('day', s.first_sold_date, toDate({{as_of:Date}})) + 1)
               AS velocity_score,
           s.discounted_lines / s.lines AS discount_rate,
           {divide_money("s.discount_total", "s.discounted_lines", "s.currency")} AS avg_discount_amount,
           toUInt32(rv.review_count) AS review_count, toUInt32(rv.rating_count) AS rating_count,
           if(rv.rating_count > 0, rv.rating_sum / rv.rating_count, NULL) AS average_rating
    FROM sales AS s
    INNER JOIN buyers AS b ON b.product_key = s.product_key AND b.currency = s.currency
    LEFT JOIN catalogue AS c ON c.product_id = s.product_key
    LEFT JOIN views AS v ON v.product_key = s.product_key
    LEFT JOIN reviews AS rv ON rv.product_key = s.product_key)
SELECT {{site:String}} AS site_id, product_id, currency, product_name, sku, brand, category, collections,
       tags,
       avg_price, min_price, max_price, revenue_30d, revenue_60d, revenue_90d, quantity_sold_30d,
       quantity_sold_60d, quantity_sold_90d, unique_customers_30d, unique_customers_60d,
       unique_customers_90d, revenue_total, quantity_sold_total, orders_total, unique_customers_total,
       view_sessions_30d, conversion_rate, repurchase_rate, avg_units_per_order, revenue_per_customer,
       first_sold_date, last_sold_date, days_on_market, velocity_score,
       toUInt32(row_number() OVER (PARTITION BY currency ORDER BY revenue_30d DESC, product_id ASC))
           AS revenue_rank,
       toUInt32(row_number() OVER (PARTITION BY currency ORDER BY quantity_sold_30d DESC, product_id ASC))
           AS quantity_rank,
       discount_rate, avg_discount_amount, review_count, rating_count, average_rating,
       toDate({{as_of:Date}}) AS as_of, toUInt64({{version:UInt64}}) AS version, toUInt8(0) AS is_deleted
FROM rows
"""
