-- Devices (seed 004's 04_devices.sql `devices` and `push_tokens`, in one table): one row per
-- device a person's app runs on, as of its latest tracking-API call. Filled from the
-- `Device Created or Updated` / `Device Deleted` semantic events (Customer.io's and Segment's
-- mobile spec) and from `context.device` on any call (docs/devices.md).
--
-- ReplacingMergeTree(version): version is the call's time in ms, so the latest call wins
-- whatever order the calls arrive in, and a redelivered call (same values, same version)
-- collapses. Read with FINAL. A `Device Deleted` is a row with deleted = 1 (kept, so deletions
-- can be counted; a later registration of the same device revives it); GDPR erasure removes the
-- rows outright (`people delete` matches person_id, user_id and anonymous_id).

CREATE TABLE IF NOT EXISTS devices
(
    site_id            LowCardinality(String),
    device_id          String,                   -- context.device.id, else 'token:' + push_token_sha256
    person_id          String DEFAULT '',        -- user:<userId>, else visitor:<anonymousId> (as people rows)
    user_id            String DEFAULT '',
    anonymous_id       String DEFAULT '',
    platform           LowCardinality(String) DEFAULT '',   -- ios | android | … (context.device.type, else OS)
    manufacturer       String DEFAULT '',
    model              String DEFAULT '',
    os_name            LowCardinality(String) DEFAULT '',
    os_version         String DEFAULT '',
    app_name           String DEFAULT '',
    app_version        String DEFAULT '',
    app_build          String DEFAULT '',
    push_token_sha256  String DEFAULT '',        -- sha256 hex of the push token; the token itself is never stored
    last_seen          DateTime64(3, 'UTC'),
    deleted            UInt8 DEFAULT 0,
    source_event       LowCardinality(String) DEFAULT '',   -- device_event | context
    version            UInt64                    -- ms since the epoch of the call
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, device_id);
