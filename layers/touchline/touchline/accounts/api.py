"""The management API's side of a request: who is asking, from where, and the answer bodies.

AccountsFunction's routes (functions/accounts/app.py) each call one `Accounts` method; this
module turns the payload 2.0 event into the `Caller` that method takes (the claims API Gateway's
JWT authorizer verified, the source IP and user agent the audit log records) and the domain's
objects into the response models of `api_models`, so the handler holds routes only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from touchline.accounts import api_models as m
from touchline.accounts.audit import RequestContext
from touchline.accounts.orgs import Member, Organisation
from touchline.accounts.service import Caller, org_body
from touchline.accounts.shared_links import SharedLink
from touchline.accounts.usage import WARNING_HEADER, Usage, parse_month
from touchline.accounts.wiring import accounts, people, region, settings, shared_links
from touchline.auth.api_keys import ApiKey
from touchline.config.sites import Site
from touchline.errors import RequestError


def request_context(event: Mapping[str, Any]) -> RequestContext:
    return RequestContext.of(event)


def caller_of(event: Mapping[str, Any]) -> Caller:
    """The signed-in person, from the claims the JWT authorizer verified (401 without them).

    The first request of a new Cognito session is recorded as a sign-in in the audit log."""
    request = event.get("requestContext") or {}
    claims = ((request.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    principal = people().principal(claims)
    if principal is None:
        raise RequestError(401, "unauthorized", "sign in: send a Cognito token as Authorization: Bearer")
    found = Caller(principal, request_context(event))
    session = people().new_sign_in(claims)
    if session is not None:
        accounts().record_sign_in(found, session)
    return found


def shared_link_site(authorization: str | None) -> m.SharedLinkSite:
    """The site a shared-link session token opens; 401 once its link is revoked or it expired."""
    token = (authorization or "").removeprefix("Bearer ").strip()
    principal = shared_links().principal(token)
    site = accounts().sites.by_id(next(iter(principal.site_ids or ()), "")) if principal else None
    if principal is None or site is None:
        raise RequestError(
            401, "unauthorized", "send a live shared-link session token as Authorization: Bearer"
        )
    return m.SharedLinkSite(
        site_id=site.site_id, domain=site.domain, link_id=principal.id, permissions=["stats:read"]
    )


def sign_in_config() -> m.AuthConfig:
    config = settings()
    endpoint = config.cognito_endpoint or f"https://cognito-idp.{region()}.amazonaws.com/"
    return m.AuthConfig(
        region=region(),
        user_pool_id=config.user_pool_id,
        client_id=config.user_pool_client_id,
        cognito_endpoint=endpoint,
        issuer=f"https://cognito-idp.{region()}.amazonaws.com/{config.user_pool_id}",
        auth_flows=["USER_PASSWORD_AUTH", "USER_SRP_AUTH", "REFRESH_TOKEN_AUTH"],
    )


def base_url(headers: Mapping[str, str]) -> str:
    """Where webhook URLs point: the configured public URL, else the request's own host."""
    if settings().public_url:
        return settings().public_url.rstrip("/")
    return f"{headers.get('x-forwarded-proto', 'https')}://{headers.get('host', 'localhost')}"


def usage_month(value: str | None) -> date:
    try:
        return parse_month(value)
    except ValueError as exc:
        raise RequestError(400, "invalid_request", str(exc)) from None


def utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def usage_headers(found: Usage) -> dict[str, str] | None:
    return {WARNING_HEADER: warning} if (warning := found.warning()) else None


def org_usage_headers(org_id: str) -> dict[str, str] | None:
    """The stored figure's warning for this month, if the organisation is over its limit."""
    warning = accounts().usage_warning(org_id, f"{datetime.now(UTC):%Y-%m}")
    return {WARNING_HEADER: warning} if warning else None


# ---------------------------------------------------------------------- answer bodies


def sites_out(sites: list[Site]) -> list[m.SiteOut]:
    settings_of = accounts().site_settings(sites)
    return [
        m.SiteOut(
            site_id=site.site_id,
            domain=site.domain,
            org_id=site.org_id,
            created_at=site.created_at,
            cookieless=site.cookieless,
            timezone=site.timezone,
            consent=site.consent.mode,
            consent_categories=site.consent.categories(),
            **settings_of[site.site_id],
        )
        for site in sites
    ]


def site_out(site: Site) -> m.SiteOut:
    return sites_out([site])[0]


def org_out(org: Organisation) -> m.OrganisationOut:
    return m.OrganisationOut(**org_body(org))


def member_out(member: Member) -> m.MemberOut:
    return m.MemberOut(
        user_id=member.user_id,
        email=member.email,
        role=member.role,
        site_ids=sorted(member.site_ids) if member.site_ids is not None else None,
        created_at=member.created_at,
        invited_by=member.invited_by,
    )


def key_out(key: ApiKey) -> m.ApiKeyOut:
    return m.ApiKeyOut(**_key_fields(key))


def created_key_out(key: str, record: ApiKey) -> m.CreatedApiKey:
    return m.CreatedApiKey(**_key_fields(record), key=key)


def _key_fields(key: ApiKey) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "prefix": key.prefix,
        "name": key.name,
        "site_ids": list(key.site_ids) or None,
        "scopes": list(key.scopes),
        "created_at": key.created_at,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "rate_limit": key.rate_limit,
        "owner": key.owner,
    }


def link_out(link: SharedLink) -> m.SharedLinkOut:
    return m.SharedLinkOut(**_link_fields(link))


def created_link_out(token: str, link: SharedLink) -> m.CreatedSharedLink:
    return m.CreatedSharedLink(**_link_fields(link), link=token)


def _link_fields(link: SharedLink) -> dict[str, Any]:
    return {
        "link_id": link.link_id,
        "site_id": link.site_id,
        "name": link.name,
        "password_protected": link.protected,
        "created_at": link.created_at,
        "created_by": link.created_by,
        "revoked": link.revoked,
        "revoked_at": link.revoked_at,
    }
