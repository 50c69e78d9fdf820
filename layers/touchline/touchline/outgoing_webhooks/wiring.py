"""The outgoing webhooks function's parts, built once per container from its settings."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.aws.secrets import powertools_fetcher
from touchline.aws.sqs import SqsDelayedQueue, SqsEventQueue, SqsMessageQueue
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.watermarks import DynamoWatermarks
from touchline.outgoing_webhooks.deliver import Deliverer, DeliverySettings
from touchline.outgoing_webhooks.dispatch import Dispatcher
from touchline.outgoing_webhooks.sender import Urllib3Sender
from touchline.outgoing_webhooks.sources import sources
from touchline.outgoing_webhooks.subscriptions import SecretCache, SubscriptionStore
from touchline.settings import OutgoingWebhooksSettings
from touchline.warehouse.sql import ClientSql


@cache
def settings() -> OutgoingWebhooksSettings:
    return OutgoingWebhooksSettings.from_env()


@cache
def subscriptions() -> SubscriptionStore:
    return SubscriptionStore(clients.dynamodb(), settings().config_table)


def dispatcher() -> Dispatcher:
    """Built per run: the warehouse client in force (its URL comes from a cached secret)."""
    from touchline.load.service import warehouse_client

    current = settings()
    watermarks = DynamoWatermarks(clients.dynamodb(), current.config_table)

    site_settings = AttributionSettingsStore(clients.dynamodb(), current.config_table)
    return Dispatcher(
        ClientSql(warehouse_client()),
        subscriptions(),
        watermarks,
        SqsMessageQueue(clients.sqs(), current.queue_url),
        sources(lambda site_id: watermarks.get(site_id, "aggregate"), site_settings.get, current.settle_ms),
    )


@cache
def deliverer() -> Deliverer:
    current = settings()
    return Deliverer(
        subscriptions(),
        SecretCache(powertools_fetcher(clients.secretsmanager(), current.secret_cache_seconds)),
        Urllib3Sender(),
        SqsEventQueue(clients.sqs(), current.events_queue_url),
        SqsDelayedQueue(clients.sqs(), current.queue_url),
        SqsDelayedQueue(clients.sqs(), current.dead_letter_queue_url),
        DeliverySettings(
            timeout_seconds=current.timeout_seconds,
            max_attempts=current.max_attempts,
            retry_base_seconds=current.retry_base_seconds,
            disable_after=current.disable_after,
            allow_loopback=current.allow_loopback,
        ),
    )


def reset() -> None:
    settings.cache_clear()
    subscriptions.cache_clear()
    deliverer.cache_clear()
