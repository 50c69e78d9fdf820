"""Every management route, for every role, on a resource of its own and of another organisation.

For a resource of the caller's own organisation the answer is the route's success status when
the role has the route's permission (docs/accounts.md) and 403 when it does not; for the same
kind of resource in another organisation it is 404 for every role, as for an id that does not
exist. Mutating routes act on a fresh resource per case, so the cases are independent. The
template must declare each route with the Cognito authorizer (checked at the end).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from accounts_world import PUBLIC_HOOK, ROLES, Org, World, operator
from helpers import ROOT
from touchline.accounts.permissions import ROLE_PERMISSIONS, Permission, Role
from touchline_dev.devstack.template import load_template

P = Permission


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    permission: Permission
    success: int
    # (world, org) -> (path, query, body): the resource to act on, made fresh if the call changes it.
    target: Callable[[World, Org], tuple[str, dict[str, str] | None, Any]]


def site_path(suffix: str = "") -> Callable[[World, Org], tuple[str, None, None]]:
    return lambda w, o: (f"/api/v1/sites/{o.site_id}{suffix}", None, None)


ROUTES = [
    Route(
        "GET", "/api/v1/orgs/{org_id}", P.ORG_READ, 200, lambda w, o: (f"/api/v1/orgs/{o.org_id}", None, None)
    ),
    Route(
        "PATCH",
        "/api/v1/orgs/{org_id}",
        P.ORG_WRITE,
        200,
        lambda w, o: (f"/api/v1/orgs/{o.org_id}", None, {"name": "Renamed"}),
    ),
    Route(
        "PATCH",
        "/api/v1/orgs/{org_id}#limit",
        P.USAGE_WRITE,
        200,
        lambda w, o: (f"/api/v1/orgs/{o.org_id}", None, {"event_limit": 1000}),
    ),
    Route(
        "GET",
        "/api/v1/orgs/{org_id}/members",
        P.MEMBERS_READ,
        200,
        lambda w, o: (f"/api/v1/orgs/{o.org_id}/members", None, None),
    ),
    Route(
        "POST",
        "/api/v1/orgs/{org_id}/members",
        P.MEMBERS_WRITE,
        201,
        lambda w, o: (
            f"/api/v1/orgs/{o.org_id}/members",
            None,
            {"email": f"new-{id(o)}-{w.fresh_member(o)[:6]}@x.example.com", "role": "viewer"},
        ),
    ),
    Route(
        "PATCH",
        "/api/v1/orgs/{org_id}/members/{user_id}",
        P.MEMBERS_WRITE,
        200,
        lambda w, o: (f"/api/v1/orgs/{o.org_id}/members/{w.fresh_member(o)}", None, {"role": "editor"}),
    ),
    Route(
        "DELETE",
        "/api/v1/orgs/{org_id}/members/{user_id}",
        P.MEMBERS_WRITE,
        204,
        lambda w, o: (f"/api/v1/orgs/{o.org_id}/members/{w.fresh_member(o)}", None, None),
    ),
    Route(
        "POST",
        "/api/v1/sites",
        P.SITES_WRITE,
        201,
        lambda w, o: (
            "/api/v1/sites",
            None,
            {"org_id": o.org_id, "domain": f"{w.fresh_member(o)[:8]}.new.example.com"},
        ),
    ),
    Route("GET", "/api/v1/sites/{site_id}", P.SITES_READ, 200, site_path()),
    Route(
        "PATCH",
        "/api/v1/sites/{site_id}",
        P.SITES_WRITE,
        200,
        lambda w, o: (f"/api/v1/sites/{o.site_id}", None, {"lookback_days": 21}),
    ),
    Route(
        "DELETE",
        "/api/v1/sites/{site_id}",
        P.SITES_DELETE,
        204,
        lambda w, o: (f"/api/v1/sites/{w.fresh_site(o)}", None, None),
    ),
    Route("GET", "/api/v1/sites/{site_id}/goals", P.GOALS_READ, 200, site_path("/goals")),
    Route(
        "POST",
        "/api/v1/sites/{site_id}/goals",
        P.GOALS_WRITE,
        201,
        lambda w, o: (
            f"/api/v1/sites/{o.site_id}/goals",
            None,
            {"name": "Trial", "value": "5", "currency": "EUR"},
        ),
    ),
    Route(
        "PATCH",
        "/api/v1/sites/{site_id}/goals/{name}",
        P.GOALS_WRITE,
        200,
        lambda w, o: (
            f"/api/v1/sites/{o.site_id}/goals/{w.fresh_goal(o)}",
            None,
            {"track_method": "page_url", "page_pattern": "/thanks/*"},
        ),
    ),
    Route(
        "DELETE",
        "/api/v1/sites/{site_id}/goals/{name}",
        P.GOALS_WRITE,
        204,
        lambda w, o: (f"/api/v1/sites/{o.site_id}/goals/{w.fresh_goal(o)}", None, None),
    ),
    Route(
        "POST",
        "/api/v1/funnels",
        P.GOALS_WRITE,
        201,
        lambda w, o: (
            "/api/v1/funnels",
            None,
            {
                "site_id": o.site_id,
                "name": f"F {uuid.uuid4().hex[:8]}",
                "steps": [{"page": "/"}, {"page": "/x"}],
            },
        ),
    ),
    Route(
        "GET",
        "/api/v1/funnels",
        P.GOALS_READ,
        200,
        lambda w, o: ("/api/v1/funnels", {"site_id": o.site_id}, None),
    ),
    Route(
        "DELETE",
        "/api/v1/funnels/{funnel_id}",
        P.GOALS_WRITE,
        204,
        lambda w, o: (f"/api/v1/funnels/{w.fresh_funnel(o)}", {"site_id": o.site_id}, None),
    ),
    Route(
        "GET", "/api/v1/sites/{site_id}/integrations", P.INTEGRATIONS_READ, 200, site_path("/integrations")
    ),
    Route(
        "POST",
        "/api/v1/sites/{site_id}/integrations",
        P.INTEGRATIONS_WRITE,
        201,
        lambda w, o: (
            f"/api/v1/sites/{o.site_id}/integrations",
            None,
            {"provider": "shopify", "secret": "shpss_" + "k" * 20},
        ),
    ),
    Route(
        "DELETE",
        "/api/v1/sites/{site_id}/integrations/{provider}",
        P.INTEGRATIONS_WRITE,
        204,
        lambda w, o: (f"/api/v1/sites/{w.fresh_integration(o)}/integrations/stripe", None, None),
    ),
    Route(
        "GET", "/api/v1/sites/{site_id}/shared-links", P.SHARED_LINKS_READ, 200, site_path("/shared-links")
    ),
    Route(
        "POST",
        "/api/v1/sites/{site_id}/shared-links",
        P.SHARED_LINKS_WRITE,
        201,
        lambda w, o: (
            f"/api/v1/sites/{o.site_id}/shared-links",
            None,
            {"name": "tv", "password": "a long password"},
        ),
    ),
    Route(
        "DELETE",
        "/api/v1/sites/{site_id}/shared-links/{link_id}",
        P.SHARED_LINKS_WRITE,
        204,
        lambda w, o: (f"/api/v1/sites/{o.site_id}/shared-links/{w.fresh_link(o)}", None, None),
    ),
    Route(
        "GET",
        "/api/v1/annotations",
        P.ANNOTATIONS_READ,
        200,
        lambda w, o: ("/api/v1/annotations", {"site_id": o.site_id}, None),
    ),
    Route(
        "POST",
        "/api/v1/annotations",
        P.ANNOTATIONS_WRITE,
        201,
        lambda w, o: (
            "/api/v1/annotations",
            None,
            {"site_id": o.site_id, "date": "2026-11-20", "content": "Black Friday", "tags": ["promo"]},
        ),
    ),
    Route(
        "PATCH",
        "/api/v1/annotations/{annotation_id}",
        P.ANNOTATIONS_WRITE,
        200,
        lambda w, o: (f"/api/v1/annotations/{w.fresh_annotation(o)}", None, {"content": "changed"}),
    ),
    Route(
        "DELETE",
        "/api/v1/annotations/{annotation_id}",
        P.ANNOTATIONS_WRITE,
        204,
        lambda w, o: (f"/api/v1/annotations/{w.fresh_annotation(o)}", None, None),
    ),
    Route(
        "GET",
        "/api/v1/webhooks",
        P.WEBHOOKS_READ,
        200,
        lambda w, o: ("/api/v1/webhooks", {"site_id": o.site_id}, None),
    ),
    Route(
        "POST",
        "/api/v1/webhooks",
        P.WEBHOOKS_WRITE,
        201,
        lambda w, o: (
            "/api/v1/webhooks",
            None,
            {"site_id": o.site_id, "url": PUBLIC_HOOK, "events": ["purchase.created", "attribution.updated"]},
        ),
    ),
    Route(
        "GET",
        "/api/v1/webhooks/{webhook_id}",
        P.WEBHOOKS_READ,
        200,
        lambda w, o: (f"/api/v1/webhooks/{w.fresh_webhook(o)}", None, None),
    ),
    Route(
        "PATCH",
        "/api/v1/webhooks/{webhook_id}",
        P.WEBHOOKS_WRITE,
        200,
        lambda w, o: (f"/api/v1/webhooks/{w.fresh_webhook(o)}", None, {"active": False}),
    ),
    Route(
        "DELETE",
        "/api/v1/webhooks/{webhook_id}",
        P.WEBHOOKS_WRITE,
        204,
        lambda w, o: (f"/api/v1/webhooks/{w.fresh_webhook(o)}", None, None),
    ),
    Route(
        "POST",
        "/api/v1/webhooks/{webhook_id}/test",
        P.WEBHOOKS_WRITE,
        202,
        lambda w, o: (f"/api/v1/webhooks/{w.fresh_webhook(o)}/test", None, None),
    ),
    Route(
        "GET",
        "/api/v1/webhooks/{webhook_id}/deliveries",
        P.WEBHOOKS_READ,
        200,
        lambda w, o: (f"/api/v1/webhooks/{w.fresh_webhook(o)}/deliveries", None, None),
    ),
    Route(
        "GET", "/api/v1/audit", P.AUDIT_READ, 200, lambda w, o: ("/api/v1/audit", {"org_id": o.org_id}, None)
    ),
    Route(
        "GET", "/api/v1/usage", P.USAGE_READ, 200, lambda w, o: ("/api/v1/usage", {"org_id": o.org_id}, None)
    ),
]

CASES = [(route, role, own) for route in ROUTES for role in ROLES for own in (True, False)]


@pytest.mark.parametrize(
    ("route", "role", "own"),
    CASES,
    ids=[f"{r.method} {r.template} {role.value} {'own' if own else 'foreign'}" for r, role, own in CASES],
)
def test_route_role_resource(world: World, route: Route, role: Role, own: bool) -> None:
    user = world.a.members[role]
    path, query, body = route.target(world, world.a if own else world.b)
    status, answer, _ = world.request(route.method, path, user=user, body=body, query=query)
    if not own:
        expected = 404
    elif route.permission in ROLE_PERMISSIONS[role]:
        expected = route.success
    else:
        expected = 403
    assert status == expected, answer
    if status >= 400:
        assert set(answer["error"]) >= {"code", "message"}


def test_foreign_ids_in_a_body_reveal_nothing(world: World) -> None:
    owner = world.a.members[Role.OWNER]
    # Move one's own site into someone else's organisation.
    status, _, _ = world.request(
        "PATCH", f"/api/v1/sites/{world.a.site_id}", user=owner, body={"org_id": world.b.org_id}
    )
    assert status == 404
    # Limit a new member to another organisation's site.
    status, answer, _ = world.request(
        "POST",
        f"/api/v1/orgs/{world.a.org_id}/members",
        user=owner,
        body={"email": "limited@a.example.com", "role": "viewer", "site_ids": [world.b.site_id]},
    )
    assert status == 404, answer
    # Unknown and malformed ids answer exactly like foreign ones.
    for path in (
        "/api/v1/sites/0000000000000000",
        "/api/v1/sites/..%2f..",
        f"/api/v1/orgs/{world.b.org_id}x",
    ):
        assert world.request("GET", path, user=owner)[0] == 404


def test_lists_hold_only_what_the_caller_may_see(world: World) -> None:
    for role in ROLES:
        user = world.a.members[role]
        _, orgs, _ = world.request("GET", "/api/v1/orgs", user=user)
        assert [o["org_id"] for o in orgs] == [world.a.org_id]
        _, sites, _ = world.request("GET", "/api/v1/sites", user=user)
        ids = {s["site_id"] for s in sites}
        assert world.b.site_id not in ids
        assert (world.a.site_id in ids) == (P.SITES_READ in ROLE_PERMISSIONS[role])
        _, foreign, _ = world.request("GET", "/api/v1/sites", user=user, query={"org_id": world.b.org_id})
        assert foreign == []


def test_a_member_limited_to_one_site_sees_only_that_site(world: World) -> None:
    other_site = world.fresh_site(world.a)
    member, _ = world.ops.invite_member(
        operator(),
        world.a.org_id,
        "one-site@a.example.com",
        Role.EDITOR,
        [world.a.site_id],
    )
    assert {s["site_id"] for s in world.request("GET", "/api/v1/sites", user=member.user_id)[1]} == {
        world.a.site_id
    }
    assert world.request("GET", f"/api/v1/sites/{other_site}", user=member.user_id)[0] == 404
    assert world.request("GET", f"/api/v1/sites/{world.a.site_id}/goals", user=member.user_id)[0] == 200


def test_no_claims_is_401_and_the_open_routes_need_none(world: World) -> None:
    status, answer, _ = world.request("GET", "/api/v1/me")
    assert status == 401 and answer["error"]["code"] == "unauthorized"
    status, config, _ = world.request("GET", "/api/v1/auth/config")
    assert status == 200 and config["user_pool_id"] == world.env["TOUCHLINE_USER_POOL_ID"]
    assert config["client_id"] == world.env["TOUCHLINE_USER_POOL_CLIENT_ID"]
    assert config["cognito_endpoint"] == "https://cognito-idp.us-east-1.amazonaws.com/"


def test_the_template_guards_every_route_of_the_matrix_with_the_authorizer() -> None:
    template = load_template(ROOT / "template.yaml")
    events = template.resources["AccountsFunction"].properties["Events"]
    declared = {
        (e["Properties"]["Method"], e["Properties"]["Path"]): e["Properties"]
        .get("Auth", {})
        .get("Authorizer")
        for e in events.values()
        if e["Type"] == "HttpApi"
    }
    for route in ROUTES:
        key = (route.method, route.template.split("#")[0])
        assert declared.get(key) == "CognitoAuthorizer", key
    assert declared[("GET", "/api/v1/auth/config")] is None
    assert {key for key, auth in declared.items() if auth is None} == {
        ("GET", "/api/v1/auth/config"),
        ("GET", "/api/docs/openapi.json"),
        ("GET", "/api/docs"),
        ("POST", "/api/v1/shared-links/session"),
        ("GET", "/api/v1/shared-links/session"),
        # The OpenAPI document of every route and Swagger UI over it (docs/query-api.md): public.
        ("GET", "/api/docs/openapi.json"),
        ("GET", "/api/docs"),
    }
