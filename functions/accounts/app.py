"""AccountsFunction: the management API (`/api/v1/*`: organisations, sites, goals, integrations,
members, API keys, shared links, audit, usage), the auth config browsers sign in with, and the
hourly usage check. People's routes sit behind the HttpApi's Cognito JWT authorizer; each route
turns the verified claims into a caller and calls one domain function (docs/accounts.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from touchline.accounts import api_models as m
from touchline.accounts.api import (
    base_url,
    caller_of,
    created_key_out,
    created_link_out,
    key_out,
    link_out,
    member_out,
    org_out,
    org_usage_headers,
    request_context,
    shared_link_site,
    sign_in_config,
    site_out,
    sites_out,
    usage_headers,
    usage_month,
    utc,
)
from touchline.accounts.audit import AuditQuery
from touchline.accounts.service import Caller
from touchline.accounts.usage import parse_month
from touchline.accounts.wiring import accounts, annotation_service, webhook_service
from touchline.aws.http_api import HttpFunction
from touchline.openapi import document, swagger_html

api = HttpFunction("accounts", validation=True)
app = api.app
JSON = content_types.APPLICATION_JSON


def caller() -> Caller:
    return caller_of(api.event)


def created(body: Any) -> Response[Any]:
    return Response(status_code=201, content_type=JSON, body=body)


def no_content() -> Response[None]:
    return Response(status_code=204, content_type=JSON, body=None)


# ---------------------------------------------------------------------- auth config


@app.get("/api/v1/auth/config", tags=["auth"], summary="How a browser signs in (Cognito)")
def auth_config() -> m.AuthConfig:
    return sign_in_config()


@app.get(
    "/api/v1/me", tags=["auth"], summary="The signed-in person, their organisations, roles and permissions"
)
def me() -> m.Me:
    return m.Me.model_validate(accounts().me(caller()))


# ---------------------------------------------------------------------- the API's documentation


@app.get("/api/docs/openapi.json", tags=["docs"], summary="This document: OpenAPI 3.1 of every route")
def openapi_document() -> Response[str]:
    # Every function's routes: this resolver's own, merged with those touchline.openapi declares.
    return api.json(200, document(app))


@app.get("/api/docs", tags=["docs"], summary="Swagger UI over this document")
def swagger_ui() -> Response[str]:
    return Response(status_code=200, content_type="text/html; charset=utf-8", body=swagger_html(app))


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
    return Response(200, JSON, org_out(org), org_usage_headers(org.org_id))


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


@app.get("/api/v1/orgs/<org_id>/api-keys", tags=["API keys"], summary="Keys for scripts (never the keys)")
def list_api_keys(org_id: str) -> list[m.ApiKeyOut]:
    return [key_out(key) for key in accounts().list_api_keys(caller(), org_id)]


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
    return created(created_key_out(key, record))


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


@app.patch(
    "/api/v1/sites/<site_id>",
    tags=["sites"],
    summary="Domain, time zone, attribution window, cookieless, consent; move",
)
def update_site(site_id: str, body: m.UpdateSite) -> m.SiteOut:
    return site_out(accounts().update_site(caller(), site_id, **body.model_dump(exclude_none=True)))


@app.delete("/api/v1/sites/<site_id>", tags=["sites"])
def delete_site(site_id: str) -> Response[None]:
    accounts().delete_site(caller(), site_id)
    return no_content()


# ---------------------------------------------------------------------- goals


@app.get("/api/v1/sites/<site_id>/goals", tags=["goals"])
def list_goals(site_id: str) -> list[m.GoalOut]:
    return [m.GoalOut.of(g) for g in accounts().list_goals(caller(), site_id)]


@app.post(
    "/api/v1/sites/<site_id>/goals",
    tags=["goals"],
    summary="A goal: a custom event or a page pattern, optional property matches and value",
)
def add_goal(site_id: str, body: m.CreateGoal) -> Response[m.GoalOut]:
    goal = accounts().add_goal(
        caller(),
        site_id,
        body.name,
        body.value,
        body.currency or "",
        track_method=body.track_method,
        event_name=body.event_name,
        page_pattern=body.page_pattern,
        properties=body.properties,
        active=body.active,
    )
    return created(m.GoalOut.of(goal))


@app.patch(
    "/api/v1/sites/<site_id>/goals/<name>",
    tags=["goals"],
    summary="Edit a goal (history is re-evaluated: goals are queries over events)",
)
def update_goal(site_id: str, name: str, body: m.UpdateGoal) -> m.GoalOut:
    changes = body.model_dump(exclude_unset=True)
    goal = accounts().update_goal(caller(), site_id, name, changes)
    return m.GoalOut.of(goal)


@app.delete("/api/v1/sites/<site_id>/goals/<name>", tags=["goals"])
def remove_goal(site_id: str, name: str) -> Response[None]:
    accounts().remove_goal(caller(), site_id, name)
    return no_content()


# ---------------------------------------------------------------------- funnels (figures: QueryFunction)


@app.post(
    "/api/v1/funnels", tags=["funnels"], summary="Define a funnel: 2-8 steps (pages or goals), a window"
)
def create_funnel(body: m.CreateFunnel) -> Response[m.FunnelOut]:
    funnel = accounts().create_funnel(
        caller(), body.site_id, body.name, list(body.steps), body.window_hours, body.strict
    )
    return created(m.FunnelOut.model_validate(funnel.as_dict()))


@app.get("/api/v1/funnels", tags=["funnels"], summary="A site's funnels")
def list_funnels(site_id: Annotated[str, Query(min_length=1, max_length=253)]) -> list[m.FunnelOut]:
    return [m.FunnelOut.model_validate(f.as_dict()) for f in accounts().list_funnels(caller(), site_id)]


@app.delete("/api/v1/funnels/<funnel_id>", tags=["funnels"])
def delete_funnel(
    funnel_id: str, site_id: Annotated[str, Query(min_length=1, max_length=253)]
) -> Response[None]:
    accounts().delete_funnel(caller(), site_id, funnel_id)
    return no_content()


# ---------------------------------------------------------------------- integrations


@app.get("/api/v1/sites/<site_id>/integrations", tags=["integrations"])
def list_integrations(site_id: str) -> list[m.IntegrationOut]:
    return [
        m.IntegrationOut(**found)
        for found in accounts().list_integrations(caller(), site_id, base_url(api.headers()))
    ]


@app.post(
    "/api/v1/sites/<site_id>/integrations",
    tags=["integrations"],
    summary="Store a webhook signing secret; answers the URL to paste into the provider",
)
def add_integration(site_id: str, body: m.AddWebhookIntegration) -> Response[m.IntegrationOut]:
    found = accounts().add_webhook_integration(
        caller(), site_id, body.provider, body.secret, base_url(api.headers())
    )
    return created(m.IntegrationOut(**found))


@app.delete("/api/v1/sites/<site_id>/integrations/<provider>", tags=["integrations"])
def remove_integration(site_id: str, provider: str) -> Response[None]:
    accounts().remove_webhook_integration(caller(), site_id, provider)
    return no_content()


# ---------------------------------------------------------------------- shared links


@app.get("/api/v1/sites/<site_id>/shared-links", tags=["shared links"])
def list_shared_links(site_id: str) -> list[m.SharedLinkOut]:
    return [link_out(link) for link in accounts().list_shared_links(caller(), site_id)]


@app.post(
    "/api/v1/sites/<site_id>/shared-links", tags=["shared links"], summary="A read-only link to one site"
)
def create_shared_link(site_id: str, body: m.CreateSharedLink) -> Response[m.CreatedSharedLink]:
    token, link = accounts().create_shared_link(caller(), site_id, body.name, body.password)
    return created(created_link_out(token, link))


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
    session, site = accounts().open_shared_link(request_context(api.event), body.link, body.password)
    out = m.SharedLinkSession(
        token=session.token,
        expires_at=session.expires_at,
        site_id=site.site_id,
        domain=site.domain,
        timezone=site.timezone,
    )
    return created(out)


@app.get(
    "/api/v1/shared-links/session",
    tags=["shared links"],
    summary="The site a shared-link session token opens (401 once the link is revoked)",
)
def shared_link_session() -> m.SharedLinkSite:
    return shared_link_site(api.headers().get("authorization"))


# ---------------------------------------------------------------------- annotations


@app.get("/api/v1/annotations", tags=["annotations"], summary="A site's dated notes, oldest first")
def list_annotations(
    site_id: Annotated[str, Query(min_length=1, max_length=64)],
    since: Annotated[date | None, Query(description="first day (inclusive)")] = None,
    until: Annotated[date | None, Query(description="last day (inclusive)")] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
) -> list[m.AnnotationOut]:
    found = annotation_service().list(caller(), site_id, since, until, tag)
    return [m.AnnotationOut.model_validate(a.as_dict()) for a in found]


@app.post("/api/v1/annotations", tags=["annotations"], summary="Note something on a site's timeline")
def create_annotation(body: m.CreateAnnotation) -> Response[m.AnnotationOut]:
    found = annotation_service().create(caller(), body.site_id, body.date, body.content, body.tags)
    return created(m.AnnotationOut.model_validate(found.as_dict()))


@app.patch("/api/v1/annotations/<annotation_id>", tags=["annotations"], summary="Change a note")
def update_annotation(annotation_id: str, body: m.UpdateAnnotation) -> m.AnnotationOut:
    found = annotation_service().update(
        caller(), annotation_id, note_date=body.date, content=body.content, tags=body.tags
    )
    return m.AnnotationOut.model_validate(found.as_dict())


@app.delete("/api/v1/annotations/<annotation_id>", tags=["annotations"])
def delete_annotation(annotation_id: str) -> Response[None]:
    annotation_service().delete(caller(), annotation_id)
    return no_content()


# ---------------------------------------------------------------------- outgoing webhooks


@app.get("/api/v1/webhooks", tags=["webhooks"], summary="A site's webhook subscribers")
def list_webhooks(site_id: Annotated[str, Query(min_length=1, max_length=64)]) -> list[m.WebhookOut]:
    return [m.WebhookOut.model_validate(w.as_dict()) for w in webhook_service().of_site(caller(), site_id)]


@app.post(
    "/api/v1/webhooks",
    tags=["webhooks"],
    summary="Subscribe a URL to a site's events; answers the signing secret (shown once)",
)
def create_webhook(body: m.CreateWebhook) -> Response[m.CreatedWebhook]:
    found, secret = webhook_service().create(caller(), body.site_id, body.url, body.events, body.description)
    return created(m.CreatedWebhook(**found.as_dict(), secret=secret))


@app.get("/api/v1/webhooks/<webhook_id>", tags=["webhooks"])
def get_webhook(webhook_id: str) -> m.WebhookOut:
    return m.WebhookOut.model_validate(webhook_service().get(caller(), webhook_id).as_dict())


@app.patch(
    "/api/v1/webhooks/<webhook_id>", tags=["webhooks"], summary="Change the URL or events; pause or resume"
)
def update_webhook(webhook_id: str, body: m.UpdateWebhook) -> m.WebhookOut:
    found = webhook_service().update(
        caller(),
        webhook_id,
        url=body.url,
        events=body.events,
        description=body.description,
        active=body.active,
    )
    return m.WebhookOut.model_validate(found.as_dict())


@app.delete("/api/v1/webhooks/<webhook_id>", tags=["webhooks"])
def delete_webhook(webhook_id: str) -> Response[None]:
    webhook_service().delete(caller(), webhook_id)
    return no_content()


@app.post(
    "/api/v1/webhooks/<webhook_id>/test",
    tags=["webhooks"],
    summary="Send a webhook.test event now, through the same signed, retried delivery",
)
def test_webhook(webhook_id: str) -> Response[m.TestEventOut]:
    event = webhook_service().send_test(caller(), webhook_id)
    return Response(202, JSON, m.TestEventOut(event_id=event.id, type=event.type))


@app.get(
    "/api/v1/webhooks/<webhook_id>/deliveries",
    tags=["webhooks"],
    summary="The delivery log: every attempt, newest first",
)
def webhook_deliveries(
    webhook_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    event_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[m.DeliveryOut]:
    found = webhook_service().deliveries(caller(), webhook_id, limit, event_id)
    return [m.DeliveryOut.model_validate(d) for d in found]


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
    query = AuditQuery(org_id, site_id, action, actor_id, outcome, utc(since), utc(until), limit)
    return m.AuditPage(entries=[m.AuditEntry(**entry) for entry in accounts().read_audit(caller(), query)])


@app.get("/api/v1/usage", tags=["usage"], summary="Events stored this month (or another) against the limit")
def usage(
    org_id: Annotated[str, Query(min_length=1, max_length=64)],
    month: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}$")] = None,
) -> Response[m.UsageOut]:
    found = accounts().usage(caller(), org_id, usage_month(month))
    return Response(200, JSON, m.UsageOut(**found.body()), usage_headers(found))


# ---------------------------------------------------------------------- entry point


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if event.get("action") == "check_usage":
        return check_usage()
    return api.resolve(event, context)


def check_usage() -> dict[str, Any]:
    """Hourly: every organisation with a limit; those over it warn (log, metric, alarm)."""
    try:
        over = accounts().check_usage(parse_month(None))
        for found in over:
            api.logger.warning("organisation over its monthly event limit", extra=found.body())
        api.count("OrganisationsOverEventLimit", len(over))
        return {"over_limit": [found.org_id for found in over]}
    finally:
        api.metrics.flush_metrics(raise_on_empty_metrics=False)
