-- Objects and relationships (seed 004's 05_objects_relationships.sql): the non-person things a
-- site's people belong to (companies, accounts, classes), from Segment's and Customer.io's
-- `group` call, and the person ↔ object relationships with their history (docs/objects.md).
--
-- `objects` and `relationships` hold the state as of the latest call (ReplacingMergeTree,
-- version = the call's time in ms, read with FINAL): a redelivered call writes the same row
-- again, which collapses, and calls arriving out of order still leave the latest. A deletion
-- (Customer.io's `Object Deleted` / `Relationship Deleted` events) is a row with deleted = 1.
-- `object_events` is the history, one row per call and action, deduplicated by message id.

CREATE TABLE IF NOT EXISTS objects
(
    site_id      LowCardinality(String),
    object_type  LowCardinality(String),       -- traits.objectTypeId (Customer.io), else '1'
    object_id    String,                       -- groupId
    name         String DEFAULT '',            -- traits.name
    traits       Map(String, String),          -- the group's traits as text (objects/arrays as JSON)
    last_seen    DateTime64(3, 'UTC'),
    deleted      UInt8 DEFAULT 0,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, object_type, object_id);

CREATE TABLE IF NOT EXISTS relationships
(
    site_id      LowCardinality(String),
    object_type  LowCardinality(String),
    object_id    String,
    member_id    String,                       -- the call's userId, else its anonymousId
    member_kind  LowCardinality(String),       -- user | anonymous
    person_id    String DEFAULT '',            -- user:<userId>, else visitor:<anonymousId> (at the call)
    user_id      String DEFAULT '',
    anonymous_id String DEFAULT '',
    attributes   Map(String, String),          -- traits.relationshipAttributes
    last_seen    DateTime64(3, 'UTC'),
    deleted      UInt8 DEFAULT 0,
    version      UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, object_type, object_id, member_id);

CREATE TABLE IF NOT EXISTS object_events
(
    site_id      LowCardinality(String),
    object_type  LowCardinality(String),
    object_id    String,
    at           DateTime64(3, 'UTC'),
    action       LowCardinality(String),       -- object_updated | object_deleted | related | unrelated
    member_id    String DEFAULT '',
    person_id    String DEFAULT '',
    user_id      String DEFAULT '',
    anonymous_id String DEFAULT '',
    changes      Map(String, String),          -- traits (object_updated) or attributes (related)
    message_id   String
)
ENGINE = ReplacingMergeTree
ORDER BY (site_id, object_type, object_id, at, action, message_id);
