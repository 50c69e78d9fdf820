"""Wires the sync function from settings: real adapters, built once per Lambda container."""

from __future__ import annotations

from functools import cache

from touchline.aws import clients
from touchline.aws.secrets import powertools_fetcher
from touchline.aws.sqs import SqsEventQueue
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.config.sync_state import SyncStateStore
from touchline.load import service as warehouse
from touchline.settings import SyncSettings
from touchline.syncs.service import SyncEnvironment


@cache
def settings() -> SyncSettings:
    return SyncSettings.from_env()


@cache
def integrations() -> SyncIntegrationStore:
    return SyncIntegrationStore(clients.dynamodb(), settings().config_table)


@cache
def environment() -> SyncEnvironment:
    current = settings()
    return SyncEnvironment(
        integrations=integrations(),
        state=SyncStateStore(clients.dynamodb(), current.config_table),
        secret=powertools_fetcher(clients.secretsmanager(), current.secret_cache_seconds),
        sink=warehouse.sink(),
        batch_rows=current.batch_rows,
    )


@cache
def run_queue() -> SqsEventQueue:
    url = settings().sync_queue_url
    if not url:
        raise RuntimeError("TOUCHLINE_SYNC_QUEUE_URL is not set: the fan-out has nowhere to queue runs")
    return SqsEventQueue(clients.sqs(), url)
