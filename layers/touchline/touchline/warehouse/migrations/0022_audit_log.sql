-- Security audit log (seed 002's security_audit_log): sign-ins seen by the API, management
-- changes, denied key and link uses. Append-only: rows are only ever inserted, through the
-- events queue like every other table; ReplacingMergeTree on audit_id only collapses an SQS
-- redelivery of the same row. Kept 400 days. Never holds a secret (docs/accounts.md).
CREATE TABLE IF NOT EXISTS audit_log
(
    audit_id     UUID,
    at           DateTime64(3, 'UTC'),
    org_id       LowCardinality(String),
    site_id      LowCardinality(String) DEFAULT '',
    actor_type   LowCardinality(String),                 -- person | api_key | shared_link | operator
    actor_id     String,                                 -- Cognito sub, key id, link id, operator name
    actor_email  String DEFAULT '',
    action       LowCardinality(String),                 -- site.create, member.invite, auth.sign_in ...
    outcome      LowCardinality(String) DEFAULT 'success', -- success | denied
    target_type  LowCardinality(String) DEFAULT '',
    target_id    String DEFAULT '',
    source_ip    String DEFAULT '',
    user_agent   String DEFAULT '',
    request_id   String DEFAULT '',
    details      String DEFAULT ''                       -- JSON object of what changed
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (org_id, at, audit_id)
TTL toDateTime(at) + INTERVAL 400 DAY;
