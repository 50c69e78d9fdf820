"""Who is asking: a `Principal`, and the one authorisation step every read route calls.

A principal is what an authenticator (an API key today; a Cognito JWT and an account's role in
issue 15) turns a request into: who it is, which sites it may read (or all of an
organisation's), with which scopes, and its rate limit. `authorize` is the only place that
decides whether a principal may do something with a site; a route never checks a key itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATS_READ = "stats:read"
SCOPES = (STATS_READ,)


class Unauthorized(Exception):
    """No credentials, or credentials that are not valid (401)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(Exception):
    """Valid credentials without the right to do this (403; or 401 "site" for hidden sites)."""

    def __init__(self, message: str, status: int = 403) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


# Plausible's answer for a key that may not read the site, and for a site that does not exist:
# the two must be indistinguishable.
NO_SUCH_SITE = "Invalid API key or site ID."


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller.

    `site_ids` lists the sites it may read; `org_id` (accounts, issue 15) grants every site of
    the organisation, checked by the `site_org` a caller passes to `authorize`. `kind` says which
    authenticator made it (`api_key`, `user`, `operator` for the local CLI).
    """

    kind: str
    id: str
    scopes: frozenset[str]
    site_ids: frozenset[str] = field(default_factory=frozenset)
    org_id: str | None = None
    all_sites: bool = False
    rate_limit_per_hour: int | None = None
    name: str = ""

    def may_read(self, site_id: str, site_org: str | None = None) -> bool:
        if self.all_sites or site_id in self.site_ids:
            return True
        # An organisation's key reads all its sites only when it is not limited to some.
        return (
            not self.site_ids and self.org_id is not None and site_org is not None and site_org == self.org_id
        )


OPERATOR = Principal(kind="operator", id="cli", scopes=frozenset(SCOPES), all_sites=True)


def authorize(principal: Principal, scope: str, site_id: str | None, site_org: str | None = None) -> None:
    """Raise unless `principal` holds `scope` and may see `site_id` (None: the site does not
    exist, which answers exactly like a site the principal may not see)."""
    if scope not in principal.scopes:
        raise Forbidden(f"This API key does not have the `{scope}` scope.")
    if site_id is None or not principal.may_read(site_id, site_org):
        raise Forbidden(NO_SUCH_SITE, status=401)
