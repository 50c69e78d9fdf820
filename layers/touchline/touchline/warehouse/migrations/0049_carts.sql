-- Carts, wishlists and reviews (seed 004's 03_ecommerce.sql shopping_carts, wishlists and
-- product_reviews) from Segment's e-commerce spec v2 calls on the tracking API (docs/carts.md).
--
-- cart_events: one row per product line of a cart call (`Product Added`, `Product Removed`,
-- `Cart Viewed`, `Checkout Started`, `Order Completed` and `Wishlist Product Added to Cart` that
-- name a `cart_id`), line 0 for a call without products. Keyed by the message id and the line, so
-- a redelivered `Product Added` collapses under FINAL and never adds its quantity twice. A cart's
-- state (`shopping_carts` below) is computed from these rows, never kept as a running total.
CREATE TABLE IF NOT EXISTS cart_events
(
    site_id       LowCardinality(String),
    cart_id       String,
    at            DateTime64(3, 'UTC'),
    message_id    String,
    line          UInt16 DEFAULT 0,
    action        LowCardinality(String),          -- added | removed | viewed | checkout_started | order_completed
    snapshot      UInt8 DEFAULT 0,                 -- 1: the call lists the whole cart (products[])
    visitor_id    String DEFAULT '',
    user_id       String DEFAULT '',
    product_id    String DEFAULT '',               -- product_id, else 'sku:…', else 'name:…' (as products_master)
    sku           String DEFAULT '',
    name          String DEFAULT '',
    variant       String DEFAULT '',
    brand         String DEFAULT '',
    category      String DEFAULT '',
    quantity      Int32 DEFAULT 0,                 -- +added / -removed; on a snapshot the line's quantity
    price         Decimal(18, 4) DEFAULT 0,        -- unit price, major units rounded to the currency
    price_known   UInt8 DEFAULT 0,
    currency      LowCardinality(String) DEFAULT '',
    order_id      String DEFAULT '',               -- Checkout Started / Order Completed: the order it became
    checkout_id   String DEFAULT ''
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (site_id, cart_id, at, message_id, line);

-- wishlist_events: `Product Added to Wishlist`, `Product Removed from Wishlist` and `Wishlist
-- Product Added to Cart`, one row per call, keyed by the message id.
CREATE TABLE IF NOT EXISTS wishlist_events
(
    site_id        LowCardinality(String),
    wishlist_id    String,
    at             DateTime64(3, 'UTC'),
    message_id     String,
    action         LowCardinality(String),         -- added | removed | moved_to_cart
    wishlist_name  String DEFAULT '',
    visitor_id     String DEFAULT '',
    user_id        String DEFAULT '',
    product_id     String DEFAULT '',
    sku            String DEFAULT '',
    name           String DEFAULT '',
    price          Decimal(18, 4) DEFAULT 0,
    price_known    UInt8 DEFAULT 0,
    currency       LowCardinality(String) DEFAULT ''
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (site_id, wishlist_id, at, message_id);

-- product_reviews: `Product Reviewed`, one row per review (its review_id, else the message id); a
-- review sent again with the same review_id replaces the earlier one (latest call wins).
CREATE TABLE IF NOT EXISTS product_reviews
(
    site_id      LowCardinality(String),
    product_id   String,
    review_id    String,
    at           DateTime64(3, 'UTC'),
    message_id   String,
    visitor_id   String DEFAULT '',
    user_id      String DEFAULT '',
    rating       Float64 DEFAULT 0,
    rated        UInt8 DEFAULT 0,                  -- 0: no usable rating (the review still counts)
    review_body  String DEFAULT '',
    version      UInt64,
    inserted_at  DateTime64(3, 'UTC') DEFAULT now64(3, 'UTC')  -- what the commerce products job watches
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, product_id, review_id);

-- products_master (0030) gains the reviews' figures, written by the commerce products job.
ALTER TABLE products_master ADD COLUMN IF NOT EXISTS review_count UInt32 DEFAULT 0;
ALTER TABLE products_master ADD COLUMN IF NOT EXISTS rating_count UInt32 DEFAULT 0;
ALTER TABLE products_master ADD COLUMN IF NOT EXISTS average_rating Nullable(Float64);
