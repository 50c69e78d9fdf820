"""Wires the revenue intake from settings: the real adapters, built once per Lambda container."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.aws.secrets import powertools_fetcher
from touchline.aws.sqs import SqsEventQueue
from touchline.config.integrations import IntegrationStore, WebhookSecrets
from touchline.config.sites import SiteStore
from touchline.config.suppressions import site_suppressions
from touchline.config.tokens import TokenResolver, TokenStore
from touchline.revenue.dedupe import PowertoolsDeduper
from touchline.revenue.intake import KnownSites, RevenueIntake
from touchline.settings import WebhooksSettings


@cache
def deduper() -> PowertoolsDeduper:
    settings = WebhooksSettings.from_env()
    return PowertoolsDeduper(settings.config_table, clients.dynamodb(), settings.idempotency_seconds)


@cache
def intake() -> RevenueIntake:
    settings = WebhooksSettings.from_env()
    dynamodb = clients.dynamodb()
    table = settings.config_table
    secrets = WebhookSecrets(
        IntegrationStore(dynamodb, table),
        powertools_fetcher(clients.secretsmanager(), settings.secret_cache_seconds),
        ttl_seconds=settings.secret_cache_seconds,
    )
    return RevenueIntake(
        sites=KnownSites(SiteStore(dynamodb, table).by_id, ttl_seconds=settings.site_cache_seconds),
        secrets=secrets,
        tokens=TokenResolver(TokenStore(dynamodb, table), ttl_seconds=settings.site_cache_seconds),
        queue=SqsEventQueue(clients.sqs(), settings.events_queue_url),
        deduper=deduper(),
        signature_tolerance_seconds=settings.signature_tolerance_seconds,
        suppressions=site_suppressions(dynamodb, table, settings.site_cache_seconds),
    )
