"""The one authorization decision: roles, per-site limits, keys, shared links, the operator; and
the role-by-permission table of docs/accounts.md, which must be the one the code enforces."""

from __future__ import annotations

import re

import pytest

from helpers import ROOT
from touchline.accounts.permissions import (
    ROLE_PERMISSIONS,
    Decision,
    Membership,
    Permission,
    Principal,
    Resource,
    Role,
    authorize,
    permission_table,
    permissions_of,
)

P = Permission


def person(*memberships: Membership) -> Principal:
    return Principal(kind="person", id="sub-1", memberships={m.org_id: m for m in memberships})


def test_the_documented_table_is_the_enforced_one() -> None:
    text = (ROOT / "docs" / "accounts.md").read_text()
    found = re.search(r"<!-- permissions:start[^>]*-->\n(.*?)\n<!-- permissions:end -->", text, re.S)
    assert found, "docs/accounts.md lost its permissions markers"
    assert found.group(1).strip() == permission_table(), "paste permission_table() into docs/accounts.md"


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_a_member_has_exactly_their_roles_permissions_in_their_organisation_only(
    role: Role, permission: Permission
) -> None:
    who = person(Membership("org_a", role))
    expected = Decision.ALLOWED if permission in ROLE_PERMISSIONS[role] else Decision.FORBIDDEN
    assert authorize(who, permission, Resource("org_a", "site1")) is expected
    assert authorize(who, permission, Resource("org_a")) is expected
    assert authorize(who, permission, Resource("org_b", "site9")) is Decision.NOT_FOUND
    assert authorize(who, permission, Resource("org_b")) is Decision.NOT_FOUND


def test_roles_nest_as_documented() -> None:
    owner, admin, editor, viewer, billing = (ROLE_PERMISSIONS[r] for r in Role)
    assert owner == frozenset(Permission)
    assert viewer < editor < admin < owner
    assert P.STATS_READ not in billing and P.USAGE_WRITE in billing and P.USAGE_WRITE not in admin
    assert P.MEMBERS_WRITE not in editor and P.AUDIT_READ in admin and P.AUDIT_READ not in editor


def test_a_member_limited_to_some_sites_does_not_see_the_others() -> None:
    who = person(Membership("org_a", Role.EDITOR, frozenset({"site1"})))
    assert authorize(who, P.GOALS_WRITE, Resource("org_a", "site1")) is Decision.ALLOWED
    assert authorize(who, P.GOALS_WRITE, Resource("org_a", "site2")) is Decision.NOT_FOUND
    assert authorize(who, P.STATS_READ, Resource("org_a", "site2")) is Decision.NOT_FOUND
    # Organisation-wide permissions are not about one site.
    assert authorize(who, P.MEMBERS_READ, Resource("org_a")) is Decision.ALLOWED
    nothing = person(Membership("org_a", Role.ADMIN, frozenset()))
    assert authorize(nothing, P.SITES_READ, Resource("org_a", "site1")) is Decision.NOT_FOUND


def test_a_shared_link_reads_stats_of_its_site_and_nothing_else() -> None:
    link = Principal(
        kind="shared_link",
        id="l1",
        org_id="org_a",
        site_ids=frozenset({"site1"}),
        scopes=frozenset({P.STATS_READ}),
    )
    assert authorize(link, P.STATS_READ, Resource("org_a", "site1")) is Decision.ALLOWED
    assert authorize(link, P.STATS_READ, Resource("org_a", "site2")) is Decision.NOT_FOUND
    assert authorize(link, P.STATS_READ, Resource("org_b", "site1")) is Decision.NOT_FOUND
    assert authorize(link, P.STATS_READ, Resource("org_a")) is Decision.NOT_FOUND
    for permission in set(Permission) - {P.STATS_READ}:
        assert authorize(link, permission, Resource("org_a", "site1")) is not Decision.ALLOWED


def test_an_account_wide_key_has_its_scopes_on_every_site_of_its_organisation() -> None:
    key = Principal(kind="api_key", id="k1", org_id="org_a", scopes=frozenset({P.STATS_READ}))
    assert authorize(key, P.STATS_READ, Resource("org_a", "site1")) is Decision.ALLOWED
    assert authorize(key, P.SITES_WRITE, Resource("org_a", "site1")) is Decision.FORBIDDEN
    assert authorize(key, P.STATS_READ, Resource("org_b", "site1")) is Decision.NOT_FOUND


def test_unowned_sites_are_the_operators_alone() -> None:
    owner = person(Membership("org_a", Role.OWNER))
    assert authorize(owner, P.SITES_READ, Resource("", "legacy")) is Decision.NOT_FOUND
    assert authorize(Principal.operator(), P.SITES_DELETE, Resource("", "legacy")) is Decision.ALLOWED


def test_permissions_of_lists_what_a_client_may_show() -> None:
    who = person(Membership("org_a", Role.VIEWER))
    assert permissions_of(who, "org_a") == ROLE_PERMISSIONS[Role.VIEWER]
    assert permissions_of(who, "org_b") == frozenset()


def test_audit_rows_redact_anything_shaped_like_a_credential() -> None:
    from touchline.accounts.audit import audit_row

    row = audit_row(
        Principal.operator(),
        "integration.add",
        org_id="org_a",
        details={"note": "pasted whsec_abcdefghijklmnop1234 by mistake", "email": "ada@example.com"},
        target=("api_key", "tlk_abcdefgh_" + "x" * 43),
    )
    assert "whsec_" not in row.details and "[redacted]" in row.details and "ada@example.com" in row.details
    assert row.target_id == "[redacted]"
