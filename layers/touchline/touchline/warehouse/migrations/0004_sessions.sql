-- Sessions, multi-touch attribution and daily rollups, written by the scheduled aggregation
-- (touchline.aggregate; definitions in docs/attribution.md).
--
-- Every derived table is ReplacingMergeTree(version, is_deleted): a run recomputes a scope
-- (affected visitors, persons, days) and writes the new rows plus tombstones for rows that no
-- longer exist, so re-running is idempotent and a full rebuild equals the incremental history.
-- Read them with FINAL.

-- When a row reached ClickHouse: incremental runs pick up whatever was inserted since their last
-- watermark, including late events and redrives. Added with a constant default first, so rows
-- that already exist get a fixed (epoch) value instead of "now at every read".
ALTER TABLE events ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC');
ALTER TABLE events MATERIALIZE COLUMN inserted_at SETTINGS mutations_sync = 2;
ALTER TABLE events MODIFY COLUMN inserted_at DateTime64(3, 'UTC') DEFAULT now64(3);
ALTER TABLE identity_links ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC');
ALTER TABLE identity_links MATERIALIZE COLUMN inserted_at SETTINGS mutations_sync = 2;
ALTER TABLE identity_links MODIFY COLUMN inserted_at DateTime64(3, 'UTC') DEFAULT now64(3);
ALTER TABLE identity_map ADD COLUMN IF NOT EXISTS inserted_at DateTime64(3, 'UTC') DEFAULT toDateTime64(0, 3, 'UTC');
ALTER TABLE identity_map MATERIALIZE COLUMN inserted_at SETTINGS mutations_sync = 2;
ALTER TABLE identity_map MODIFY COLUMN inserted_at DateTime64(3, 'UTC') DEFAULT now64(3);

CREATE TABLE IF NOT EXISTS sessions
(
    site_id          LowCardinality(String),
    visitor_id       String,
    session_id       String,                          -- hex cityHash64 of the first hit: stable across rebuilds
    session_start    DateTime64(3, 'UTC'),
    session_end      DateTime64(3, 'UTC'),
    duration_s       UInt32,                          -- last hit - first hit
    hits             UInt32,
    pageviews        UInt32,
    goals            UInt32,
    is_bounce        UInt8,                           -- <= 1 pageview and no interactive non-pageview hit
    -- acquisition: the first hit's
    channel          LowCardinality(String),
    source           LowCardinality(String),
    medium           LowCardinality(String),
    campaign         String,
    content          String,
    term             String,
    click_id         String,
    click_id_type    LowCardinality(String),
    referrer         String,
    landing_page     String,
    exit_page        String,                          -- the last pageview's path
    hostname         LowCardinality(String),
    -- device and place: the first hit's
    device_type      LowCardinality(String),
    browser          LowCardinality(String),
    os               LowCardinality(String),
    country          LowCardinality(String),
    region           LowCardinality(String),
    city             String,
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
-- A session's id is its first hit, so its start never changes between versions: safe to
-- partition by, and the daily rollups then read only the months they recompute.
PARTITION BY toYYYYMM(session_start)
ORDER BY (site_id, visitor_id, session_id);

CREATE TABLE IF NOT EXISTS attribution_credits
(
    site_id            LowCardinality(String),
    conversion_id      String,                        -- order: '<source>:<order_id>'; goal: the event id
    conversion_kind    LowCardinality(String),        -- order | goal
    conversion_name    String,                        -- goal name, or '' for orders
    person_id          String,
    converted_at       DateTime64(3, 'UTC'),
    model              LowCardinality(String),        -- first_touch | last_touch | last_non_direct | linear | time_decay | position_based
    touch_index        UInt16,                        -- 1-based position among the conversion's touchpoints; 0 for (none)
    touch_count        UInt16,
    session_id         String,                        -- '' for (none)
    visitor_id         String,
    touch_at           DateTime64(3, 'UTC'),
    channel            LowCardinality(String),        -- '(none)' when no touchpoint
    source             LowCardinality(String),
    medium             LowCardinality(String),
    campaign           String,
    content            String,
    term               String,
    device_type        LowCardinality(String),
    credit             Float64,                       -- a conversion's credits sum to 1 per model
    currency           LowCardinality(String),
    revenue            Decimal(18, 4),                -- the conversion's (net) revenue
    attributed_revenue Decimal(18, 4),                -- credit x revenue, largest remainder to the minor unit
    version            UInt64,
    is_deleted         UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, conversion_id, model, touch_index);

CREATE TABLE IF NOT EXISTS daily_metrics
(
    site_id           LowCardinality(String),
    date              Date,
    channel           LowCardinality(String),
    source            LowCardinality(String),
    device_type       LowCardinality(String),
    visitors          UInt64,
    sessions          UInt64,
    pageviews         UInt64,
    bounces           UInt64,
    duration_s        UInt64,                         -- total over sessions
    goal_completions  UInt64,
    conversions       Float64,                        -- orders, last-touch credited to these dimensions
    currency          LowCardinality(String),         -- one row per currency that has revenue ('' otherwise)
    revenue           Decimal(18, 4),                 -- net order revenue, last-touch credited
    version           UInt64,
    is_deleted        UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, date, channel, source, device_type, currency);

CREATE TABLE IF NOT EXISTS visits_by_source_daily
(
    site_id     LowCardinality(String),
    date        Date,
    channel     LowCardinality(String),
    source      LowCardinality(String),
    sessions    UInt64,
    visitors    UInt64,
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, date, channel, source);

CREATE TABLE IF NOT EXISTS orders_by_source_daily
(
    site_id            LowCardinality(String),
    date               Date,
    model              LowCardinality(String),
    channel            LowCardinality(String),
    source             LowCardinality(String),
    currency           LowCardinality(String),
    orders             Float64,                       -- credited orders (fractional under multi-touch)
    revenue            Decimal(18, 4),                -- attributed revenue
    version            UInt64,
    is_deleted         UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, date, model, channel, source, currency);
