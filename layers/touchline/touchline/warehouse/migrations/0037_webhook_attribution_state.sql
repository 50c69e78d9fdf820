-- What the outgoing-webhooks dispatcher last told subscribers about each order's attribution:
-- a fingerprint of its credits (every model's touchpoints and attributed revenue). An
-- `attribution.updated` event is sent when an aggregation run leaves an order's credits with a
-- different fingerprint (docs/webhooks.md). Latest version wins.
CREATE TABLE IF NOT EXISTS webhook_attribution_state
(
    site_id       LowCardinality(String),
    conversion_id String,                               -- '<source>:<order_id>'
    fingerprint   UInt64,                               -- 0: no credits any more
    version       UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, conversion_id);
