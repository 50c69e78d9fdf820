"""Who may query what, through the real QueryFunction: people by role (`POST /api/v1/query`, behind
the JWT authorizer), account-wide and per-site API keys and shared-link sessions
(`POST /api/v2/query`), and refused keys in the audit log."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from accounts_world import World, api_event, drain_into_warehouse, operator
from factories import envelope_bodies, sqs_event
from helpers import LambdaContextStub, load_handler_module
from touchline.accounts.permissions import Role
from touchline.query import service as query_service
from touchline.warehouse.client import connect


@pytest.fixture(scope="module")
def query_app(world: World) -> Iterator[ModuleType]:
    bodies = envelope_bodies(12, site_id=world.a.site_id, start=datetime(2026, 11, 3, tzinfo=UTC))
    assert (
        load_handler_module("loader").handler(sqs_event(bodies), LambdaContextStub())["batchItemFailures"]
        == []
    )
    for cached in (query_service.api, query_service.people, query_service.audit_sink):
        cached.cache_clear()
    yield load_handler_module("query")
    for cached in (query_service.api, query_service.people, query_service.audit_sink):
        cached.cache_clear()


def ask(
    app: ModuleType, site_id: str, *, claims: dict[str, str] | None = None, bearer: str | None = None
) -> tuple[int, Any]:
    path = "/api/v1/query" if claims is not None else "/api/v2/query"
    body = {
        "site_id": site_id,
        "metrics": ["visitors", "pageviews"],
        "date_range": ["2026-11-01", "2026-11-30"],
    }
    event = api_event("POST", path, claims=claims, body=body)
    if bearer:
        event["headers"]["authorization"] = f"Bearer {bearer}"
    answer = app.handler(event, LambdaContextStub())
    return answer["statusCode"], json.loads(answer["body"])


def test_people_read_stats_by_role_and_never_another_organisations(
    world: World, query_app: ModuleType
) -> None:
    for role in Role:
        claims = world.caller(world.a.members[role])
        status, answer = ask(query_app, world.a.site_id, claims=claims)
        if role is Role.BILLING:  # no stats:read
            assert status == 401, answer
        else:
            assert status == 200, answer
            assert answer["results"][0]["metrics"] == [12, 10]  # 12 visitors, 10 pageviews
        assert ask(query_app, world.b.site_id, claims=claims)[0] == 401
    assert ask(query_app, world.a.site_id, claims={})[0] == 401


def test_an_account_wide_key_reads_every_site_of_its_organisation_only(
    world: World, query_app: ModuleType
) -> None:
    owner = world.a.members[Role.OWNER]
    status, created, _ = world.request(
        "POST", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner, body={"name": "ci"}
    )
    assert status == 201 and created["site_ids"] is None and created["key"].startswith("tlk_")
    later_site = world.fresh_site(world.a)  # account-wide: sites added later too
    assert ask(query_app, world.a.site_id, bearer=created["key"])[0] == 200
    assert ask(query_app, later_site, bearer=created["key"])[0] == 200
    assert ask(query_app, world.b.site_id, bearer=created["key"])[0] == 401
    status, scoped, _ = world.request(
        "POST", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner, body={"site_ids": [later_site]}
    )
    assert status == 201 and scoped["site_ids"] == [later_site]
    assert ask(query_app, world.a.site_id, bearer=scoped["key"])[0] == 401
    listed = world.request("GET", f"/api/v1/orgs/{world.a.org_id}/api-keys", user=owner)[1]
    assert {created["key_id"], scoped["key_id"]} <= {k["key_id"] for k in listed}
    assert all("key" not in k for k in listed)
    # Keys of one organisation cannot be revoked (or seen) through another.
    other_owner = world.b.members[Role.OWNER]
    assert (
        world.request(
            "DELETE", f"/api/v1/orgs/{world.b.org_id}/api-keys/{created['key_id']}", user=other_owner
        )[0]
        == 404
    )


def test_a_shared_link_session_queries_its_site_and_nothing_else(world: World, query_app: ModuleType) -> None:
    token, _ = world.ops.create_shared_link(operator(), world.a.site_id, "tv")
    status, session, _ = world.request("POST", "/api/v1/shared-links/session", body={"link": token})
    assert status == 201
    assert ask(query_app, world.a.site_id, bearer=session["token"])[0] == 200
    other = world.fresh_site(world.a)
    assert ask(query_app, other, bearer=session["token"])[0] == 401
    assert ask(query_app, world.b.site_id, bearer=session["token"])[0] == 401


def test_refused_keys_are_audited(world: World, query_app: ModuleType) -> None:
    key, record = world.ops.create_api_key(
        operator(), world.a.org_id, name="to revoke", site_ids=[world.a.site_id]
    )
    assert ask(query_app, world.a.site_id, bearer=key)[0] == 200
    assert ask(query_app, world.b.site_id, bearer=key)[0] == 401  # a site it may not read
    world.ops.revoke_api_key(operator(), world.a.org_id, record.key_id)
    query_service.api.cache_clear()  # past the key cache's TTL
    assert ask(query_app, world.a.site_id, bearer=key)[0] == 401
    drain_into_warehouse(world)
    rows = (
        connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
        .query(
            "SELECT org_id, site_id, actor_type, actor_id FROM audit_log FINAL "
            "WHERE action = 'query.denied' AND actor_id = {key:String} ORDER BY at",
            parameters={"key": record.key_id},
        )
        .result_rows
    )
    assert [tuple(r) for r in rows] == [
        (world.b.org_id, world.b.site_id, "api_key", record.key_id),
        (world.a.org_id, world.a.site_id, "api_key", record.key_id),
    ]


def test_a_query_that_opens_a_cognito_session_is_its_sign_in(world: World, query_app: ModuleType) -> None:
    """A script that only queries is seen signing in too; the session is recorded once, whichever
    function sees it first."""
    viewer = world.fresh_member(world.a, Role.VIEWER)
    session = f"query-{uuid.uuid4().hex}"
    claims = {"sub": viewer, "origin_jti": session, "token_use": "access"}
    assert ask(query_app, world.a.site_id, claims=claims)[0] == 200
    assert ask(query_app, world.a.site_id, claims=claims)[0] == 200
    assert world.request("GET", "/api/v1/me", claims=claims)[0] == 200
    drain_into_warehouse(world)
    rows = (
        connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
        .query(
            "SELECT org_id, actor_type, actor_id, source_ip, user_agent FROM audit_log FINAL "
            "WHERE action = 'auth.sign_in' AND target_id = {session:String}",
            parameters={"session": session},
        )
        .result_rows
    )
    assert rows == [(world.a.org_id, "person", viewer, "198.51.100.7", "pytest")]
