-- Klaviyo campaign tags and Klaviyo's own attribution of each order to a campaign or a flow
-- message (docs/commerce.md, docs/syncs.md).
--
-- Tags come from Get Campaigns / Get Campaign with `include=tags` (the JSON:API `included` tags
-- the campaign's `relationships.tags` names); they are stored on every statistics row of the
-- campaign, and campaign_daily_aggregates gains seed 003's tag analysis.

ALTER TABLE campaign_statistics ADD COLUMN IF NOT EXISTS tags Array(String) DEFAULT [];

ALTER TABLE campaign_daily_aggregates ADD COLUMN IF NOT EXISTS top_tags Array(String) DEFAULT [];
ALTER TABLE campaign_daily_aggregates ADD COLUMN IF NOT EXISTS tag_performance Map(String, Decimal(18, 4)) DEFAULT map();
-- Touchline's last-touch credits of the channel whose order Klaviyo attributes to a flow message
-- (attributed_orders / attributed_revenue keep the rest: campaign-attributed and unattributed).
ALTER TABLE campaign_daily_aggregates ADD COLUMN IF NOT EXISTS flow_attributed_orders Float64 DEFAULT 0;
ALTER TABLE campaign_daily_aggregates ADD COLUMN IF NOT EXISTS flow_attributed_revenue Map(String, Decimal(18, 4)) DEFAULT map();

-- One row per Klaviyo Placed Order event: which message Klaviyo credits the order to (Get Events
-- with `include=attributions`: the attribution's `campaign` / `flow` relationships), keyed by the
-- order as the orders table keys it; attributed_kind '' when Klaviyo credits no message.
CREATE TABLE IF NOT EXISTS klaviyo_attributions
(
    site_id              LowCardinality(String),
    source               LowCardinality(String),           -- the order's source: shopify | klaviyo
    order_id             String,
    event_id             String,                           -- the Placed Order event
    ordered_at           DateTime64(3, 'UTC'),
    attributed_kind      LowCardinality(String) DEFAULT '', -- campaign | flow | ''
    campaign_id          String DEFAULT '',
    campaign_message_id  String DEFAULT '',
    flow_id              String DEFAULT '',
    flow_message_id      String DEFAULT '',
    version              UInt64,
    is_deleted           UInt8 DEFAULT 0,
    inserted_at          DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, source, order_id);
