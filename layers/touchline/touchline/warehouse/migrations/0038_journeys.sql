-- Data-driven attribution (touchline.datadriven; docs/attribution.md): every journey, converted or
-- not, and the fitted models. Written by the scheduled aggregation, read with FINAL.

-- One row per journey: a conversion's touchpoints (journey_id = conversion_id), or a run of a
-- person's sessions that are no conversion's touchpoint, at most the lookback window long from its
-- first session (journey_id = 'none:' || that session's id). Arrays are in touch order.
CREATE TABLE IF NOT EXISTS journeys
(
    site_id          LowCardinality(String),
    journey_id       String,
    person_id        String,
    converted        UInt8,
    conversion_kind  LowCardinality(String),          -- order | goal | '' when not converted
    conversion_name  String,
    started_at       DateTime64(3, 'UTC'),            -- first touch (the conversion time when there is none)
    ended_at         DateTime64(3, 'UTC'),            -- the conversion, or the last touch
    currency         LowCardinality(String),
    revenue          Decimal(18, 4),                  -- the conversion's (net) revenue; 0 when not converted
    touch_count      UInt16,
    session_ids      Array(String),
    visitor_ids      Array(String),
    touch_ats        Array(DateTime64(3, 'UTC')),
    channels         Array(LowCardinality(String)),
    sources          Array(String),
    mediums          Array(String),
    campaigns        Array(String),
    contents         Array(String),
    terms            Array(String),
    device_types     Array(String),
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, journey_id);

-- One fit per (model, conversion kind, touches variant): a summary row (channel '') with its
-- status and sample size, and a row per channel with its removal effect (Markov) or Shapley value.
CREATE TABLE IF NOT EXISTS attribution_fits
(
    site_id          LowCardinality(String),
    model            LowCardinality(String),          -- markov | markov_k2 | markov_k3 | shapley
    conversion_kind  LowCardinality(String),          -- order | goal
    touches          LowCardinality(String),          -- all | clicks_only | paid_only
    channel          LowCardinality(String),          -- '' for the summary row
    status           LowCardinality(String),          -- ok | too_few_journeys | too_few_conversions
    method           LowCardinality(String),          -- removal_effect | exact | simplified
    journeys         UInt64,
    conversions      UInt64,
    min_journeys     UInt64,                          -- the thresholds the fit was held to
    min_conversions  UInt64,
    effect           Float64,                         -- removal effect or Shapley value
    share            Float64,                         -- effect normalised over the fit's channels
    fitted_at        DateTime64(3, 'UTC'),
    version          UInt64,
    is_deleted       UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, model, conversion_kind, touches, channel);
