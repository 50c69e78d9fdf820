"""Wires the tracking API from settings: the real adapters, built once per Lambda container."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.aws.sqs import SqsEventQueue
from touchline.config.sites import SiteStore
from touchline.config.suppressions import site_suppressions
from touchline.config.write_keys import WriteKeyStore
from touchline.consent.policy import OFF
from touchline.ingest.service import default_enricher
from touchline.settings import TrackingApiSettings
from touchline.tracking.api import TrackingApi
from touchline.tracking.convert import MessageConverter
from touchline.tracking.enrich import ContextEnricher
from touchline.tracking.keys import WriteKeyResolver


@cache
def tracking_api() -> TrackingApi:
    settings = TrackingApiSettings.from_env()
    sites = SiteStore(clients.dynamodb(), settings.config_table)
    return TrackingApi(
        keys=WriteKeyResolver(
            WriteKeyStore(clients.dynamodb(), settings.config_table),
            ttl_seconds=settings.key_cache_seconds,
            consent_of=lambda site_id: site.consent if (site := sites.by_id(site_id)) else OFF,
        ),
        queue=SqsEventQueue(clients.sqs(), settings.events_queue_url),
        converter=MessageConverter(ContextEnricher(default_enricher(settings.config_table))),
        suppressions=site_suppressions(clients.dynamodb(), settings.config_table, settings.key_cache_seconds),
    )
