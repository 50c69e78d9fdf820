"""Who may query which site: people and shared links as the query API's principals, and the
audit rows of refused credentials.

The query API (`touchline.query.api`) checks a principal's site set and scope
(`touchline.auth.principal.authorize`); this module decides what goes into that set with
`touchline.accounts.permissions.authorize`, the one decision: a person reads the sites of each
organisation where their role has `stats:read` (all of them, or the ones they are limited to);
a shared-link session reads its one site; account-wide API keys carry their organisation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from touchline.accounts.audit import AuditSink, audit_row
from touchline.accounts.orgs import OrgStore
from touchline.accounts.permissions import Decision, Permission, Principal, Resource, authorize
from touchline.accounts.shared_links import SESSION_PREFIX, SharedLinkPrincipals
from touchline.auth import principal as query
from touchline.ttl_cache import TtlCache


class PersonReader:
    """An accounts person → the query API's principal over the sites they may read."""

    def __init__(
        self, orgs: OrgStore, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._orgs = orgs
        self._sites: TtlCache[str, tuple[str, ...]] = TtlCache(ttl_seconds, ttl_seconds, clock=clock)

    def principal(self, person: Principal) -> query.Principal:
        readable: set[str] = set()
        for org_id in person.memberships:
            for site_id in self._sites.get(org_id, lambda org: tuple(self._orgs.site_ids(org))) or ():
                if authorize(person, Permission.STATS_READ, Resource(org_id, site_id)) is Decision.ALLOWED:
                    readable.add(site_id)
        return query.Principal(
            kind="person", id=person.id, scopes=frozenset({query.STATS_READ}), site_ids=frozenset(readable)
        )


class ChainAuthenticator:
    """Try each authenticator in turn (API keys, then shared-link sessions)."""

    def __init__(self, *authenticators: Any) -> None:
        self._authenticators = authenticators

    def authenticate(self, authorization: str | None) -> query.Principal | None:
        for authenticator in self._authenticators:
            found: query.Principal | None = authenticator.authenticate(authorization)
            if found is not None:
                return found
        return None


class SharedLinkAuthenticator:
    """`Authorization: Bearer tlss_…` (a shared-link session) → `stats:read` on its one site."""

    def __init__(self, links: SharedLinkPrincipals) -> None:
        self._links = links

    def authenticate(self, authorization: str | None) -> query.Principal | None:
        token = (authorization or "").strip().removeprefix("Bearer ").strip()
        if not token.startswith(SESSION_PREFIX):
            return None
        link = self._links.principal(token)
        if link is None:
            return None
        return query.Principal(
            kind="shared_link",
            id=link.id,
            scopes=frozenset({query.STATS_READ}),
            site_ids=link.site_ids or frozenset(),
            rate_limit_per_hour=None,
        )


class AuditedDenials:
    """Refused query credentials as `query.denied` audit rows, under the organisation they
    belong to (a revoked or expired key's own; the asked-for site's otherwise)."""

    def __init__(self, sink: AuditSink, key_owner: Callable[[str], tuple[str, str] | None]) -> None:
        self._sink = sink
        self._key_owner = key_owner

    def denied(
        self, principal: query.Principal | None, authorization: str | None, site: Any, reason: str
    ) -> None:
        rows = []
        if principal is None:
            key_id = _key_id(authorization)
            owner = self._key_owner(key_id) if key_id else None
            if owner is None:
                return  # not one of ours: nothing to attribute it to
            org_id, site_id = owner
            actor = Principal(kind="api_key", id=key_id or "")
            rows.append(
                audit_row(
                    actor,
                    "query.denied",
                    org_id=org_id,
                    site_id=site_id,
                    outcome="denied",
                    target=("api_key", key_id or ""),
                    details={"reason": reason},
                )
            )
        elif site is not None and site.org_id:
            kind = principal.kind if principal.kind in ("api_key", "shared_link", "person") else "api_key"
            actor = Principal(kind=kind, id=principal.id)  # type: ignore[arg-type]
            rows.append(
                audit_row(
                    actor,
                    "query.denied",
                    org_id=site.org_id,
                    site_id=site.site_id,
                    outcome="denied",
                    target=("site", site.site_id),
                    details={"reason": reason},
                )
            )
        if rows:
            self._sink.record(rows)


def _key_id(authorization: str | None) -> str | None:
    from touchline.auth.api_keys import key_id_of

    token = (authorization or "").strip().removeprefix("Bearer ").strip()
    return key_id_of(token)


def key_owner(store: Any, sites: Any) -> Callable[[str], tuple[str, str] | None]:
    """key id → (organisation, site) of the key's record, for attributing its refusals."""

    def owner(key_id: str) -> tuple[str, str] | None:
        found = store.get(key_id)
        if found is None:
            return None
        record = found[0]
        if record.org_id:
            return record.org_id, record.site_ids[0] if record.site_ids else ""
        for site_id in record.site_ids:
            site = sites.by_id(site_id)
            if site is not None and site.org_id:
                return site.org_id, site_id
        return None

    return owner
