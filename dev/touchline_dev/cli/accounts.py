"""The accounts domain (`touchline.accounts.service.Accounts`) for CLI commands: the same
functions the management API calls, with the operator (whoever holds the AWS credentials or the
local data dir) as the caller.

Locally: the data dir's moto (DynamoDB, Cognito, Secrets Manager; the running stack's when there
is one) and invitations that print the temporary password. Deployed (`TOUCHLINE_CONFIG_TABLE`
and `TOUCHLINE_USER_POOL_ID` set): the stack's table and user pool, and Cognito emails it.
Audit rows go through the running stack's queue, or straight to the warehouse.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from touchline.accounts.annotations import AnnotationStore
from touchline.accounts.audit import AUDIT_COLUMNS, AuditRow, AuditSink, ListAuditSink, QueueAuditSink
from touchline.accounts.orgs import OrgStore
from touchline.accounts.permissions import Principal
from touchline.accounts.service import Accounts, Caller
from touchline.accounts.shared_links import SharedLinkStore
from touchline.accounts.usage import UsageRecords
from touchline.auth.api_keys import ApiKeyStore
from touchline.aws.cognito import CognitoDirectory
from touchline.aws.sqs import SqsEventQueue
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import InvalidDomain, Site, SiteStore, normalize_domain
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.errors import RequestError
from touchline.funnels.store import FunnelStore
from touchline.outgoing_webhooks.subscriptions import SubscriptionStore
from touchline_dev.cli import context
from touchline_dev.cli.errors import CliError
from touchline_dev.cli.warehouse_sql import warehouse_sql


def operator() -> Caller:
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "operator"
    return Caller(Principal.operator(f"cli:{name}"))


@cache
def _warehouse(directory: Path) -> Any:
    """One client per process: the embedded engine opens its directory once."""
    return context.warehouse(directory)


class WarehouseAuditSink:
    """Inserts audit rows straight into ClickHouse (no stack to queue them for)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def record(self, rows: Sequence[AuditRow]) -> None:
        if not rows:
            return
        client = _warehouse(self._directory)
        if context.warehouse_url(self._directory).startswith("chdb://"):
            # The operator's own embedded warehouse: a data dir no stack has run on yet has no
            # audit_log until it is migrated, and a change the CLI made must not go unrecorded.
            from touchline.warehouse.migrate import migrate

            migrate(client)
        data = [[getattr(row, column) for column in AUDIT_COLUMNS] for row in rows]
        client.insert("audit_log", data, column_names=list(AUDIT_COLUMNS))


@contextmanager
def accounts(directory: Path) -> Iterator[Accounts]:
    """The accounts service for one command; its audit rows are written when it ends."""
    pending = ListAuditSink()
    deployed = os.environ.get("TOUCHLINE_CONFIG_TABLE")
    if deployed:
        import boto3

        pool = os.environ.get("TOUCHLINE_USER_POOL_ID", "")
        queue_url = os.environ.get("TOUCHLINE_EVENTS_QUEUE_URL", "")
        sink: AuditSink = (
            QueueAuditSink(SqsEventQueue(boto3.client("sqs"), queue_url))
            if queue_url
            else WarehouseAuditSink(directory)
        )
        yield _build(
            boto3.client("dynamodb"),
            deployed,
            CognitoDirectory(boto3.client("cognito-idp"), pool, "email") if pool else _NoDirectory(),
            boto3.client("secretsmanager"),
            pending,
            directory,
        )
        sink.record(pending.rows)
        return
    from touchline_dev.devstack.state import local_aws

    with local_aws(directory) as aws:
        try:
            pool_id = aws.user_pool_id()
        except KeyError as exc:
            raise CliError(str(exc)) from None
        yield _build(
            aws.client("dynamodb"),
            aws.table_name("ConfigTable"),
            CognitoDirectory(aws.client("cognito-idp"), pool_id, "return"),
            aws.client("secretsmanager"),
            pending,
            directory,
        )
        if context.running_stack(directory) is not None:
            QueueAuditSink(SqsEventQueue(aws.client("sqs"), aws.queue_url("EventsQueue"))).record(
                pending.rows
            )
            return
    WarehouseAuditSink(directory).record(pending.rows)


class _NoDirectory:
    def invite(self, email: str) -> Any:
        raise CliError("set TOUCHLINE_USER_POOL_ID (the stack's UserPoolId output) to invite people")


def _build(
    dynamodb: Any, table: str, directory: Any, secrets: Any, sink: AuditSink, data_dir: Path
) -> Accounts:
    return Accounts(
        orgs=OrgStore(dynamodb, table),
        sites=SiteStore(dynamodb, table),
        settings=AttributionSettingsStore(dynamodb, table),
        integrations=IntegrationStore(dynamodb, table),
        syncs=SyncIntegrationStore(dynamodb, table),
        links=SharedLinkStore(dynamodb, table),
        directory=directory,
        audit=sink,
        secrets=secrets,
        warehouse=lambda: warehouse_sql(data_dir),
        usage_records=UsageRecords(dynamodb, table),
        api_keys=ApiKeyStore(dynamodb, table),
        annotation_store=AnnotationStore(dynamodb, table),
        webhook_store=SubscriptionStore(dynamodb, table),
        funnels=FunnelStore(dynamodb, table),
    )


def find_org(service: Accounts, value: str) -> str:
    """An organisation id from its id or its (unique) name."""
    if service.orgs.get(value) is not None:
        return value
    named = [org for org in service.orgs.all() if org.name.lower() == value.strip().lower()]
    if len(named) == 1:
        return named[0].org_id
    if len(named) > 1:
        raise CliError(f"{len(named)} organisations are named {value!r}: use the id (touchline orgs list)")
    raise CliError(f"no organisation {value!r}: touchline orgs list shows them")


def find_site(service: Accounts, value: str) -> Site:
    """A site from its id or domain."""
    found = service.sites.by_id(value)
    if found is None:
        try:
            found = service.sites.by_domain(normalize_domain(value))
        except InvalidDomain:
            found = None
    if found is None:
        raise CliError(f"no site {value!r}: touchline sites list shows them")
    return found


def find_member(service: Accounts, org_id: str, value: str) -> str:
    """A member's user id from it or their email."""
    for member in service.orgs.members(org_id):
        if value in (member.user_id, member.email) or value.strip().lower() == member.email:
            return member.user_id
    raise CliError(f"no member {value!r} in {org_id}: touchline members list {org_id}")


def fail(error: RequestError) -> CliError:
    return CliError(error.message)
