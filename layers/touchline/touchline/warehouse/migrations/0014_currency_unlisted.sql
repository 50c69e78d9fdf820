-- A signed provider event whose currency is three letters but not in ISO 4217 (a code newer than
-- the layer's list, or a processor's own) is stored, not refused: the money is real and a
-- refusal would make the provider retry it for days and then drop it. The flag says so, so
-- reports and `touchline report revenue` can show it apart (docs/revenue.md, issue 13). Every
-- other door (hits, the tracking and payments APIs, syncs) refuses such a code with a 4xx.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS currency_unlisted UInt8 DEFAULT 0 AFTER currency;
ALTER TABLE refunds ADD COLUMN IF NOT EXISTS currency_unlisted UInt8 DEFAULT 0 AFTER currency;
