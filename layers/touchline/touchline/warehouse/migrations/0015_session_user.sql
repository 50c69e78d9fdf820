-- Shared browsers (issue 13, docs/identity.md "Shared devices"): the user signed in during a
-- session, so a browser shared by two users credits each of its sessions to whoever was signed in
-- at the time instead of to the browser. '' for an anonymous session. Sessions written before
-- this migration are anonymous until `touchline aggregate run --full` rewrites them (on a browser
-- one person used they are credited to that person either way).
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS user_id String DEFAULT '' AFTER visitor_id;
