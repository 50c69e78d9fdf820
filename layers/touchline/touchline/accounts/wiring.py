"""The accounts function's parts, built once per container from its settings."""

from __future__ import annotations

import os
from functools import cache

from touchline.accounts.annotations import Annotations, AnnotationStore
from touchline.accounts.audit import QueueAuditSink
from touchline.accounts.orgs import OrgStore
from touchline.accounts.people import PeopleResolver
from touchline.accounts.service import Accounts
from touchline.accounts.shared_links import SharedLinkPrincipals, SharedLinkStore
from touchline.accounts.usage import UsageRecords
from touchline.accounts.webhooks import Webhooks
from touchline.auth.api_keys import ApiKeyStore
from touchline.aws import clients
from touchline.aws.cognito import CognitoDirectory
from touchline.aws.sqs import SqsEventQueue, SqsMessageQueue
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.funnels.store import FunnelStore
from touchline.outgoing_webhooks.subscriptions import SubscriptionStore
from touchline.settings import AccountsSettings
from touchline.warehouse.sql import ClientSql


@cache
def settings() -> AccountsSettings:
    return AccountsSettings.from_env()


@cache
def accounts() -> Accounts:
    config = settings()
    dynamodb, table = clients.dynamodb(), config.config_table
    return Accounts(
        orgs=OrgStore(dynamodb, table),
        sites=SiteStore(dynamodb, table),
        settings=AttributionSettingsStore(dynamodb, table),
        integrations=IntegrationStore(dynamodb, table),
        syncs=SyncIntegrationStore(dynamodb, table),
        links=SharedLinkStore(dynamodb, table),
        directory=CognitoDirectory(clients.cognito(), config.user_pool_id, config.invite_delivery),
        audit=QueueAuditSink(SqsEventQueue(clients.sqs(), config.events_queue_url)),
        secrets=clients.secretsmanager(),
        warehouse=_warehouse,
        usage_records=UsageRecords(dynamodb, table),
        api_base_url=config.public_url,
        api_keys=ApiKeyStore(dynamodb, table),
        annotation_store=AnnotationStore(dynamodb, table),
        webhook_store=SubscriptionStore(dynamodb, table),
        funnels=FunnelStore(dynamodb, table),
    )


@cache
def webhook_service() -> Webhooks:
    service, config = accounts(), settings()
    assert service.webhook_store is not None
    queue = config.outgoing_webhooks_queue_url
    return Webhooks(
        service,
        service.webhook_store,
        SqsMessageQueue(clients.sqs(), queue) if queue else None,
        allow_loopback=config.webhooks_allow_loopback,
        warehouse=_warehouse,
    )


@cache
def annotation_service() -> Annotations:
    service = accounts()
    assert service.annotation_store is not None
    return Annotations(service, service.annotation_store)


def _warehouse() -> ClientSql:
    from touchline.load.service import warehouse_client

    return ClientSql(warehouse_client())


@cache
def people() -> PeopleResolver:
    config = settings()
    dynamodb = clients.dynamodb()
    return PeopleResolver(
        OrgStore(dynamodb, config.config_table), dynamodb, config.config_table, config.cache_seconds
    )


@cache
def shared_links() -> SharedLinkPrincipals:
    """Shared-link session tokens → principals, cached like memberships."""
    config = settings()
    return SharedLinkPrincipals(
        SharedLinkStore(clients.dynamodb(), config.config_table), config.cache_seconds
    )


def region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def reset() -> None:
    """Forget the built parts (tests change the environment between cases)."""
    settings.cache_clear()
    accounts.cache_clear()
    annotation_service.cache_clear()
    webhook_service.cache_clear()
    people.cache_clear()
    shared_links.cache_clear()
