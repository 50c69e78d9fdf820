"""One person, several organisations: an invitation of someone Cognito already knows makes no
second user and no new password, and each organisation sees them in the role it gave."""

from __future__ import annotations

import uuid

import boto3

from accounts_world import World
from touchline.accounts.permissions import Role


def test_a_known_person_joins_a_second_organisation_with_its_own_role(world: World) -> None:
    email = f"two-orgs-{uuid.uuid4().hex[:8]}@example.com"
    owner_a, owner_b = world.a.members[Role.OWNER], world.b.members[Role.OWNER]
    viewer, editor = {"email": email, "role": "viewer"}, {"email": email.upper(), "role": "editor"}
    status, first, _ = world.request(
        "POST", f"/api/v1/orgs/{world.b.org_id}/members", user=owner_b, body=viewer
    )
    assert status == 201 and first["new_user"] is True and first["temporary_password"]

    status, second, _ = world.request(
        "POST",
        f"/api/v1/orgs/{world.a.org_id}/members",
        user=owner_a,
        body=editor,
    )
    assert status == 201, second
    assert (second["user_id"], second["email"]) == (first["user_id"], email)
    assert second["new_user"] is False and second["temporary_password"] is None
    pool = world.env["TOUCHLINE_USER_POOL_ID"]
    users = boto3.client("cognito-idp").list_users(UserPoolId=pool, Filter=f'email = "{email}"')["Users"]
    assert len(users) == 1

    person = first["user_id"]
    _, me, _ = world.request("GET", "/api/v1/me", user=person)
    roles = {org["org_id"]: org["role"] for org in me["organisations"]}
    assert roles == {world.a.org_id: "editor", world.b.org_id: "viewer"}
    _, sites, _ = world.request("GET", "/api/v1/sites", user=person)
    assert {world.a.site_id, world.b.site_id} <= {s["site_id"] for s in sites}
    # The role is per organisation: an editor in A writes there, a viewer in B does not.
    goal = {"name": f"Two orgs {uuid.uuid4().hex[:6]}"}
    assert world.request("POST", f"/api/v1/sites/{world.a.site_id}/goals", user=person, body=goal)[0] == 201
    assert world.request("POST", f"/api/v1/sites/{world.b.site_id}/goals", user=person, body=goal)[0] == 403

    status, again, _ = world.request(
        "POST", f"/api/v1/orgs/{world.a.org_id}/members", user=owner_a, body=viewer
    )
    assert status == 409 and again["error"]["code"] == "conflict"
