-- A hash of each customer's counted orders (touchline.commerce.profiles.ORDER_SIGNATURE, XORed
-- over the orders): the hourly profiles run compares it with the stored one to find the
-- customers whose orders, refunds or identity changed, and recomputes only those
-- (docs/commerce.md, "Incremental profiles"). 0 on rows written before it: they count as changed.
ALTER TABLE customer_profiles ADD COLUMN IF NOT EXISTS orders_signature UInt64 DEFAULT 0;
