-- Orders are stored in the currency the buyer paid (Shopify's presentment currency), the one its
-- refunds come in (docs/revenue.md). The shop's own currency and total are kept beside them, for
-- merchants who reconcile against Shopify's shop-currency reports.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shop_currency LowCardinality(String) DEFAULT '' AFTER source_status;
ALTER TABLE orders ADD COLUMN IF NOT EXISTS shop_amount Decimal(18, 4) DEFAULT 0 AFTER shop_currency;
