-- Privacy requests (seed 004's 07_privacy_gdpr.sql `privacy_requests`): every GDPR export and
-- deletion `touchline people export|delete` ran, who asked for it and when (docs/identity.md).
--
-- The subject is kept only as the sha256 of what the request named (a user id, or the
-- normalised email), never in clear: a deletion's own record must not keep the data it erased,
-- yet a later "was I deleted?" can still be answered by hashing the same value. The columns are
-- named so GDPR deletion's column match (`touchline.identity.gdpr`) never erases the record of
-- a request. Kept without a TTL: it is the site's proof of compliance.

CREATE TABLE IF NOT EXISTS privacy_requests
(
    site_id         LowCardinality(String),
    request_id      UUID,
    kind            LowCardinality(String),            -- export | delete
    subject_type    LowCardinality(String),            -- user_id | email
    subject_sha256  String,                            -- sha256 hex of the user id / normalised email
    requested_by    String,                            -- who ran it (cli:<login>)
    reference       String DEFAULT '',                 -- the operator's reference (a ticket id), no personal data
    requested_at    DateTime64(3, 'UTC'),
    completed_at    DateTime64(3, 'UTC'),
    status          LowCardinality(String),            -- completed | nothing_found
    rows            Map(String, UInt64)                -- table → rows exported / deleted
)
ENGINE = ReplacingMergeTree
ORDER BY (site_id, request_id);
