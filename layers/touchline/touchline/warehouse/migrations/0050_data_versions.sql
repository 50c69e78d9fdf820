-- The query API's data version (docs/query-api.md, "Cache and freshness"): per site and table,
-- how many insert blocks and rows have landed and when the last one did. Each table the query
-- engine reads has a materialized view that adds one row per inserted block and site, inside the
-- INSERT itself, so no writer (loader, aggregation, syncs, commerce jobs, ad-hoc SQL) can land
-- data without moving its site's version. Sums and maxima only grow, whatever merges do.
-- Mutations fire no view: the code that mutates (GDPR deletes) adds a row itself. (Numbered after
-- every table it watches; issue 22 owns 0050–0053 and the cache on clusters needs it too.)
CREATE TABLE IF NOT EXISTS data_versions
(
    site_id LowCardinality(String),
    table_name LowCardinality(String),
    writes SimpleAggregateFunction(sum, UInt64),
    rows SimpleAggregateFunction(sum, UInt64),
    stored_at SimpleAggregateFunction(max, DateTime64(3, 'UTC')),
    -- Random per block, so no two blocks are equal: a replicated table (a cluster's) drops a
    -- block equal to a recent one, which would leave a version unmoved.
    nonce SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
ORDER BY (site_id, table_name);

CREATE MATERIALIZED VIEW IF NOT EXISTS events_data_version TO data_versions
AS SELECT site_id, 'events' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM events GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS sessions_data_version TO data_versions
AS SELECT site_id, 'sessions' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM sessions GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS attribution_credits_data_version TO data_versions
AS SELECT site_id, 'attribution_credits' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM attribution_credits GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS attribution_fits_data_version TO data_versions
AS SELECT site_id, 'attribution_fits' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM attribution_fits GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS journeys_data_version TO data_versions
AS SELECT site_id, 'journeys' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM journeys GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS orders_data_version TO data_versions
AS SELECT site_id, 'orders' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM orders GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS order_line_items_data_version TO data_versions
AS SELECT site_id, 'order_line_items' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM order_line_items GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS refunds_data_version TO data_versions
AS SELECT site_id, 'refunds' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM refunds GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_links_data_version TO data_versions
AS SELECT site_id, 'identity_links' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM identity_links GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS devices_data_version TO data_versions
AS SELECT site_id, 'devices' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM devices GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS customer_profiles_data_version TO data_versions
AS SELECT site_id, 'customer_profiles' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM customer_profiles GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS products_master_data_version TO data_versions
AS SELECT site_id, 'products_master' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM products_master GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS product_relationships_data_version TO data_versions
AS SELECT site_id, 'product_relationships' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM product_relationships GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS identity_map_data_version TO data_versions
AS SELECT site_id, 'identity_map' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM identity_map GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS objects_data_version TO data_versions
AS SELECT site_id, 'objects' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM objects GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS relationships_data_version TO data_versions
AS SELECT site_id, 'relationships' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM relationships GROUP BY site_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS video_events_data_version TO data_versions
AS SELECT site_id, 'video_events' AS table_name, toUInt64(1) AS writes, count() AS rows, now64(3, 'UTC') AS stored_at,
       max(rand64()) AS nonce
FROM video_events GROUP BY site_id;
