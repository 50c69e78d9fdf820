"""Scheduled third-party syncs: Klaviyo, Shopify, HubSpot, Gorgias → ClickHouse (docs/syncs.md)."""
