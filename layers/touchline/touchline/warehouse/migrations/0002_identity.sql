-- Identity: who is who. Edges between identifiers (identity_links), the resolution of every
-- identifier to one canonical person (identity_map), and people's traits (people).
-- All three are ReplacingMergeTree(version, is_deleted): latest write wins, GDPR deletes are
-- tombstones that merges then drop; always read with FINAL.

CREATE TABLE IF NOT EXISTS identity_links
(
    site_id     LowCardinality(String),
    -- visitor | user | email_sha256 | anonymous | stripe_customer | shopify_customer | hubspot_contact | klaviyo_profile ...
    from_type   LowCardinality(String),
    from_id     String,
    to_type     LowCardinality(String),
    to_id       String,
    source      LowCardinality(String),          -- identify | alias | tag | stripe | shopify | klaviyo | hubspot ...
    linked_at   DateTime64(3, 'UTC'),
    version     UInt64,                          -- ms since epoch of the write: latest wins
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, from_type, from_id, to_type, to_id);

CREATE TABLE IF NOT EXISTS identity_map
(
    site_id     LowCardinality(String),
    id_type     LowCardinality(String),
    id_value    String,
    person_id   String,                          -- canonical person: stable across re-resolution
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, id_type, id_value);

CREATE TABLE IF NOT EXISTS people
(
    site_id     LowCardinality(String),
    person_id   String,
    user_id     String DEFAULT '',
    email       String DEFAULT '',               -- as given (GDPR export/delete find it here)
    email_sha256 String DEFAULT '',
    traits      String DEFAULT '{}',             -- JSON object, latest identify wins
    first_seen  DateTime64(3, 'UTC'),
    last_seen   DateTime64(3, 'UTC'),
    version     UInt64,
    is_deleted  UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree(version, is_deleted)
ORDER BY (site_id, person_id);
