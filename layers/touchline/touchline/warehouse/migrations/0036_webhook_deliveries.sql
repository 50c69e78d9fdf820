-- Outgoing webhooks' delivery log (docs/webhooks.md): one row per attempt to deliver an event to
-- a subscriber, through the events queue like every other row. `delivery_id` is derived from
-- (webhook, event, attempt), so an SQS redelivery of the same attempt collapses; kept 30 days.
CREATE TABLE IF NOT EXISTS webhook_deliveries
(
    site_id          LowCardinality(String),
    webhook_id       String,
    delivery_id      UUID,
    event_id         String,
    event_type       LowCardinality(String),
    attempt          UInt16,
    attempted_at     DateTime64(3, 'UTC'),
    outcome          LowCardinality(String),            -- delivered | failed | gave_up | skipped
    http_status      UInt16 DEFAULT 0,                  -- 0: no HTTP answer (timeout, refused, TLS)
    error            String DEFAULT '',
    duration_ms      UInt32 DEFAULT 0,
    response_body    String DEFAULT '',                 -- the answer's first KiB
    retry_in_seconds UInt32 DEFAULT 0                   -- when failed: the next attempt's delay
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(attempted_at)
ORDER BY (site_id, webhook_id, delivery_id)
TTL toDateTime(attempted_at) + INTERVAL 30 DAY;
