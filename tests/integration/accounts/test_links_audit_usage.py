"""Shared links end to end (real Argon2id, sessions, revocation within the cache TTL, lockout),
the audit log through the queue and the loader into ClickHouse, usage against the limit, and
that no secret used along the way reaches a log line or a warehouse table."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import boto3
import pytest

from accounts_world import World, drain_into_warehouse, operator
from factories import envelope_bodies, sqs_event
from helpers import TABLE, LambdaContextStub, load_handler_module
from touchline.accounts import wiring
from touchline.accounts.permissions import Permission, Role
from touchline.accounts.shared_links import MAX_FAILURES, SharedLinkPrincipals, SharedLinkStore
from touchline.warehouse.client import connect


def test_a_password_protected_link_opens_a_one_site_session_until_revoked(world: World) -> None:
    owner = world.a.members[Role.OWNER]
    status, created, _ = world.request(
        "POST",
        f"/api/v1/sites/{world.a.site_id}/shared-links",
        user=owner,
        body={"name": "board", "password": "s3cret-board-pass"},
    )
    assert status == 201 and created["password_protected"] and created["link"].startswith("tlsh_")
    link = created["link"]
    # The link itself is never shown again.
    _, listed, _ = world.request("GET", f"/api/v1/sites/{world.a.site_id}/shared-links", user=owner)
    assert all("link" not in entry for entry in listed) and created["link_id"] in {
        e["link_id"] for e in listed
    }

    assert world.request("POST", "/api/v1/shared-links/session", body={"link": link})[0] == 401
    assert (
        world.request(
            "POST", "/api/v1/shared-links/session", body={"link": link, "password": "wrong-password"}
        )[0]
        == 401
    )
    tampered = link.replace(world.a.site_id, world.b.site_id)
    assert (
        world.request(
            "POST", "/api/v1/shared-links/session", body={"link": tampered, "password": "s3cret-board-pass"}
        )[0]
        == 401
    )
    status, session, _ = world.request(
        "POST", "/api/v1/shared-links/session", body={"link": link, "password": "s3cret-board-pass"}
    )
    assert status == 201 and session["site_id"] == world.a.site_id

    bearer = {"authorization": f"Bearer {session['token']}"}
    status, opened, _ = world.request("GET", "/api/v1/shared-links/session", headers=bearer)
    assert (status, opened["site_id"], opened["permissions"]) == (200, world.a.site_id, ["stats:read"])
    # The session is no Cognito token: people's routes do not take it (the authorizer would
    # refuse it in AWS; without claims the function does too).
    assert world.request("GET", f"/api/v1/sites/{world.a.site_id}", headers=bearer)[0] == 401

    assert (
        world.request(
            "DELETE", f"/api/v1/sites/{world.a.site_id}/shared-links/{created['link_id']}", user=owner
        )[0]
        == 204
    )
    # Within the cache TTL the container may still honour it (the next test holds that window
    # to the second); once its cached entries expire it does not.
    wiring.shared_links.cache_clear()
    assert world.request("GET", "/api/v1/shared-links/session", headers=bearer)[0] == 401
    assert (
        world.request(
            "POST", "/api/v1/shared-links/session", body={"link": link, "password": "s3cret-board-pass"}
        )[0]
        == 401
    )


def test_a_revoked_link_stops_working_within_the_cache_ttl(world: World) -> None:
    ddb = boto3.client("dynamodb")
    store = SharedLinkStore(ddb, TABLE)
    token, link = store.create(world.a.site_id, world.a.org_id, name="wall screen")
    session = store.open_session(token, None)
    now = [1000.0]
    principals = SharedLinkPrincipals(store, ttl_seconds=60, clock=lambda: now[0])
    principal = principals.principal(session.token)
    assert principal is not None and principal.scopes == frozenset({Permission.STATS_READ})
    assert principal.site_ids == frozenset({world.a.site_id})
    store.revoke(world.a.site_id, link.link_id)
    now[0] += 59
    assert principals.principal(session.token) is not None  # still cached: the documented window
    now[0] += 2
    assert principals.principal(session.token) is None


def test_link_passwords_are_argon2id_hashes_and_guessing_is_locked_out(world: World) -> None:
    ddb = boto3.client("dynamodb")
    store = SharedLinkStore(ddb, TABLE)  # the real profile
    token, link = store.create(world.a.site_id, world.a.org_id, password="correct horse battery")
    item = ddb.get_item(
        TableName=TABLE, Key={"pk": {"S": f"SITE#{world.a.site_id}"}, "sk": {"S": f"SHARE#{link.link_id}"}}
    )["Item"]
    assert item["password_hash"]["S"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert "correct horse battery" not in json.dumps(item) and token.split(".")[-1] not in json.dumps(item)
    fast = SharedLinkStore(ddb, TABLE, hasher=store._hasher)
    for _ in range(MAX_FAILURES):
        with pytest.raises(Exception, match="wrong password"):
            fast.open_session(token, "guess")
    with pytest.raises(Exception, match="too many"):
        fast.open_session(token, "correct horse battery")


def test_the_audit_log_records_who_did_what_from_where_and_what_was_refused(world: World) -> None:
    owner, viewer = world.a.members[Role.OWNER], world.a.members[Role.VIEWER]
    started = datetime.now(UTC)
    world.request("PATCH", f"/api/v1/sites/{world.a.site_id}", user=owner, body={"half_life_days": 3.5})
    world.request("PATCH", f"/api/v1/sites/{world.a.site_id}", user=viewer, body={"half_life_days": 1})
    world.request("GET", f"/api/v1/sites/{world.b.site_id}", user=owner)
    drain_into_warehouse(world)

    status, page, _ = world.request(
        "GET", "/api/v1/audit", user=owner, query={"org_id": world.a.org_id, "since": started.isoformat()}
    )
    assert status == 200
    entries = page["entries"]
    update = next(e for e in entries if e["action"] == "site.update" and e["outcome"] == "success")
    assert update["actor_id"] == owner and update["site_id"] == world.a.site_id
    assert update["details"] == {"half_life_days": 3.5}
    assert (update["source_ip"], update["user_agent"]) == ("198.51.100.7", "pytest")
    denied = next(e for e in entries if e["outcome"] == "denied")
    assert denied["actor_id"] == viewer and denied["details"]["decision"] == "forbidden"
    # The stranger's look at B's site is in B's log, not A's.
    _, theirs, _ = world.request(
        "GET",
        "/api/v1/audit",
        user=world.b.members[Role.OWNER],
        query={"org_id": world.b.org_id, "outcome": "denied"},
    )
    assert any(e["actor_id"] == owner and e["details"]["decision"] == "not_found" for e in theirs["entries"])
    assert all(e["org_id"] == world.a.org_id for e in entries)
    filtered = world.request(
        "GET",
        "/api/v1/audit",
        user=owner,
        query={"org_id": world.a.org_id, "action": "site.update", "limit": "1"},
    )[1]
    assert len(filtered["entries"]) == 1


def test_each_sign_in_is_recorded_once(world: World) -> None:
    person = world.fresh_member(world.a, Role.EDITOR)
    for session in ("first-session", "first-session", "second-session", "first-session"):
        status, _, _ = world.request("GET", "/api/v1/me", claims={"sub": person, "origin_jti": session})
        assert status == 200
    drain_into_warehouse(world)
    rows = (
        connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
        .query(
            "SELECT target_id FROM audit_log FINAL WHERE action = 'auth.sign_in' AND actor_id = {p:String}",
            parameters={"p": person},
        )
        .result_rows
    )
    assert sorted(r[0] for r in rows) == ["first-session", "second-session"]


def test_usage_counts_stored_events_per_month_and_only_warns_over_the_limit(world: World) -> None:
    bodies = envelope_bodies(30, site_id=world.a.site_id, start=datetime(2026, 9, 3, tzinfo=UTC))
    load_handler_module("loader").handler(sqs_event(bodies), LambdaContextStub())
    billing, viewer = world.a.members[Role.BILLING], world.a.members[Role.VIEWER]
    assert world.request("GET", "/api/v1/usage", user=viewer, query={"org_id": world.a.org_id})[0] == 403
    status, usage, headers = world.request(
        "GET", "/api/v1/usage", user=billing, query={"org_id": world.a.org_id, "month": "2026-09"}
    )
    assert status == 200 and usage["events"] == 30 and usage["by_site"][world.a.site_id] == 30
    assert "X-Touchline-Usage-Warning" not in headers
    assert (
        world.request("PATCH", f"/api/v1/orgs/{world.a.org_id}", user=billing, body={"event_limit": 25})[0]
        == 200
    )
    status, usage, headers = world.request(
        "GET", "/api/v1/usage", user=billing, query={"org_id": world.a.org_id, "month": "2026-09"}
    )
    assert usage["over_limit"] and usage["limit"] == 25
    assert headers["X-Touchline-Usage-Warning"].startswith("30 events in 2026-09, over the limit of 25")
    # Redelivered hits count once.
    load_handler_module("loader").handler(sqs_event(bodies), LambdaContextStub())
    over = world.ops.check_usage(datetime(2026, 9, 1, tzinfo=UTC).date())
    assert [(u.org_id, u.events) for u in over] == [(world.a.org_id, 30)]
    assert (
        world.request("PATCH", f"/api/v1/orgs/{world.a.org_id}", user=billing, body={"event_limit": None})[0]
        == 200
    )


def test_the_hourly_check_publishes_the_metric(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    world.ops.update_org(operator(), world.b.org_id, event_limit=1)
    load_handler_module("loader").handler(
        sqs_event(
            envelope_bodies(3, site_id=world.b.site_id, start=datetime.now(UTC).replace(day=1, hour=0))
        ),
        LambdaContextStub(),
    )
    result = world.app.handler({"action": "check_usage"}, LambdaContextStub())
    assert world.b.org_id in result["over_limit"]
    out = capfd.readouterr().out
    metric_lines = [json.loads(line) for line in out.splitlines() if '"OrganisationsOverEventLimit"' in line]
    assert metric_lines and metric_lines[-1]["OrganisationsOverEventLimit"] == [
        float(len(result["over_limit"]))
    ]
    world.ops.update_org(operator(), world.b.org_id, event_limit=None)


def test_no_secret_reaches_a_log_line_or_the_warehouse(
    world: World, capfd: pytest.CaptureFixture[str]
) -> None:
    owner = world.a.members[Role.OWNER]
    used: list[str] = []
    # The function's log lines as Lambda writes them (its JSON formatter, extras included): the
    # logger's own stream is whichever stdout was current when the module was first imported.
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(world.app.api.logger.registered_formatter)
    logging.getLogger("accounts").addHandler(handler)
    _, invited, _ = world.request(
        "POST",
        f"/api/v1/orgs/{world.a.org_id}/members",
        user=owner,
        body={"email": "secretive@a.example.com", "role": "editor"},
    )
    used.append(invited["temporary_password"])
    webhook_secret = "whsec_" + "Z9y8X7w6V5u4T3s2R1q0"
    world.request(
        "POST",
        f"/api/v1/sites/{world.a.site_id}/integrations",
        user=owner,
        body={"provider": "stripe", "secret": webhook_secret},
    )
    used.append(webhook_secret)
    password = "link-password-7Hq!"
    _, link, _ = world.request(
        "POST", f"/api/v1/sites/{world.a.site_id}/shared-links", user=owner, body={"password": password}
    )
    used += [password, link["link"], link["link"].split(".")[-1]]
    _, session, _ = world.request(
        "POST", "/api/v1/shared-links/session", body={"link": link["link"], "password": password}
    )
    used.append(session["token"])
    world.request(
        "POST", "/api/v1/shared-links/session", body={"link": link["link"], "password": password + "x"}
    )
    world.request(
        "POST",
        f"/api/v1/sites/{world.a.site_id}/integrations",
        user=world.a.members[Role.VIEWER],
        body={"provider": "shopify", "secret": webhook_secret + "2"},
    )
    used.append(webhook_secret + "2")
    drain_into_warehouse(world)

    logging.getLogger("accounts").removeHandler(handler)
    captured = capfd.readouterr()
    logs = lines.getvalue() + captured.out + captured.err
    assert '"message":"rejected request"' in logs  # the logs were captured (the viewer's 403 is logged)
    assert '"code":"forbidden"' in logs
    for secret in used:
        assert secret not in logs, "a secret reached the logs"
    client = connect(world.env["TOUCHLINE_CLICKHOUSE_URL"])
    tables = [r[0] for r in client.query("SHOW TABLES").result_rows]
    assert "audit_log" in tables
    for table in tables:
        text = json.dumps(client.query(f"SELECT * FROM `{table}`").result_rows, default=str)
        for secret in used:
            assert secret not in text, f"a secret reached {table}"
