"""Roles, permissions and the one function that decides every request: `authorize`.

A permission names what may be done to a kind of resource (`sites:write`); a role is a set of
permissions; a principal is whoever asks (a person signed in through Cognito, an API key, a
shared link, or the operator at the CLI). `authorize` answers `Allowed`, `Forbidden` (the
principal may see the resource but lacks the permission: 403) or `NotFound` (the resource is
outside what the principal may see at all: 404, the same answer as for a resource that does not
exist, so ids of other organisations reveal nothing).

docs/accounts.md holds the role-by-permission table; a test checks it against `ROLE_PERMISSIONS`.
To add a resource (issue 18: annotations, funnels, webhooks): add its permissions to
`Permission`, grant them in `ROLE_PERMISSIONS`, regenerate the table (`permission_table()`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"
    BILLING = "billing"


class Permission(StrEnum):
    ORG_READ = "org:read"
    ORG_WRITE = "org:write"
    SITES_READ = "sites:read"
    SITES_WRITE = "sites:write"
    SITES_DELETE = "sites:delete"
    GOALS_READ = "goals:read"
    GOALS_WRITE = "goals:write"
    INTEGRATIONS_READ = "integrations:read"
    INTEGRATIONS_WRITE = "integrations:write"
    API_KEYS_READ = "api_keys:read"
    API_KEYS_WRITE = "api_keys:write"
    MEMBERS_READ = "members:read"
    MEMBERS_WRITE = "members:write"
    SHARED_LINKS_READ = "shared_links:read"
    SHARED_LINKS_WRITE = "shared_links:write"
    STATS_READ = "stats:read"
    AUDIT_READ = "audit:read"
    USAGE_READ = "usage:read"
    USAGE_WRITE = "usage:write"
    ANNOTATIONS_READ = "annotations:read"
    ANNOTATIONS_WRITE = "annotations:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"


P = Permission
_EDITOR = frozenset(
    {
        P.ORG_READ,
        P.SITES_READ,
        P.SITES_WRITE,
        P.GOALS_READ,
        P.GOALS_WRITE,
        P.INTEGRATIONS_READ,
        P.INTEGRATIONS_WRITE,
        P.MEMBERS_READ,
        P.SHARED_LINKS_READ,
        P.SHARED_LINKS_WRITE,
        P.STATS_READ,
        P.ANNOTATIONS_READ,
        P.ANNOTATIONS_WRITE,
        P.WEBHOOKS_READ,
        P.WEBHOOKS_WRITE,
    }
)
_ADMIN = _EDITOR | {
    P.ORG_WRITE,
    P.SITES_DELETE,
    P.API_KEYS_READ,
    P.API_KEYS_WRITE,
    P.MEMBERS_WRITE,
    P.AUDIT_READ,
    P.USAGE_READ,
}

# Plausible's five roles. Owners can do everything; only an owner may make or unmake an owner
# (`members.py` enforces that, and that an organisation always keeps one).
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(_ADMIN),
    Role.EDITOR: _EDITOR,
    Role.VIEWER: frozenset({P.ORG_READ, P.SITES_READ, P.GOALS_READ, P.STATS_READ, P.ANNOTATIONS_READ}),
    Role.BILLING: frozenset({P.ORG_READ, P.USAGE_READ, P.USAGE_WRITE}),
}

# Permissions about one site; a member limited to some sites has them on those sites only.
SITE_PERMISSIONS = frozenset(
    {
        P.SITES_READ,
        P.SITES_WRITE,
        P.SITES_DELETE,
        P.GOALS_READ,
        P.GOALS_WRITE,
        P.INTEGRATIONS_READ,
        P.INTEGRATIONS_WRITE,
        P.SHARED_LINKS_READ,
        P.SHARED_LINKS_WRITE,
        P.STATS_READ,
        P.ANNOTATIONS_READ,
        P.ANNOTATIONS_WRITE,
        P.WEBHOOKS_READ,
        P.WEBHOOKS_WRITE,
    }
)

# What an API key may be given (scopes): reading, never managing people or keys.
KEY_SCOPES = frozenset({P.STATS_READ, P.SITES_READ, P.GOALS_READ})


@dataclass(frozen=True, slots=True)
class Membership:
    """A person's place in one organisation; `site_ids` None means every site of it."""

    org_id: str
    role: Role
    site_ids: frozenset[str] | None = None


PrincipalKind = Literal["person", "api_key", "shared_link", "operator"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking. A person carries their memberships; a key or a link carries the one
    organisation it belongs to, the sites it is limited to (None: all of them) and its scopes."""

    kind: PrincipalKind
    id: str
    email: str = ""
    memberships: Mapping[str, Membership] = field(default_factory=dict)
    org_id: str = ""
    site_ids: frozenset[str] | None = None
    scopes: frozenset[Permission] = frozenset()

    @classmethod
    def operator(cls, name: str = "cli") -> Principal:
        """Whoever holds the deployment's AWS credentials (the CLI): every permission."""
        return cls(kind="operator", id=name)

    def label(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True, slots=True)
class Resource:
    """What is asked about: an organisation, and one of its sites where the permission is per site."""

    org_id: str
    site_id: str | None = None


class Decision(StrEnum):
    ALLOWED = "allowed"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"


def authorize(principal: Principal, permission: Permission, resource: Resource) -> Decision:
    """The one decision every route, CLI command and query makes."""
    if principal.kind == "operator":
        return Decision.ALLOWED
    if not resource.org_id:
        # A site no organisation owns is the operator's alone.
        return Decision.NOT_FOUND
    site_scoped = permission in SITE_PERMISSIONS and resource.site_id is not None
    if principal.kind == "person":
        membership = principal.memberships.get(resource.org_id)
        if membership is None:
            return Decision.NOT_FOUND
        if site_scoped and not _site_allowed(membership.site_ids, resource.site_id):
            return Decision.NOT_FOUND
        allowed = permission in ROLE_PERMISSIONS[membership.role]
        return Decision.ALLOWED if allowed else Decision.FORBIDDEN
    # API keys and shared links belong to one organisation, possibly to some of its sites.
    if principal.org_id != resource.org_id:
        return Decision.NOT_FOUND
    if resource.site_id is not None and not _site_allowed(principal.site_ids, resource.site_id):
        return Decision.NOT_FOUND
    if resource.site_id is None and principal.site_ids is not None and permission in SITE_PERMISSIONS:
        # A per-site credential asking about the organisation's sites as a whole.
        return Decision.NOT_FOUND
    return Decision.ALLOWED if permission in principal.scopes else Decision.FORBIDDEN


def _site_allowed(site_ids: frozenset[str] | None, site_id: str | None) -> bool:
    return site_ids is None or (site_id is not None and site_id in site_ids)


def permissions_of(principal: Principal, org_id: str) -> frozenset[Permission]:
    """What the principal may do in an organisation (for `GET /api/v1/me`, so a client can hide
    what it cannot use); site restrictions still apply per request."""
    if principal.kind == "operator":
        return frozenset(Permission)
    if principal.kind == "person":
        membership = principal.memberships.get(org_id)
        return ROLE_PERMISSIONS[membership.role] if membership else frozenset()
    return principal.scopes if principal.org_id == org_id else frozenset()


def permission_table() -> str:
    """The role-by-permission table of docs/accounts.md, as Markdown."""
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(r.value for r in roles) + " |",
        "| --- | " + " | ".join(":---:" for _ in roles) + " |",
    ]
    for permission in Permission:
        marks = ["✓" if permission in ROLE_PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{permission.value}` | " + " | ".join(marks) + " |")
    return "\n".join(lines)
