"""Wires the collector from settings: the real adapters, built once per Lambda container."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.aws.client_ip import TrustRule
from touchline.aws.degraded import DegradedReporter
from touchline.aws.sqs import SqsEventQueue
from touchline.config.salts import DynamoDBSaltStore
from touchline.config.sites import SiteStore
from touchline.config.suppressions import site_suppressions
from touchline.enrichment import FullEnricher
from touchline.ingest.collect import Collector
from touchline.ingest.site_cache import SiteResolver
from touchline.settings import CollectorSettings


def default_enricher(config_table: str) -> FullEnricher:
    """The full enricher, its daily salts shared by every container through the config table;
    a salt store failure is logged and counted (`Degraded`, dependency `salt_store`)."""
    return FullEnricher(DynamoDBSaltStore(clients.dynamodb(), config_table), degraded=DegradedReporter())


@cache
def trust_rule() -> TrustRule:
    return TrustRule.parse(CollectorSettings.from_env().trusted_proxy)


def site_resolver(store: SiteStore, ttl_seconds: float) -> SiteResolver:
    return SiteResolver(store, ttl_seconds=ttl_seconds, batch_lookup=store.by_domains)


@cache
def collector() -> Collector:
    settings = CollectorSettings.from_env()
    return Collector(
        sites=site_resolver(
            SiteStore(clients.dynamodb(), settings.config_table), settings.site_cache_seconds
        ),
        queue=SqsEventQueue(clients.sqs(), settings.events_queue_url),
        enricher=default_enricher(settings.config_table),
        suppressions=site_suppressions(
            clients.dynamodb(), settings.config_table, settings.site_cache_seconds
        ),
    )
