-- Bad rows (Snowplow's idea): an envelope the loader could not validate, or a row ClickHouse
-- refused, kept with its reason instead of blocking the good rows that shared its SQS message
-- (issue 20: one message per request). Never read by reports; `touchline sql "SELECT reason,
-- body FROM rejected_rows FINAL"` shows them. A redelivered message rewrites the same
-- (message_id, position), which ReplacingMergeTree collapses. Kept 14 days, as the DLQ keeps
-- messages: rows may hold the same personal data as the events they failed to be.
CREATE TABLE IF NOT EXISTS rejected_rows
(
    message_id   String,                                -- the SQS message that carried it
    position     UInt32,                                -- its line in that message
    site_id      LowCardinality(String) DEFAULT '',     -- when the row named one
    kind         LowCardinality(String) DEFAULT '',     -- the envelope's table, when readable
    reason       String,                                -- the validation or ClickHouse error
    body         String,                                -- the envelope as received
    rejected_at  DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY (message_id, position)
TTL toDateTime(rejected_at) + INTERVAL 14 DAY;
