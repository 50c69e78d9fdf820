-- Revenue: orders, their line items, and refunds, from every payment source (Stripe, Shopify, the
-- payments API). Modelled on seed 003's klaviyo_orders / klaviyo_order_line_items /
-- refund_cancelled_orders, made source-neutral. Money is Decimal(18, 4) in major units (exact for
-- 0-, 2- and 3-decimal currencies) with the ISO 4217 code beside it; never converted.
--
-- All three are ReplacingMergeTree(version, is_deleted) keyed on the row's identity: every event
-- that describes the same order (Stripe checkout session, payment intent and invoice; Shopify
-- orders/create, orders/paid, orders/updated) writes the SAME key, and the highest version wins,
-- so redeliveries and multi-event payments count once under FINAL. No PARTITION BY: a partition
-- key that could differ between two versions of a row would keep both. See docs/revenue.md.

CREATE TABLE IF NOT EXISTS orders
(
    site_id          LowCardinality(String),
    source           LowCardinality(String),          -- stripe | shopify | api
    order_id         String,                          -- canonical key per payment (docs/revenue.md)
    payment_id       String DEFAULT '',               -- the processor's payment (Stripe PaymentIntent, API transaction id)
    source_event     LowCardinality(String) DEFAULT '', -- the event type that wrote this version
    status           LowCardinality(String),          -- paid | pending | voided
    cancelled        UInt8 DEFAULT 0,
    is_test          UInt8 DEFAULT 0,                 -- Stripe test mode, Shopify test orders
    ordered_at       DateTime64(3, 'UTC'),
    currency         LowCardinality(String),          -- ISO 4217, upper case
    amount           Decimal(18, 4),                  -- total charged: what gross revenue sums
    subtotal         Decimal(18, 4) DEFAULT 0,
    discount_amount  Decimal(18, 4) DEFAULT 0,
    tax_amount       Decimal(18, 4) DEFAULT 0,
    shipping_amount  Decimal(18, 4) DEFAULT 0,
    item_count       UInt32 DEFAULT 0,
    discount_code    String DEFAULT '',

    visitor_id       String DEFAULT '',               -- the tag's visitor id, when the payload carries it
    customer_id_type LowCardinality(String) DEFAULT '', -- stripe_customer | shopify_customer | user
    customer_id      String DEFAULT '',
    email_sha256     String DEFAULT '',               -- identity_links' email form

    is_subscription  UInt8 DEFAULT 0,
    renewal          UInt8 DEFAULT 0,                 -- a recurring payment, not the first
    subscription_id  String DEFAULT '',

    landing_site     String DEFAULT '',               -- Shopify: first page of the visit that ordered
    referring_site   String DEFAULT '',
    shipping_country LowCardinality(String) DEFAULT '',
    source_status    LowCardinality(String) DEFAULT '', -- the processor's own status word

    version          UInt64,
    is_deleted       UInt8 DEFAULT 0,
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, order_id);

CREATE TABLE IF NOT EXISTS order_line_items
(
    site_id          LowCardinality(String),
    source           LowCardinality(String),
    order_id         String,
    line_item_id     String,
    product_id       String DEFAULT '',
    variant_id       String DEFAULT '',
    sku              String DEFAULT '',
    product_name     String DEFAULT '',
    quantity         UInt32 DEFAULT 1,
    unit_price       Decimal(18, 4) DEFAULT 0,
    discount_amount  Decimal(18, 4) DEFAULT 0,
    line_total       Decimal(18, 4) DEFAULT 0,        -- unit_price * quantity - discount_amount
    currency         LowCardinality(String),
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0,
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, order_id, line_item_id);

CREATE TABLE IF NOT EXISTS refunds
(
    site_id          LowCardinality(String),
    source           LowCardinality(String),
    refund_id        String,
    order_id         String DEFAULT '',               -- the order's canonical key, when known
    payment_id       String,                          -- what refunds net per: Stripe charge, Shopify order, API transaction
    -- refund: one refund of `amount`; cumulative: everything refunded on payment_id so far (Stripe
    -- charge.refunded without its refund list, the payments API's `refunded`). Reports take, per
    -- payment, the greater of the sum of refunds and the latest cumulative, so both can arrive.
    kind             LowCardinality(String) DEFAULT 'refund',
    refunded_at      DateTime64(3, 'UTC'),
    currency         LowCardinality(String),
    amount           Decimal(18, 4),                  -- positive; reports subtract it
    reason           String DEFAULT '',
    is_test          UInt8 DEFAULT 0,
    line_item_ids    Array(String) DEFAULT [],
    quantities       Array(UInt32) DEFAULT [],
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0,
    inserted_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, refund_id);
