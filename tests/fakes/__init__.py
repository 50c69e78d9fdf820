"""Local fakes of third-party APIs (Klaviyo, Shopify, HubSpot, Gorgias) for sync tests and benchmarks."""
