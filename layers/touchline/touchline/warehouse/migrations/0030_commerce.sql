-- Commerce analytics (seed 003's customer_profiles, products_master,
-- product_relationships_optimized, campaign_daily_aggregates and account_metrics_daily), written
-- by the scheduled commerce jobs (touchline.commerce; every column is defined in docs/commerce.md).
--
-- Keyed by site_id where the seed says klaviyo_public_id, filled from every order source (the
-- orders / order_line_items / refunds tables). Money is Decimal(18, 4) in major units, rounded to
-- the currency's minor unit, never converted: a table that holds money has the currency in its key.
-- Every table is ReplacingMergeTree(version, is_deleted): a run writes the rows that changed with
-- its version (ms since the epoch) and tombstones for rows that no longer exist. Read with FINAL.

-- Line-item product attributes that order payloads carry (Shopify `vendor`, Klaviyo `Brand` and
-- `Categories`, the Segment spec's `brand` and `category`): used where the catalogue is silent.
ALTER TABLE order_line_items ADD COLUMN IF NOT EXISTS brand String DEFAULT '';
ALTER TABLE order_line_items ADD COLUMN IF NOT EXISTS categories Array(String) DEFAULT [];

CREATE TABLE IF NOT EXISTS customer_profiles
(
    site_id                   LowCardinality(String),
    person_id                 String,                   -- identity resolution's person, else email hash, else customer id
    currency                  LowCardinality(String),   -- one profile per currency the customer paid in
    email_sha256              String DEFAULT '',        -- the latest order's, when any carries one
    customer_id_type          LowCardinality(String) DEFAULT '',
    customer_id               String DEFAULT '',

    total_orders              UInt32,
    total_revenue             Decimal(18, 4),           -- sum of order amounts
    total_refunds             Decimal(18, 4),
    net_revenue               Decimal(18, 4),           -- revenue - refunds
    avg_order_value           Decimal(18, 4),           -- revenue / orders, to the minor unit

    first_order_date          Date,
    last_order_date           Date,
    days_since_last_order     UInt32,
    avg_days_between_orders   Nullable(Float64),        -- NULL with one order
    purchase_days             UInt32,                   -- distinct order dates (BG/NBD: frequency + 1)
    customer_age_days         UInt32,                   -- as-of date - first order date (BG/NBD: T)

    recency_score             UInt8,                    -- 1-5 quintiles within site and currency
    frequency_score           UInt8,
    monetary_score            UInt8,
    rfm_score                 String,                   -- "555"
    rfm_segment               LowCardinality(String),

    favorite_category         String,
    favorite_brand            String,
    categories_purchased      Array(String),
    brands_purchased          Array(String),
    unique_products_purchased UInt32,

    discount_usage_rate       Float64,
    avg_discount_amount       Decimal(18, 4),           -- over orders with a discount
    weekend_buyer             UInt8,
    preferred_order_hour      UInt8,                    -- UTC

    -- BG/NBD + Gamma-Gamma, fitted per site and currency (NULL when the site cannot be fitted)
    p_alive                   Nullable(Float64),
    churn_risk_score          Nullable(Float64),        -- 1 - p_alive
    predicted_purchases_90d   Nullable(Float64),
    expected_order_value      Nullable(Decimal(18, 4)), -- Gamma-Gamma conditional mean
    predicted_clv_12m         Nullable(Decimal(18, 4)),

    as_of                     Date,                     -- the day the scores describe
    version                   UInt64,
    is_deleted                UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, person_id, currency);

-- The fitted models, one row per site and currency (what the predictions above came from).
CREATE TABLE IF NOT EXISTS customer_models
(
    site_id          LowCardinality(String),
    currency         LowCardinality(String),
    status           LowCardinality(String),            -- fitted | too_few_customers | not_converged
    customers        UInt32,                            -- BG/NBD sample
    repeat_customers UInt32,                            -- Gamma-Gamma sample (repeat buyers with positive spend)
    r                Float64,                           -- BG/NBD, time in days
    alpha            Float64,
    a                Float64,
    b                Float64,
    bgnbd_log_likelihood Float64,
    p                Float64,                           -- Gamma-Gamma
    q                Float64,
    gamma            Float64,
    gg_log_likelihood Float64,
    penalizer        Float64,
    as_of            Date,
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, currency);

CREATE TABLE IF NOT EXISTS products_master
(
    site_id               LowCardinality(String),
    product_id            String,                       -- line item product id, else 'sku:…', else 'name:…'
    currency              LowCardinality(String),
    product_name          String,
    sku                   String,
    brand                 String,
    category              String,
    collections           Array(String),
    tags                  Array(String),

    avg_price             Decimal(18, 4),               -- quantity-weighted unit price
    min_price             Decimal(18, 4),
    max_price             Decimal(18, 4),

    revenue_30d           Decimal(18, 4),
    revenue_60d           Decimal(18, 4),
    revenue_90d           Decimal(18, 4),
    quantity_sold_30d     UInt32,
    quantity_sold_60d     UInt32,
    quantity_sold_90d     UInt32,
    unique_customers_30d  UInt32,
    unique_customers_60d  UInt32,
    unique_customers_90d  UInt32,
    revenue_total         Decimal(18, 4),
    quantity_sold_total   UInt32,
    orders_total          UInt32,
    unique_customers_total UInt32,

    view_sessions_30d     UInt32,                       -- sessions that viewed the product
    conversion_rate       Nullable(Float64),            -- orders with it (30 d) / view sessions (30 d)
    repurchase_rate       Float64,
    avg_units_per_order   Float64,
    revenue_per_customer  Decimal(18, 4),

    first_sold_date       Date,
    last_sold_date        Date,
    days_on_market        UInt32,
    velocity_score        Float64,                      -- units per day over the last 30 days

    revenue_rank          UInt32,                       -- by revenue_30d within site and currency
    quantity_rank         UInt32,

    discount_rate         Float64,
    avg_discount_amount   Decimal(18, 4),

    as_of                 Date,
    version               UInt64,
    is_deleted            UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, product_id, currency);

-- Seed 003's product_relationships_optimized: one row per ordered pair (A, B).
CREATE TABLE IF NOT EXISTS product_relationships
(
    site_id           LowCardinality(String),
    product_a         String,
    product_b         String,
    product_a_name    String,
    product_b_name    String,
    co_purchase_count UInt32,
    orders_with_a     UInt32,
    orders_with_b     UInt32,
    baskets           UInt32,                           -- orders with at least one product
    support           Float64,                          -- P(A and B)
    confidence        Float64,                          -- P(B | A)
    lift              Float64,                          -- confidence / P(B)
    first_co_purchase Date,
    last_co_purchase  Date,
    relationship_type LowCardinality(String),           -- frequently_bought | complement | independent | substitute
    version           UInt64,
    is_deleted        UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, product_a, product_b);

CREATE TABLE IF NOT EXISTS campaign_daily_aggregates
(
    site_id                    LowCardinality(String),
    date                       Date,
    send_channel               LowCardinality(String),  -- email | sms | push-notification | whatsapp
    total_campaigns            UInt32,
    campaigns_sent             Array(String),
    total_recipients           UInt64,
    total_delivered            UInt64,
    total_opens                UInt64,
    total_clicks               UInt64,
    total_conversions          UInt64,
    total_revenue              Decimal(18, 4),          -- Klaviyo conversion value (account currency)
    avg_revenue_per_campaign   Decimal(18, 4),
    avg_revenue_per_recipient  Decimal(18, 4),
    open_rate_pct              Float64,                 -- unique opens / delivered
    click_rate_pct             Float64,
    conversion_rate_pct        Float64,
    best_campaign_id           String,
    best_campaign_name         String,
    best_campaign_revenue      Decimal(18, 4),
    worst_campaign_id          String,
    worst_campaign_name        String,
    worst_campaign_revenue     Decimal(18, 4),
    attributed_orders          Float64,                 -- Touchline last-touch orders from this channel
    attributed_revenue         Map(String, Decimal(18, 4)), -- currency -> net revenue credited
    version                    UInt64,
    is_deleted                 UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, date, send_channel);

CREATE TABLE IF NOT EXISTS account_metrics_daily
(
    site_id                  LowCardinality(String),
    date                     Date,
    currency                 LowCardinality(String),
    total_revenue            Decimal(18, 4),            -- net revenue of the orders placed that day
    email_revenue            Decimal(18, 4),            -- last-touch attributed, channel Email
    sms_revenue              Decimal(18, 4),            -- last-touch attributed, channel SMS
    flow_revenue             Decimal(18, 4),            -- Klaviyo-reported (primary currency row)
    campaign_revenue         Decimal(18, 4),            -- Klaviyo-reported (primary currency row)
    total_orders             UInt32,
    email_orders             UInt32,
    sms_orders               UInt32,
    avg_order_value          Decimal(18, 4),
    unique_customers         UInt32,
    new_customers            UInt32,
    repeat_customers         UInt32,
    new_customer_revenue     Decimal(18, 4),
    repeat_customer_revenue  Decimal(18, 4),
    total_emails_sent        UInt64,                    -- Klaviyo statistics (primary currency row)
    total_sms_sent           UInt64,
    total_opens              UInt64,
    total_clicks             UInt64,
    revenue_per_email        Decimal(18, 4),
    revenue_per_sms          Decimal(18, 4),
    revenue_per_recipient    Decimal(18, 4),
    revenue_growth_pct       Nullable(Float64),         -- vs the same day a week before
    order_growth_pct         Nullable(Float64),
    customer_growth_pct      Nullable(Float64),
    version                  UInt64,
    is_deleted               UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, date, currency);
