"""A world for the accounts tests: moto (config table, events queue, Cognito pool, Secrets Manager),
the embedded ClickHouse, the real AccountsFunction handler, and two organisations.

Organisation A has one member of every role and a site with a goal, an integration and a shared
link; organisation B has the same kinds of things, none of which A's people may see. Events are
the payload 2.0 events API Gateway sends after its JWT authorizer passed (the claims in
`requestContext.authorizer.jwt`): the authorizer itself is tested in the devstack tests and e2e.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from argon2 import PasswordHasher
from moto import mock_aws

from factories import sqs_event
from helpers import LambdaContextStub, LocalAwsStack, load_handler_module
from touchline.accounts import wiring
from touchline.accounts.annotations import Annotations, AnnotationStore
from touchline.accounts.audit import ListAuditSink
from touchline.accounts.orgs import OrgStore
from touchline.accounts.permissions import Principal, Role
from touchline.accounts.service import Accounts, Caller
from touchline.accounts.shared_links import SharedLinkStore
from touchline.accounts.usage import UsageRecords
from touchline.accounts.webhooks import Webhooks
from touchline.auth.api_keys import ApiKeyStore
from touchline.aws import clients
from touchline.aws.cognito import CognitoDirectory
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.integrations import IntegrationStore
from touchline.config.sites import SiteStore
from touchline.config.sync_integrations import SyncIntegrationStore
from touchline.funnels.store import FunnelStore
from touchline.load import service as load_service
from touchline.outgoing_webhooks.subscriptions import SubscriptionStore
from touchline.warehouse.client import connect
from touchline.warehouse.migrate import migrate
from touchline.warehouse.sql import ClientSql

ROLES = list(Role)
# A cheap Argon2id for the many links the matrix makes; the real profile is tested on its own.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


# A public address literal: saved without a DNS lookup (none is possible here).
PUBLIC_HOOK = "https://93.184.216.34/hooks/touchline"


@dataclass
class Org:
    org_id: str
    site_id: str
    members: dict[Role, str] = field(default_factory=dict)  # role -> user id
    link_id: str = ""


@dataclass
class World:
    app: ModuleType
    ops: Accounts  # the operator's view, for setting things up
    a: Org
    b: Org
    env: dict[str, str]

    def caller(self, user_id: str) -> dict[str, str]:
        return {"sub": user_id, "origin_jti": f"session-{user_id}", "token_use": "access"}

    def request(
        self,
        method: str,
        path: str,
        *,
        user: str | None = None,
        claims: dict[str, str] | None = None,
        body: Any = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, dict[str, str]]:
        claims = claims or (self.caller(user) if user else None)
        event = api_event(method, path, claims=claims, body=body, query=query)
        event["headers"].update(headers or {})
        response = self.app.handler(event, LambdaContextStub())
        raw = response.get("body") or ""
        return response["statusCode"], json.loads(raw) if raw else None, response.get("headers") or {}

    def fresh_site(self, org: Org) -> str:
        return self.ops.add_site(operator(), org.org_id, f"s{uuid.uuid4().hex[:10]}.example.com").site_id

    def fresh_member(self, org: Org, role: Role = Role.VIEWER) -> str:
        member, _ = self.ops.invite_member(
            operator(), org.org_id, f"m{uuid.uuid4().hex[:10]}@example.com", role
        )
        return member.user_id

    def fresh_link(self, org: Org) -> str:
        return self.ops.create_shared_link(operator(), org.site_id, "fresh")[1].link_id

    def fresh_goal(self, org: Org) -> str:
        name = f"Goal {uuid.uuid4().hex[:6]}"
        self.ops.add_goal(operator(), org.site_id, name, None, "")
        return name

    def fresh_funnel(self, org: Org) -> str:
        steps = [{"page": "/"}, {"goal": "Signup"}]
        return self.ops.create_funnel(
            operator(), org.site_id, f"Funnel {uuid.uuid4().hex[:6]}", steps
        ).funnel_id

    def fresh_key(self, org: Org) -> str:
        return self.ops.create_api_key(operator(), org.org_id, name="fresh")[1].key_id

    def fresh_annotation(self, org: Org) -> str:
        assert self.ops.annotation_store is not None
        notes = Annotations(self.ops, self.ops.annotation_store)
        return notes.create(operator(), org.site_id, date(2026, 11, 3), "launch", ["release"]).annotation_id

    def fresh_webhook(self, org: Org) -> str:
        assert self.ops.webhook_store is not None
        hooks = Webhooks(self.ops, self.ops.webhook_store)
        # On a site of its own: a site keeps at most 20 webhooks.
        return hooks.create(operator(), self.fresh_site(org), PUBLIC_HOOK, ["purchase.created"])[0].webhook_id

    def fresh_integration(self, org: Org) -> str:
        site = self.fresh_site(org)
        self.ops.add_webhook_integration(operator(), site, "stripe", "whsec_" + "x" * 24)
        return site


def drain_into_warehouse(world: World) -> int:
    """What the loader would do with the audit rows the handlers queued."""
    sqs = boto3.client("sqs")
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=world.env["TOUCHLINE_EVENTS_QUEUE_URL"], MaxNumberOfMessages=10)
        if not got.get("Messages"):
            break
        for message in got["Messages"]:
            bodies.append(message["Body"])
            sqs.delete_message(
                QueueUrl=world.env["TOUCHLINE_EVENTS_QUEUE_URL"], ReceiptHandle=message["ReceiptHandle"]
            )
    if bodies:
        answer = load_handler_module("loader").handler(sqs_event(bodies), LambdaContextStub())
        assert answer["batchItemFailures"] == []
    return len(bodies)


def operator() -> Caller:
    return Caller(Principal.operator("test"))


def api_event(
    method: str,
    path: str,
    *,
    claims: dict[str, str] | None = None,
    body: Any = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    request_context: dict[str, Any] = {
        "http": {
            "method": method,
            "path": path,
            "sourceIp": "198.51.100.7",
            "protocol": "HTTP/1.1",
            "userAgent": "pytest",
        },
        "requestId": uuid.uuid4().hex[:16],
        "routeKey": f"{method} {path}",
        "stage": "$default",
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "headers": {"content-type": "application/json", "host": "api.example.com", "user-agent": "pytest"},
        "requestContext": request_context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = json.dumps(body)
    return event


def build_accounts(table: str, pool_id: str, warehouse_url: str, sink: Any = None) -> Accounts:
    ddb = boto3.client("dynamodb")
    return Accounts(
        orgs=OrgStore(ddb, table),
        sites=SiteStore(ddb, table),
        settings=AttributionSettingsStore(ddb, table),
        integrations=IntegrationStore(ddb, table),
        syncs=SyncIntegrationStore(ddb, table),
        links=SharedLinkStore(ddb, table, hasher=lambda: FAST_HASHER),
        directory=CognitoDirectory(boto3.client("cognito-idp"), pool_id, "return"),
        audit=sink if sink is not None else ListAuditSink(),
        secrets=boto3.client("secretsmanager"),
        warehouse=lambda: ClientSql(connect(warehouse_url)),
        usage_records=UsageRecords(ddb, table),
        api_base_url="https://api.example.com",
        api_keys=ApiKeyStore(ddb, table),
        annotation_store=AnnotationStore(ddb, table),
        webhook_store=SubscriptionStore(ddb, table),
        funnels=FunnelStore(ddb, table),
    )


def _org(ops: Accounts, name: str, domain: str) -> Org:
    org, invitation = ops.create_org(operator(), name, f"owner@{domain}")
    assert invitation is not None
    site = ops.add_site(operator(), org.org_id, domain)
    found = Org(org.org_id, site.site_id, {Role.OWNER: invitation.user_id})
    for role in ROLES[1:]:
        member, _ = ops.invite_member(operator(), org.org_id, f"{role.value}@{domain}", role)
        found.members[role] = member.user_id
    ops.add_goal(operator(), site.site_id, "Signup", None, "")
    ops.add_webhook_integration(operator(), site.site_id, "stripe", "whsec_" + "s" * 24)
    found.link_id = ops.create_shared_link(operator(), site.site_id, "board")[1].link_id
    return found


@contextmanager
def make_world(chdb_path: Path) -> Iterator[World]:
    """The template's table, queues, user pool and roles in moto, IAM enforced: the handlers run
    as their functions' roles (template.yaml), the fixtures as the operator."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        for key, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_METRICS_NAMESPACE": "Touchline",
        }.items():
            patch.setenv(key, value)
        patch.delenv("AWS_ENDPOINT_URL", raising=False)
        for cached in (clients.sqs, clients.dynamodb, clients.cognito, clients.secretsmanager):
            cached.cache_clear()
        stack = LocalAwsStack.create(user_pools=True)
        table = stack.table("ConfigTable")
        pool_id = stack.user_pools["UserPool"]
        warehouse_url = f"chdb://{chdb_path}?database=t_{uuid.uuid4().hex[:12]}"
        migrate(connect(warehouse_url))
        env = {
            "TOUCHLINE_CONFIG_TABLE": table,
            "TOUCHLINE_EVENTS_QUEUE_URL": stack.queue_url("EventsQueue"),
            # People's memberships are cached like in AWS; tests that change them use new people.
            "TOUCHLINE_SITE_CACHE_SECONDS": "60",
            "TOUCHLINE_USER_POOL_ID": pool_id,
            "TOUCHLINE_USER_POOL_CLIENT_ID": stack.user_pool_clients["UserPoolClient"],
            "TOUCHLINE_INVITE_DELIVERY": "return",
            "TOUCHLINE_CLICKHOUSE_URL": warehouse_url,
            "TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL": stack.queue_url("OutgoingWebhooksQueue"),
        }
        for key, value in env.items():
            patch.setenv(key, value)
        wiring.reset()
        load_service.reset()
        with stack.enforcing():
            ops = build_accounts(table, pool_id, warehouse_url)
            a = _org(ops, "Org A", "a.example.com")
            b = _org(ops, "Org B", "b.example.com")
            app = load_handler_module("accounts")
            wiring.reset()
            # The matrix makes many links; keep their Argon2 cheap in the handler too.
            patch.setattr(wiring.accounts().links, "_hasher", lambda: FAST_HASHER)
            yield World(app, ops, a, b, env)
        wiring.reset()
        load_service.reset()
        for cached in (clients.sqs, clients.dynamodb, clients.cognito, clients.secretsmanager):
            cached.cache_clear()
