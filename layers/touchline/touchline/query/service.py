"""Wires the query API from settings: the real adapters, built once per Lambda container."""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any

from touchline.accounts.annotations import AnnotationStore
from touchline.accounts.audit import AuditSink, QueueAuditSink, RequestContext, sign_in_rows
from touchline.accounts.orgs import OrgStore
from touchline.accounts.people import PeopleResolver
from touchline.accounts.permissions import Principal
from touchline.accounts.query_access import (
    AuditedDenials,
    ChainAuthenticator,
    PersonReader,
    SharedLinkAuthenticator,
    key_owner,
)
from touchline.accounts.shared_links import SharedLinkPrincipals, SharedLinkStore
from touchline.auth.api_keys import ApiKeyAuthenticator, ApiKeyStore
from touchline.auth.rate_limit import RateLimiter
from touchline.aws import clients
from touchline.aws.sqs import SqsEventQueue
from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.sites import SiteStore
from touchline.config.watermarks import DynamoWatermarks
from touchline.funnels.store import FunnelStore
from touchline.query.api import ApiResponse, QueryApi
from touchline.query.cache import MemoryCache
from touchline.query.engine import QueryEngine
from touchline.query.realtime import Realtime
from touchline.query.sites import SiteContexts
from touchline.query.sql import ClientWarehouse, PooledWarehouse
from touchline.settings import QuerySettings, WarehouseSettings

# Every query is a bounded read: a statement runs at most this long, and may not write.
# FINAL collapses rows within each partition only: every partitioned table the engine reads
# (events, sessions, carts, video) has its partition key fixed by the row's identity (a
# redelivery or a new version lands in the same partition), so the answer is the same, and a
# partition that is one merged part is read as it is, without the sorted merge: sessions FINAL
# over 30 days of 1M sessions took 20x as long as the plain read (docs/query-api.md).
QUERY_SETTINGS = {"max_execution_time": 20, "readonly": 2, "do_not_merge_across_partitions_select_final": 1}
# How many of a batch's queries run at once (each on its own ClickHouse client).
BATCH_WORKERS = 4


@cache
def api() -> QueryApi:
    from touchline.load.service import clickhouse_url
    from touchline.warehouse.client import connect

    settings = QuerySettings.from_env()
    dynamodb = clients.dynamodb()
    table = settings.config_table
    url = clickhouse_url(WarehouseSettings.from_env())
    # Clients of their own, up to BATCH_WORKERS at once: a batch's queries run in parallel. The
    # embedded engine shares this machine's cores with them, so they divide those cores; a
    # server's cores are its own, and its default (all of them per statement) stands.
    cores = (os.cpu_count() or 1) if url.startswith("chdb:") else None

    def client() -> ClientWarehouse:
        return ClientWarehouse(connect(url), QUERY_SETTINGS, max_threads=warehouse.thread_share)

    warehouse = PooledWarehouse(client, size=BATCH_WORKERS, cores=cores)
    engine = QueryEngine(
        warehouse,
        cache=MemoryCache(max_entries=settings.cache_entries, ttl_seconds=settings.cache_seconds),
    )
    sites = SiteContexts(
        SiteStore(dynamodb, table),
        AttributionSettingsStore(dynamodb, table),
        DynamoWatermarks(dynamodb, table),
        ttl_seconds=settings.site_cache_seconds,
    )
    keys = ApiKeyStore(dynamodb, table)
    links = SharedLinkPrincipals(SharedLinkStore(dynamodb, table), ttl_seconds=settings.people_cache_seconds)
    sink = audit_sink()
    denials = AuditedDenials(sink, key_owner(keys, SiteStore(dynamodb, table))) if sink else None
    return QueryApi(
        engine,
        ChainAuthenticator(
            ApiKeyAuthenticator(keys, ttl_seconds=settings.key_cache_seconds), SharedLinkAuthenticator(links)
        ),
        sites,
        RateLimiter(dynamodb, table),
        default_rate_limit=settings.default_rate_limit,
        denials=denials,
        annotations=AnnotationStore(dynamodb, table),
        realtime=Realtime(warehouse),
        funnels=FunnelStore(dynamodb, table),
        goal_settings=AttributionSettingsStore(dynamodb, table),
        batch_workers=BATCH_WORKERS,
    )


@cache
def people() -> tuple[PeopleResolver, PersonReader]:
    """Signed-in people (claims the JWT authorizer verified) → the sites they may read."""
    settings = QuerySettings.from_env()
    dynamodb = clients.dynamodb()
    orgs = OrgStore(dynamodb, settings.config_table)
    resolver = PeopleResolver(orgs, dynamodb, settings.config_table, settings.people_cache_seconds)
    return resolver, PersonReader(orgs, settings.people_cache_seconds)


def people_query(
    claims: Mapping[str, Any], body: bytes, event: Mapping[str, Any] | None = None
) -> ApiResponse:
    """`POST /api/v1/query`: a person whose token the JWT authorizer verified, through the same
    authorisation and engine as a key (no key, so no key rate limit)."""
    resolver, reader = people()
    person = resolver.principal(claims)
    if person is None:
        return ApiResponse(401, {"error": "Sign in: send a Cognito token as Authorization: Bearer."})
    note_sign_in(person, claims, event or {})
    return api().query_as(reader.principal(person), body)


def people_realtime(
    claims: Mapping[str, Any], site_ref: str | None, event: Mapping[str, Any] | None = None
) -> ApiResponse:
    """`GET /api/v1/realtime`: a signed-in person, on the sites their role reads stats of."""
    resolver, reader = people()
    person = resolver.principal(claims)
    if person is None:
        return ApiResponse(401, {"error": "Sign in: send a Cognito token as Authorization: Bearer."})
    note_sign_in(person, claims, event or {})
    return api().realtime_as(reader.principal(person), site_ref)


def people_funnel(claims: Mapping[str, Any], funnel_id: str, params: Mapping[str, str]) -> ApiResponse:
    """`GET /api/v1/funnels/{id}`: a funnel's figures for a signed-in person."""
    resolver, reader = people()
    person = resolver.principal(claims)
    if person is None:
        return ApiResponse(401, {"error": "Sign in: send a Cognito token as Authorization: Bearer."})
    return api().funnel_as(reader.principal(person), funnel_id, params)


def people_goal_conversions(claims: Mapping[str, Any], params: Mapping[str, str]) -> ApiResponse:
    """`GET /api/v1/goal-conversions`: a site's goal completions for a signed-in person."""
    resolver, reader = people()
    person = resolver.principal(claims)
    if person is None:
        return ApiResponse(401, {"error": "Sign in: send a Cognito token as Authorization: Bearer."})
    return api().goal_conversions_as(reader.principal(person), params)


@cache
def audit_sink() -> AuditSink | None:
    """Audit rows through the events queue (None where no queue is configured)."""
    settings = QuerySettings.from_env()
    if not settings.events_queue_url:
        return None
    return QueueAuditSink(SqsEventQueue(clients.sqs(), settings.events_queue_url))


def note_sign_in(person: Principal, claims: Mapping[str, str], event: Mapping[str, Any]) -> None:
    """A person whose first request of a Cognito session is a query: their sign-in is audited
    here, as AccountsFunction does for the management API (the session is claimed once, in the
    config table, whichever function sees it first)."""
    resolver, _ = people()
    sink = audit_sink()
    session = resolver.new_sign_in(claims) if sink is not None else None
    if sink is not None and session is not None:
        sink.record(sign_in_rows(person, session, RequestContext.of(event)))
