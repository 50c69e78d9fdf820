-- Third-party syncs (docs/syncs.md): Klaviyo reporting statistics, a products catalogue, the
-- customers of connected tools and customer events (support tickets, satisfaction surveys).
-- Modelled on seed 003's campaign/flow/form/segment statistics and products_master and on seed
-- 000's integration customers and customer events (`event_details` JSON).
--
-- Every table is a ReplacingMergeTree keyed on the record's identity with a version column: a
-- sync re-fetches overlapping windows and re-runs after crashes, and each re-fetch of the same
-- record writes the same key, so nothing counts twice under FINAL. Statistics take the time of
-- the refresh as version (the latest report wins); records take their source's updated time
-- (the newest state wins whatever order runs finish in).

CREATE TABLE IF NOT EXISTS campaign_statistics
(
    site_id              LowCardinality(String),
    campaign_id          String,
    campaign_message_id  String,
    date                 Date,                              -- the campaign's send date (Klaviyo reports campaigns by send date)
    campaign_name        String DEFAULT '',
    message_name         String DEFAULT '',
    send_channel         LowCardinality(String) DEFAULT '', -- email | sms | push-notification | whatsapp

    recipients           Float64 DEFAULT 0,
    delivered            Float64 DEFAULT 0,
    bounced              Float64 DEFAULT 0,
    failed               Float64 DEFAULT 0,
    opens                Float64 DEFAULT 0,
    opens_unique         Float64 DEFAULT 0,
    clicks               Float64 DEFAULT 0,
    clicks_unique        Float64 DEFAULT 0,
    conversions          Float64 DEFAULT 0,
    conversion_uniques   Float64 DEFAULT 0,
    conversion_value     Float64 DEFAULT 0,                -- in the Klaviyo account's currency
    unsubscribes         Float64 DEFAULT 0,
    spam_complaints      Float64 DEFAULT 0,

    -- Klaviyo returns rates as fractions in [0, 1]; stored as percentages (seed 003).
    open_rate_pct        Float64 DEFAULT 0,
    click_rate_pct       Float64 DEFAULT 0,
    conversion_rate_pct  Float64 DEFAULT 0,
    unsubscribe_rate_pct Float64 DEFAULT 0,
    bounce_rate_pct      Float64 DEFAULT 0,
    delivery_rate_pct    Float64 DEFAULT 0,

    synced_at            DateTime64(3, 'UTC'),
    version              UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, campaign_id, campaign_message_id, date);

CREATE TABLE IF NOT EXISTS flow_statistics
(
    site_id              LowCardinality(String),
    flow_id              String,
    flow_message_id      String,
    date                 Date,                              -- one row per day (series report, daily interval)
    flow_name            String DEFAULT '',
    flow_message_name    String DEFAULT '',
    send_channel         LowCardinality(String) DEFAULT '',

    recipients           Float64 DEFAULT 0,
    delivered            Float64 DEFAULT 0,
    bounced              Float64 DEFAULT 0,
    failed               Float64 DEFAULT 0,
    opens                Float64 DEFAULT 0,
    opens_unique         Float64 DEFAULT 0,
    clicks               Float64 DEFAULT 0,
    clicks_unique        Float64 DEFAULT 0,
    conversions          Float64 DEFAULT 0,
    conversion_uniques   Float64 DEFAULT 0,
    conversion_value     Float64 DEFAULT 0,
    unsubscribes         Float64 DEFAULT 0,
    spam_complaints      Float64 DEFAULT 0,

    open_rate_pct        Float64 DEFAULT 0,
    click_rate_pct       Float64 DEFAULT 0,
    conversion_rate_pct  Float64 DEFAULT 0,
    unsubscribe_rate_pct Float64 DEFAULT 0,
    bounce_rate_pct      Float64 DEFAULT 0,
    delivery_rate_pct    Float64 DEFAULT 0,

    synced_at            DateTime64(3, 'UTC'),
    version              UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, flow_id, flow_message_id, date);

CREATE TABLE IF NOT EXISTS form_statistics
(
    site_id                LowCardinality(String),
    form_id                String,
    date                   Date,
    form_name              String DEFAULT '',
    viewed_form            Float64 DEFAULT 0,
    viewed_form_uniques    Float64 DEFAULT 0,
    submits                Float64 DEFAULT 0,
    submit_rate_pct        Float64 DEFAULT 0,
    qualified_form         Float64 DEFAULT 0,
    qualified_form_uniques Float64 DEFAULT 0,
    closed_form            Float64 DEFAULT 0,
    closed_form_uniques    Float64 DEFAULT 0,
    synced_at              DateTime64(3, 'UTC'),
    version                UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, form_id, date);

CREATE TABLE IF NOT EXISTS segment_statistics
(
    site_id          LowCardinality(String),
    segment_id       String,
    date             Date,
    segment_name     String DEFAULT '',
    total_members    Int64 DEFAULT 0,
    new_members      Int64 DEFAULT 0,                      -- Klaviyo `members_added`
    removed_members  Int64 DEFAULT 0,                      -- `members_removed`
    daily_change     Int64 DEFAULT 0,                      -- `net_members_changed`
    synced_at        DateTime64(3, 'UTC'),
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, segment_id, date);

-- The catalogue, one row per product (Shopify). Line items join on (site_id, product_id).
CREATE TABLE IF NOT EXISTS products
(
    site_id       LowCardinality(String),
    source        LowCardinality(String),                  -- shopify
    product_id    String,
    title         String DEFAULT '',
    handle        String DEFAULT '',
    vendor        String DEFAULT '',
    product_type  String DEFAULT '',
    status        LowCardinality(String) DEFAULT '',       -- active | archived | draft
    tags          Array(String) DEFAULT [],
    variant_ids   Array(String) DEFAULT [],
    skus          Array(String) DEFAULT [],
    min_price     Decimal(18, 4) DEFAULT 0,                -- in the shop's currency
    max_price     Decimal(18, 4) DEFAULT 0,
    created_at    DateTime64(3, 'UTC'),
    updated_at    DateTime64(3, 'UTC'),
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, product_id);

-- Customers as the connected tools know them (seed 000's integration customers). Each one is also
-- linked to its email in identity_links, which is how it reaches a person.
CREATE TABLE IF NOT EXISTS integration_customers
(
    site_id       LowCardinality(String),
    source        LowCardinality(String),                  -- shopify | hubspot | klaviyo | gorgias
    customer_id   String,
    email         String DEFAULT '',                       -- as given (GDPR export/delete find it here)
    email_sha256  String DEFAULT '',
    phone         String DEFAULT '',
    first_name    String DEFAULT '',
    last_name     String DEFAULT '',
    traits        String DEFAULT '{}',                     -- JSON object: the source's other fields
    created_at    DateTime64(3, 'UTC'),
    updated_at    DateTime64(3, 'UTC'),
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, customer_id);

-- Things that happened to a customer outside the site (seed 000's customer events): Gorgias
-- tickets and satisfaction surveys. A ticket is one row that its later versions replace.
CREATE TABLE IF NOT EXISTS customer_events
(
    site_id       LowCardinality(String),
    source        LowCardinality(String),                  -- gorgias
    event_id      String,                                  -- ticket:<id> | survey:<id>
    event_type    LowCardinality(String),                  -- ticket | satisfaction_survey
    customer_id   String DEFAULT '',
    email_sha256  String DEFAULT '',
    occurred_at   DateTime64(3, 'UTC'),
    updated_at    DateTime64(3, 'UTC'),
    event_details String DEFAULT '{}',                     -- JSON object
    version       UInt64,
    is_deleted    UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, event_id);
