"""Revenue: orders, line items and refunds from Stripe, Shopify and the payments API (docs/revenue.md)."""
