-- events.session_id was reserved for sessionisation, which writes the `sessions` table instead
-- (0004): nothing ever filled or read the column. Loaders still running the old row model may
-- send it empty; the loader's model no longer has it, so such a row is refused and retried after
-- the deploy, not stored.
ALTER TABLE events DROP COLUMN IF EXISTS session_id;
