-- The query cache's data versions (0050) for the cart, wishlist and review tables of 0049, and for
-- consent_events (0054), which the query engine's consent view reads.
CREATE MATERIALIZED VIEW IF NOT EXISTS cart_events_data_version TO data_versions
AS SELECT site_id, 'cart_events' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM cart_events GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS wishlist_events_data_version TO data_versions
AS SELECT site_id, 'wishlist_events' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM wishlist_events GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS product_reviews_data_version TO data_versions
AS SELECT site_id, 'product_reviews' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM product_reviews GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS consent_events_data_version TO data_versions
AS SELECT site_id, 'consent_events' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM consent_events GROUP BY site_id;

-- shopping_carts (seed 004's 03_ecommerce.sql): each cart's state, computed from the
-- deduplicated cart_events whenever it is read, so a redelivered call never counts twice and
-- nothing is kept as a running total (docs/carts.md). Per product: the quantity of the cart's
-- latest snapshot (a call listing `products`) plus the adds and removes after it, at least 0, at
-- its latest known price. Abandonment depends on the site's setting and on the time of reading:
-- the query engine decides it (touchline.query.builtin.carts). Read with `WHERE site_id = …`.
CREATE VIEW IF NOT EXISTS shopping_carts AS
WITH
    lines AS (SELECT * FROM cart_events FINAL),
    snapshots AS (
        SELECT site_id, cart_id, max((at, message_id)) AS last_snapshot
        FROM lines WHERE snapshot = 1 GROUP BY site_id, cart_id),
    products AS (
        SELECT l.site_id AS site_id, l.cart_id AS cart_id, l.product_id AS product_id,
               greatest(0, sumIf(l.quantity,
                   if(l.snapshot = 1, (l.at, l.message_id) = s.last_snapshot,
                      (l.at, l.message_id) > s.last_snapshot))) AS quantity,
               argMaxIf(l.price, (l.at, l.message_id, l.line), l.price_known = 1) AS price
        FROM lines AS l
        LEFT JOIN snapshots AS s ON s.site_id = l.site_id AND s.cart_id = l.cart_id
        WHERE l.product_id != ''
        GROUP BY site_id, cart_id, product_id),
    totals AS (
        SELECT site_id, cart_id, toInt64(sum(quantity)) AS items, toUInt32(countIf(quantity > 0)) AS products,
               sum(price * quantity) AS value
        FROM products GROUP BY site_id, cart_id)
SELECT c.site_id AS site_id, c.cart_id AS cart_id, c.visitor_id AS visitor_id, c.user_id AS user_id,
       c.currency AS currency, toDecimal128(t.value, 4) AS value, t.items AS items, t.products AS products,
       c.first_activity AS first_activity, c.last_activity AS last_activity,
       c.checkout_started_at AS checkout_started_at, c.completed_at AS completed_at,
       c.order_id AS order_id, c.calls AS calls
FROM (
    SELECT site_id, cart_id,
           argMax(visitor_id, (at, message_id)) AS visitor_id,
           argMaxIf(user_id, (at, message_id), user_id != '') AS user_id,
           argMaxIf(currency, (at, message_id), currency != '') AS currency,
           minIf(at, action != 'order_completed') AS first_activity,
           maxIf(at, action != 'order_completed') AS last_activity,
           if(countIf(action = 'checkout_started') > 0, minIf(at, action = 'checkout_started'), NULL)
               AS checkout_started_at,
           if(countIf(action = 'order_completed') > 0, minIf(at, action = 'order_completed'), NULL)
               AS completed_at,
           argMaxIf(order_id, (at, message_id), order_id != '') AS order_id,
           uniqExact(message_id) AS calls
    FROM lines
    GROUP BY site_id, cart_id
    HAVING countIf(action != 'order_completed') > 0
) AS c
LEFT JOIN totals AS t ON t.site_id = c.site_id AND t.cart_id = c.cart_id;
