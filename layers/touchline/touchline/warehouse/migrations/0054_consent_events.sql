-- Consent (seed 004's 07_privacy_gdpr.sql `consent_management`): every consent choice a
-- person's calls carried, as a history (docs/consent.md). Filled from Segment's consent object
-- (`context.consent.categoryPreferences`) and its `Segment Consent Preference Updated` event,
-- an identify's `traits.consent`, and the tag's `consent` call. A person's state per category
-- is their latest row's value for it (a query over this table; the query API's consent view).
--
-- An explicit choice (the preference event, an identify's trait, the tag's call) is one row,
-- keyed by its call's event id. The `context.consent` Segment puts on every call is one row per
-- subject, choice and UTC day, keyed by a uuid5 of those, at the latest call that carried it
-- (ReplacingMergeTree(version), version = that call's time in ms): repeating a choice adds no
-- row, a change does, and the latest row per category is still the current state. Redelivered
-- calls collapse under FINAL. The identifiers are those the call came with (a site must be able
-- to show what each person chose), whatever the choice was; `people delete` erases them.
-- Ages with the raw events (touchline migrate's events retention): the record lasts as long as
-- the data it stands behind.

CREATE TABLE IF NOT EXISTS consent_events
(
    site_id        LowCardinality(String),
    choice_id      UUID,                                -- the call's event id, or uuid5(subject, choice, day)
    at             DateTime64(3, 'UTC'),
    person_id      String DEFAULT '',                   -- user:<userId>, else visitor:<anonymousId>
    user_id        String DEFAULT '',
    anonymous_id   String DEFAULT '',                   -- anonymousId, or the tag's visitor id
    source         LowCardinality(String),              -- context | preference_event | identify | tag
    ingest_source  LowCardinality(String) DEFAULT 'api', -- api | tag
    categories     Map(String, UInt8),                  -- category id as the site names it → granted
    version        UInt64                               -- ms since the epoch of the call
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (site_id, choice_id);
