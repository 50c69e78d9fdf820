-- Raw hits: one row per accepted event, after enrichment. Modelled on seed 001's `events`.
-- ReplacingMergeTree keyed on event_id: an SQS redelivery re-inserts an identical row, which
-- collapses on merge and never counts twice under FINAL (see docs/ingestion.md, "Exactly once").
CREATE TABLE IF NOT EXISTS events
(
    event_id        UUID,
    site_id         LowCardinality(String),
    timestamp       DateTime64(3, 'UTC'),
    received_at     DateTime64(3, 'UTC'),
    ingest_source   LowCardinality(String) DEFAULT 'tag',

    event_type      LowCardinality(String),          -- pageview | goal | engagement | purchase | identify ...
    name            LowCardinality(String),          -- 'pageview' or the goal / custom event name
    visitor_id      String,                          -- tag id (uuid) or cookieless daily hash
    session_id      String DEFAULT '',               -- filled by sessionisation (issue 6)
    user_id         String DEFAULT '',

    url             String,
    hostname        LowCardinality(String),
    pathname        String,
    page_title      String DEFAULT '',
    referrer        String DEFAULT '',
    referrer_source LowCardinality(String) DEFAULT '',
    channel         LowCardinality(String) DEFAULT '',

    utm_source      LowCardinality(String) DEFAULT '',
    utm_medium      LowCardinality(String) DEFAULT '',
    utm_campaign    String DEFAULT '',
    utm_content     String DEFAULT '',
    utm_term        String DEFAULT '',
    click_id        String DEFAULT '',
    click_id_type   LowCardinality(String) DEFAULT '', -- gclid | fbclid | msclkid ...

    device_type     LowCardinality(String) DEFAULT '', -- desktop | mobile | tablet
    browser         LowCardinality(String) DEFAULT '',
    browser_version LowCardinality(String) DEFAULT '',
    os              LowCardinality(String) DEFAULT '',
    os_version      LowCardinality(String) DEFAULT '',
    screen_width    UInt16 DEFAULT 0,

    country         LowCardinality(String) DEFAULT '', -- ISO 3166-1 alpha-2
    region          LowCardinality(String) DEFAULT '', -- ISO 3166-2
    city            String DEFAULT '',

    revenue         Nullable(Decimal(18, 4)),          -- 4 places: exact for 0-, 2- and 3-decimal currencies
    currency        LowCardinality(String) DEFAULT '',

    props           Map(String, String),
    interactive     UInt8 DEFAULT 1,                   -- 0 = must not end a bounce (Plausible `i`)
    engagement_ms   UInt32 DEFAULT 0,                  -- engagement events: time on page (Plausible `e`)
    scroll_depth    UInt8 DEFAULT 0,                   -- engagement events: max scroll % (Plausible `sd`)

    INDEX idx_name name TYPE set(256) GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (site_id, toDate(timestamp), visitor_id, timestamp, event_id)
TTL toDateTime(timestamp) + INTERVAL {retention_days} DAY
SETTINGS index_granularity = 8192, non_replicated_deduplication_window = 1000;
