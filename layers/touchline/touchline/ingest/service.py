"""Wires the collector from settings: the real adapters, built once per Lambda container."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.config.sites import SiteStore
from touchline.ingest.collect import Collector
from touchline.ingest.enrich import Enricher, UrlEnricher
from touchline.ingest.queue import SqsEventQueue
from touchline.ingest.site_cache import SiteResolver
from touchline.settings import CollectorSettings


def default_enricher() -> Enricher:
    """The full enricher when its package is present, else URL/UTM only."""
    try:
        from touchline.enrichment import FullEnricher  # type: ignore[attr-defined,unused-ignore]
    except ImportError:
        return UrlEnricher()
    enricher: Enricher = FullEnricher()
    return enricher


@cache
def collector() -> Collector:
    settings = CollectorSettings.from_env()
    return Collector(
        sites=SiteResolver(
            SiteStore(clients.dynamodb(), settings.config_table), ttl_seconds=settings.site_cache_seconds
        ),
        queue=SqsEventQueue(clients.sqs(), settings.events_queue_url),
        enricher=default_enricher(),
    )
