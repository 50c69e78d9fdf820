"""AccountsFunction: the management API (`/api/v1/*`: organisations, sites, goals, integrations,
members, shared links, audit, usage), the auth config browsers sign in with, and the hourly
usage check. People's routes sit behind the HttpApi's Cognito JWT authorizer; each handler
turns the verified claims into a principal and calls one domain function (docs/accounts.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.accounts import api_models as m
from touchline.accounts.audit import AuditQuery, RequestContext
from touchline.accounts.orgs import Member, Organisation
from touchline.accounts.service import Caller, org_body
from touchline.accounts.shared_links import SharedLink
from touchline.accounts.usage import WARNING_HEADER, parse_month
from touchline.accounts.wiring import accounts, people, region, settings, shared_links
from touchline.auth.api_keys import ApiKey
from touchline.aws.http_api import HttpApiResolver
from touchline.config.sites import Site
from touchline.errors import RequestError

logger = Logger(service="accounts")
metrics = Metrics(namespace="Touchline", service="accounts")
app = HttpApiResolver(enable_validation=True)
JSON = content_types.APPLICATION_JSON


# ---------------------------------------------------------------------- who is asking


def context() -> RequestContext:
    request = app.current_event.raw_event.get("requestContext") or {}
    http = request.get("http") or {}
    return RequestContext(
        source_ip=str(http.get("sourceIp", "")),
        user_agent=str(http.get("userAgent", "")),
        request_id=str(request.get("requestId", "")),
    )


def caller() -> Caller:
    """The signed-in person, from the claims the JWT authorizer verified (401 without them)."""
    request = app.current_event.raw_event.get("requestContext") or {}
    claims = ((request.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    principal = people().principal(claims)
    if principal is None:
        raise RequestError(401, "unauthorized", "sign in: send a Cognito token as Authorization: Bearer")
    found = Caller(principal, context())
    session = people().new_sign_in(claims)
    if session is not None:
        accounts().record_sign_in(found, session)
    return found


def base_url() -> str:
    if settings().public_url:
        return settings().public_url.rstrip("/")
    headers = app.current_event.headers
    return f"{headers.get('x-forwarded-proto', 'https')}://{headers.get('host', 'localhost')}"


# ---------------------------------------------------------------------- bodies


def sites_out(sites: list[Site]) -> list[m.SiteOut]:
    settings_of = accounts().site_settings(sites)
    return [
        m.SiteOut(
            site_id=site.site_id,
            domain=site.domain,
            org_id=site.org_id,
            created_at=site.created_at,
            cookieless=site.cookieless,
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


def link_out(link: SharedLink) -> dict[str, Any]:
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


def created(body: Any) -> Response[Any]:
    return Response(status_code=201, content_type=JSON, body=body)


def no_content() -> Response[None]:
    return Response(status_code=204, content_type=JSON, body=None)


# ---------------------------------------------------------------------- auth config


@app.get("/api/v1/auth/config", tags=["auth"], summary="How a browser signs in (Cognito)")
def auth_config() -> m.AuthConfig:
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


@app.get(
    "/api/v1/me", tags=["auth"], summary="The signed-in person, their organisations, roles and permissions"
)
def me() -> m.Me:
    return m.Me.model_validate(accounts().me(caller()))


# ---------------------------------------------------------------------- organisations


@app.get("/api/v1/orgs", tags=["organisations"], summary="Organisations you belong to")
def list_orgs() -> list[m.OrganisationOut]:
    return [org_out(org) for org in accounts().list_orgs(caller())]


@app.post("/api/v1/orgs", tags=["organisations"], summary="Create an organisation (you become its owner)")
def create_org(body: m.CreateOrganisation) -> Response[m.OrganisationOut]:
    org, _ = accounts().create_org(caller(), body.name)
    return created(org_out(org))


@app.get("/api/v1/orgs/<org_id>", tags=["organisations"])
def get_org(org_id: str) -> Response[m.OrganisationOut]:
    org = accounts().get_org(caller(), org_id)
    return _with_usage_warning(org.org_id, org_out(org))


@app.patch("/api/v1/orgs/<org_id>", tags=["organisations"], summary="Rename; set the monthly event limit")
def update_org(org_id: str, body: m.UpdateOrganisation) -> m.OrganisationOut:
    limit: int | bool | None = body.event_limit if "event_limit" in body.model_fields_set else False
    return org_out(accounts().update_org(caller(), org_id, name=body.name, event_limit=limit))


# ---------------------------------------------------------------------- members


@app.get("/api/v1/orgs/<org_id>/members", tags=["members"])
def list_members(org_id: str) -> list[m.MemberOut]:
    return [member_out(member) for member in accounts().list_members(caller(), org_id)]


@app.post("/api/v1/orgs/<org_id>/members", tags=["members"], summary="Invite someone by email with a role")
def invite_member(org_id: str, body: m.InviteMember) -> Response[m.InvitedMember]:
    member, invitation = accounts().invite_member(caller(), org_id, body.email, body.role, body.site_ids)
    out = m.InvitedMember(
        **member_out(member).model_dump(),
        new_user=invitation.created,
        temporary_password=invitation.temporary_password,
    )
    return created(out)


@app.patch(
    "/api/v1/orgs/<org_id>/members/<user_id>", tags=["members"], summary="Change a role or site access"
)
def update_member(org_id: str, user_id: str, body: m.UpdateMember) -> m.MemberOut:
    sites: Any = body.site_ids if "site_ids" in body.model_fields_set else False
    return member_out(accounts().update_member(caller(), org_id, user_id, role=body.role, site_ids=sites))


@app.delete("/api/v1/orgs/<org_id>/members/<user_id>", tags=["members"])
def remove_member(org_id: str, user_id: str) -> Response[None]:
    accounts().remove_member(caller(), org_id, user_id)
    return no_content()


# ---------------------------------------------------------------------- API keys


def key_out(key: ApiKey) -> dict[str, Any]:
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


@app.get("/api/v1/orgs/<org_id>/api-keys", tags=["API keys"], summary="Keys for scripts (never the keys)")
def list_api_keys(org_id: str) -> list[m.ApiKeyOut]:
    return [m.ApiKeyOut(**key_out(key)) for key in accounts().list_api_keys(caller(), org_id)]


@app.post(
    "/api/v1/orgs/<org_id>/api-keys",
    tags=["API keys"],
    summary="A key for the query API, account-wide or for some sites, with scopes (shown once)",
)
def create_api_key(org_id: str, body: m.CreateApiKey) -> Response[m.CreatedApiKey]:
    key, record = accounts().create_api_key(
        caller(),
        org_id,
        name=body.name,
        scopes=body.scopes,
        site_ids=body.site_ids,
        expires_days=body.expires_days,
        rate_limit=body.rate_limit,
    )
    return created(m.CreatedApiKey(**key_out(record), key=key))


@app.delete("/api/v1/orgs/<org_id>/api-keys/<key_id>", tags=["API keys"], summary="Revoke a key")
def revoke_api_key(org_id: str, key_id: str) -> Response[None]:
    accounts().revoke_api_key(caller(), org_id, key_id)
    return no_content()


# ---------------------------------------------------------------------- sites


@app.get("/api/v1/sites", tags=["sites"], summary="The sites you may see")
def list_sites(org_id: Annotated[str | None, Query(max_length=64)] = None) -> list[m.SiteOut]:
    return sites_out(accounts().list_sites(caller(), org_id))


@app.post("/api/v1/sites", tags=["sites"], summary="Register a site in an organisation")
def create_site(body: m.CreateSite) -> Response[m.SiteOut]:
    changes = body.model_dump(exclude={"org_id", "domain"}, exclude_none=True)
    return created(site_out(accounts().add_site(caller(), body.org_id, body.domain, **changes)))


@app.get("/api/v1/sites/<site_id>", tags=["sites"])
def get_site(site_id: str) -> m.SiteOut:
    return site_out(accounts().get_site(caller(), site_id))


@app.patch("/api/v1/sites/<site_id>", tags=["sites"], summary="Domain, attribution window, cookieless; move")
def update_site(site_id: str, body: m.UpdateSite) -> m.SiteOut:
    return site_out(accounts().update_site(caller(), site_id, **body.model_dump(exclude_none=True)))


@app.delete("/api/v1/sites/<site_id>", tags=["sites"])
def delete_site(site_id: str) -> Response[None]:
    accounts().delete_site(caller(), site_id)
    return no_content()


# ---------------------------------------------------------------------- goals


@app.get("/api/v1/sites/<site_id>/goals", tags=["goals"])
def list_goals(site_id: str) -> list[m.GoalOut]:
    return [
        m.GoalOut(name=g.name, value=str(g.value) if g.value is not None else None, currency=g.currency)
        for g in accounts().list_goals(caller(), site_id)
    ]


@app.post("/api/v1/sites/<site_id>/goals", tags=["goals"], summary="A goal whose completions are conversions")
def add_goal(site_id: str, body: m.CreateGoal) -> Response[m.GoalOut]:
    if body.value is not None and not body.currency:
        raise RequestError(400, "invalid_request", "a goal with a value needs its currency")
    goal = accounts().add_goal(caller(), site_id, body.name, body.value, body.currency or "")
    value = str(goal.value) if goal.value is not None else None
    return created(m.GoalOut(name=goal.name, value=value, currency=goal.currency))


@app.delete("/api/v1/sites/<site_id>/goals/<name>", tags=["goals"])
def remove_goal(site_id: str, name: str) -> Response[None]:
    accounts().remove_goal(caller(), site_id, name)
    return no_content()


# ---------------------------------------------------------------------- integrations


@app.get("/api/v1/sites/<site_id>/integrations", tags=["integrations"])
def list_integrations(site_id: str) -> list[m.IntegrationOut]:
    return [
        m.IntegrationOut(**found) for found in accounts().list_integrations(caller(), site_id, base_url())
    ]


@app.post(
    "/api/v1/sites/<site_id>/integrations",
    tags=["integrations"],
    summary="Store a webhook signing secret; answers the URL to paste into the provider",
)
def add_integration(site_id: str, body: m.AddWebhookIntegration) -> Response[m.IntegrationOut]:
    found = accounts().add_webhook_integration(caller(), site_id, body.provider, body.secret, base_url())
    return created(m.IntegrationOut(**found))


@app.delete("/api/v1/sites/<site_id>/integrations/<provider>", tags=["integrations"])
def remove_integration(site_id: str, provider: str) -> Response[None]:
    accounts().remove_webhook_integration(caller(), site_id, provider)
    return no_content()


# ---------------------------------------------------------------------- shared links


@app.get("/api/v1/sites/<site_id>/shared-links", tags=["shared links"])
def list_shared_links(site_id: str) -> list[m.SharedLinkOut]:
    return [m.SharedLinkOut(**link_out(link)) for link in accounts().list_shared_links(caller(), site_id)]


@app.post(
    "/api/v1/sites/<site_id>/shared-links", tags=["shared links"], summary="A read-only link to one site"
)
def create_shared_link(site_id: str, body: m.CreateSharedLink) -> Response[m.CreatedSharedLink]:
    token, link = accounts().create_shared_link(caller(), site_id, body.name, body.password)
    return created(m.CreatedSharedLink(**link_out(link), link=token))


@app.delete("/api/v1/sites/<site_id>/shared-links/<link_id>", tags=["shared links"], summary="Revoke a link")
def revoke_shared_link(site_id: str, link_id: str) -> Response[None]:
    accounts().revoke_shared_link(caller(), site_id, link_id)
    return no_content()


@app.post(
    "/api/v1/shared-links/session",
    tags=["shared links"],
    summary="Exchange a shared link (and its password) for a read-only session token",
)
def open_shared_link(body: m.OpenSharedLink) -> Response[m.SharedLinkSession]:
    session, site = accounts().open_shared_link(context(), body.link, body.password)
    out = m.SharedLinkSession(
        token=session.token, expires_at=session.expires_at, site_id=site.site_id, domain=site.domain
    )
    return created(out)


@app.get(
    "/api/v1/shared-links/session",
    tags=["shared links"],
    summary="The site a shared-link session token opens (401 once the link is revoked)",
)
def shared_link_session() -> m.SharedLinkSite:
    token = app.current_event.headers.get("authorization", "").removeprefix("Bearer ").strip()
    principal = shared_links().principal(token)
    site = accounts().sites.by_id(next(iter(principal.site_ids or ()), "")) if principal else None
    if principal is None or site is None:
        raise RequestError(
            401, "unauthorized", "send a live shared-link session token as Authorization: Bearer"
        )
    return m.SharedLinkSite(
        site_id=site.site_id, domain=site.domain, link_id=principal.id, permissions=["stats:read"]
    )


# ---------------------------------------------------------------------- audit and usage


@app.get(
    "/api/v1/audit", tags=["audit"], summary="The organisation's audit log, newest first (owners, admins)"
)
def audit(
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    site_id: Annotated[str | None, Query(max_length=64)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[str | None, Query(max_length=128)] = None,
    outcome: Annotated[str | None, Query(pattern="^(success|denied)$")] = None,
    since: Annotated[datetime | None, Query()] = None,
    until: Annotated[datetime | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> m.AuditPage:
    query = AuditQuery(org_id, site_id, action, actor_id, outcome, _utc(since), _utc(until), limit)
    return m.AuditPage(entries=[m.AuditEntry(**entry) for entry in accounts().read_audit(caller(), query)])


@app.get("/api/v1/usage", tags=["usage"], summary="Events stored this month (or another) against the limit")
def usage(
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response[m.UsageOut]:
    try:
        start = parse_month(month)
    except ValueError as exc:
        raise RequestError(400, "invalid_request", str(exc)) from None
    found = accounts().usage(caller(), org_id, start)
    headers = {WARNING_HEADER: warning} if (warning := found.warning()) else None
    return Response(status_code=200, content_type=JSON, body=m.UsageOut(**found.body()), headers=headers)


def _with_usage_warning(org_id: str, body: Any) -> Response[Any]:
    warning = accounts().usage_warning(org_id, f"{datetime.now(UTC):%Y-%m}")
    headers = {WARNING_HEADER: warning} if warning else None
    return Response(status_code=200, content_type=JSON, body=body, headers=headers)


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ---------------------------------------------------------------------- errors


def bad_request(error: RequestError) -> Response[Any]:
    if error.status >= 401:
        metrics.add_metric(name="AccountsRequestsRefused", unit=MetricUnit.Count, value=1)
    logger.info("refused", extra={"path": app.current_event.path, "status": error.status, "code": error.code})
    return Response(status_code=error.status, content_type=JSON, body=error.body())


def invalid(error: RequestValidationError) -> Response[Any]:
    details = [
        {
            "field": ".".join(str(p) for p in e["loc"] if p != "body") or "body",
            "message": e.get("msg", e["type"]),
        }
        for e in error.errors()
    ]
    summary = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return bad_request(RequestError(400, "invalid_request", f"invalid request: {summary}", details))


def unavailable(error: Exception) -> Response[Any]:
    logger.exception("accounts request failed")
    metrics.add_metric(name="AccountsFailures", unit=MetricUnit.Count, value=1)
    body = {"error": {"code": "unavailable", "message": "temporarily unavailable, retry"}}
    return Response(status_code=503, content_type=JSON, body=body)


app.exception_handler(RequestError)(bad_request)
app.exception_handler(RequestValidationError)(invalid)
app.exception_handler(Exception)(unavailable)


# ---------------------------------------------------------------------- entry point


@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "check_usage":
        return check_usage()
    return app.resolve(event, context)


def check_usage() -> dict[str, Any]:
    """Hourly: every organisation with a limit; those over it warn (log, metric, alarm)."""
    over = accounts().check_usage(parse_month(None))
    for found in over:
        logger.warning("organisation over its monthly event limit", extra=found.body())
    metrics.add_metric(name="OrganisationsOverEventLimit", unit=MetricUnit.Count, value=len(over))
    return {"over_limit": [found.org_id for found in over]}
