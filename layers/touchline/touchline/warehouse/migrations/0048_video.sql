-- Video (seed 004's 06_video.sql): every call of Segment's Video Spec (playback, content and
-- ad events, and Video Quality Updated) from the tracking API, one row per call beside its
-- `events` row, with the playback session and the content and ad it is about (docs/video.md).
-- Keyed by the message id within the site and playback session: a redelivered call collapses
-- under FINAL. Plays, completion rate, watch time and ad impressions are queries over it.

CREATE TABLE IF NOT EXISTS video_events
(
    site_id           LowCardinality(String),
    video_session_id  String,                          -- properties.session_id: one playback
    at                DateTime64(3, 'UTC'),
    message_id        String,
    category          LowCardinality(String),          -- playback | content | ad | quality
    action            LowCardinality(String),          -- started | playing | paused | completed | …
    visitor_id        String DEFAULT '',
    user_id           String DEFAULT '',
    content_asset_id  String DEFAULT '',
    content_pod_id    String DEFAULT '',
    ad_asset_id       String DEFAULT '',
    ad_pod_id         String DEFAULT '',
    ad_type           LowCardinality(String) DEFAULT '',
    title             String DEFAULT '',
    program           String DEFAULT '',
    season            String DEFAULT '',
    episode           String DEFAULT '',
    genre             String DEFAULT '',
    publisher         String DEFAULT '',
    channel           String DEFAULT '',
    video_player      LowCardinality(String) DEFAULT '',
    quality           LowCardinality(String) DEFAULT '',
    method            String DEFAULT '',
    position          Float64 DEFAULT 0,               -- seconds
    total_length      Float64 DEFAULT 0,               -- seconds (0: unknown or livestream)
    livestream        UInt8 DEFAULT 0,
    full_episode      UInt8 DEFAULT 0
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (site_id, video_session_id, at, message_id);
