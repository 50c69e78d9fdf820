-- The query API's visit dimensions (docs/query-api.md): visit:utm_source, visit:browser_version
-- and visit:os_version are the session's first hit's, like its other acquisition and device
-- columns. Sessions written before this migration have them empty until `touchline aggregate run
-- --full` rewrites them.
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS utm_source LowCardinality(String) DEFAULT '' AFTER source;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS browser_version LowCardinality(String) DEFAULT '' AFTER browser;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS os_version LowCardinality(String) DEFAULT '' AFTER os;
