-- A tracking-API message whose time was corrected for the sender's clock skew has a time that
-- depends on when it arrived (the offset receivedAt - sentAt includes the delivery delay), so
-- a later copy of the same body (an SDK's disk queue, a proxy's retry) would get another time
-- and, the time being in events' key and partition, be stored twice. The events row says how
-- much its time was corrected (0: the sender's own time, a pure function of the message).
ALTER TABLE events ADD COLUMN IF NOT EXISTS clock_correction_ms Int64 DEFAULT 0;

-- The first stored time of each corrected message: the loader gives every later copy this time,
-- so events' ReplacingMergeTree collapses the copies (docs/ingestion.md, "Exactly once"). No
-- personal data: a site, an event id and a time. Kept 35 days from the first copy's arrival:
-- longer than any redelivery of the same body (SQS keeps a message 4 days, its dead-letter queue
-- 14 from the first enqueue, SDK retries give up within days), short enough that the table holds
-- about a month of corrected messages, a small fraction of the events.
CREATE TABLE IF NOT EXISTS corrected_event_times
(
    site_id      LowCardinality(String),
    event_id     UUID,
    timestamp    DateTime64(3, 'UTC'),   -- the time the first copy was stored with
    received_at  DateTime64(3, 'UTC')    -- when that copy reached the API
)
ENGINE = ReplacingMergeTree
ORDER BY (site_id, event_id)
TTL toDateTime(received_at) + INTERVAL 35 DAY;
