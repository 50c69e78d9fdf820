"""Request and response bodies of the management API (`/api/v1/*`), as pydantic models.

Powertools validates requests against them and builds the OpenAPI document from them, so what is
documented is what is enforced. Requests forbid unknown fields: a typo is a 400, not a no-op.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from touchline.accounts.permissions import Permission, Role
from touchline.revenue.money import InvalidAmount, iso_currency

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]
KeyScope = Literal["stats:read"]
Domain = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=253)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


ConsentCategory = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ConsentCategories(_Request):
    analytics: list[ConsentCategory] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="the site's categories for analytics (default: Analytics)",
    )
    advertising: list[ConsentCategory] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="the site's categories for advertising (default: Advertising, Marketing)",
    )


class SiteSettings(_Request):
    lookback_days: int | None = Field(None, ge=1, le=365, description="attribution window (default 30)")
    half_life_days: float | None = Field(None, gt=0, le=365, description="time-decay half-life (default 7)")
    cookieless: bool | None = Field(
        None, description="ignore the tag's visitor id; count with the daily hash"
    )
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        None, description="IANA time zone of the site's reporting days, e.g. Europe/Berlin (default UTC)"
    )
    consent: Literal["off", "opt_in", "opt_out"] | None = Field(
        None,
        description="store only what each call's consent allows: opt_in (refused unless granted), "
        "opt_out (granted unless refused), off (record choices only; the default); docs/consent.md",
    )
    consent_categories: ConsentCategories | None = Field(
        None, description="which of the site's consent categories stand for analytics and advertising"
    )
    cart_abandon_hours: float | None = Field(
        None, gt=0, le=2160, description="hours without activity after which a cart is abandoned (default 24)"
    )


class CreateOrganisation(_Request):
    name: Name


class UpdateOrganisation(_Request):
    name: Name | None = None
    event_limit: int | None = Field(None, ge=1, description="monthly events before a warning; null: none")


class CreateSite(SiteSettings):
    org_id: Id
    domain: Domain


class UpdateSite(SiteSettings):
    domain: Domain | None = None
    org_id: Id | None = Field(None, description="move the site into another of your organisations")


GoalName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
TrackMethod = Literal["javascript", "data_attribute", "page_url"]
PropertyMatches = Annotated[
    dict[
        Annotated[str, StringConstraints(min_length=1, max_length=300)],
        Annotated[str, StringConstraints(max_length=2000)],
    ],
    Field(max_length=10, description="event properties that must equal these values (all of them)"),
]


class CreateGoal(_Request):
    name: GoalName
    value: Decimal | None = Field(None, ge=0, le=Decimal("1e12"), description="value per conversion")
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None
    track_method: TrackMethod = Field(
        "javascript",
        description="javascript / data_attribute: a custom event; page_url: a pageview matching page_pattern",
    )
    event_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = Field(
        "", description="the custom event completing the goal (default: the goal's name)"
    )
    page_pattern: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] = Field(
        "", description="page_url goals: a path, `*` within a segment, `**` across (/blog/*, /docs/**)"
    )
    properties: PropertyMatches = Field(default_factory=dict)
    active: bool = True

    @field_validator("currency")
    @classmethod
    def _iso_4217(cls, value: str | None) -> str | None:
        try:
            return None if value is None else iso_currency(value)
        except InvalidAmount as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _value_has_a_currency(self) -> CreateGoal:
        if self.value is not None and not self.currency:
            raise ValueError("a goal with a value needs its currency")
        return self


class UpdateGoal(_Request):
    """Only the fields sent change; `value: null` removes the value. History is re-evaluated."""

    name: GoalName | None = None
    value: Decimal | None = Field(None, ge=0, le=Decimal("1e12"))
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{3}$")] | None = None
    track_method: TrackMethod | None = None
    event_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    page_pattern: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = None
    properties: PropertyMatches | None = None
    active: bool | None = None


FunnelStep = dict[Literal["page", "goal"], Annotated[str, StringConstraints(min_length=1, max_length=500)]]


class CreateFunnel(_Request):
    site_id: Annotated[str, StringConstraints(min_length=1, max_length=253)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    steps: list[FunnelStep] = Field(
        min_length=2,
        max_length=8,
        description='ordered steps, each {"page": "/pricing"} (Plausible\'s * and **) or {"goal": "Signup"}',
    )
    window_hours: float = Field(24.0, gt=0, le=2160, description="from the first step to the last")
    strict: bool = Field(
        False, description="steps must be consecutive hits (no other pageview or event between)"
    )


class FunnelOut(BaseModel):
    id: str
    site_id: str
    name: str
    steps: list[dict[str, str]]
    window_hours: float
    strict: bool
    created_at: str | None = None


class AddWebhookIntegration(_Request):
    provider: Literal["stripe", "shopify"]
    secret: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=500)] = Field(
        description="the provider's signing secret (Stripe whsec_…, Shopify client secret); never returned"
    )


class InviteMember(_Request):
    email: Email
    role: Role
    site_ids: list[Id] | None = Field(None, description="limit the member to these sites; null: every site")


class UpdateMember(_Request):
    role: Role | None = None
    site_ids: list[Id] | None = Field(None, description="null: every site (send it to lift a limit)")


class CreateApiKey(_Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""
    scopes: list[KeyScope] = Field(default_factory=lambda: list[KeyScope](["stats:read"]), min_length=1)
    site_ids: list[Id] | None = Field(
        None, description="limit the key to these sites; null: every site (account-wide)"
    )
    expires_days: int | None = Field(None, ge=1, le=3650)
    rate_limit: int | None = Field(None, ge=1, le=1_000_000, description="requests per hour (default 600)")


class CreateSharedLink(_Request):
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    password: Annotated[str, StringConstraints(min_length=8, max_length=200)] | None = None


class OpenSharedLink(_Request):
    link: Annotated[str, StringConstraints(min_length=10, max_length=300)]
    password: Annotated[str, StringConstraints(max_length=200)] | None = None


# ---------------------------------------------------------------------- responses


class AuthConfig(BaseModel):
    region: str
    user_pool_id: str
    client_id: str
    cognito_endpoint: str = Field(description="where to send InitiateAuth / RespondToAuthChallenge")
    issuer: str
    auth_flows: list[str]


class OrganisationOut(BaseModel):
    org_id: str
    name: str
    created_at: str
    event_limit: int | None


class MyOrganisation(OrganisationOut):
    role: Role
    site_ids: list[str] | None
    permissions: list[Permission]


class Me(BaseModel):
    user_id: str
    email: str
    organisations: list[MyOrganisation]


class SiteOut(BaseModel):
    site_id: str
    domain: str
    org_id: str
    created_at: str
    cookieless: bool
    timezone: str
    consent: str
    consent_categories: dict[str, list[str]]
    lookback_days: int
    half_life_days: float
    cart_abandon_hours: float


class GoalOut(BaseModel):
    id: str
    name: str
    track_method: str
    event_name: str | None = Field(None, description="the custom event (null for page_url goals)")
    page_pattern: str | None = None
    properties: dict[str, str]
    value: str | None
    currency: str
    active: bool
    updated_at: str | None = None

    @classmethod
    def of(cls, goal: Any) -> GoalOut:
        """A stored goal (`touchline.config.goals.ConversionGoal`) as the API shows it."""
        from touchline.goals.definition import goal_out

        return cls.model_validate(goal_out(goal))


class IntegrationOut(BaseModel):
    provider: str
    kind: Literal["webhook", "sync"]
    webhook_url: str | None = None
    created_at: str | None = None
    status: str | None = None
    message: str | None = None
    status_at: str | None = None


class MemberOut(BaseModel):
    user_id: str
    email: str
    role: Role
    site_ids: list[str] | None
    created_at: str
    invited_by: str


class InvitedMember(MemberOut):
    new_user: bool
    temporary_password: str | None = Field(
        None, description="only from a local stack (no email there); Cognito emails it in AWS"
    )


class ApiKeyOut(BaseModel):
    key_id: str
    prefix: str
    name: str
    site_ids: list[str] | None = Field(description="null: every site of the organisation")
    scopes: list[str]
    created_at: str
    expires_at: str | None
    revoked_at: str | None
    rate_limit: int
    owner: str | None


class CreatedApiKey(ApiKeyOut):
    key: str = Field(description="the key, shown once: send it as Authorization: Bearer to /api/v2/query")


class SharedLinkOut(BaseModel):
    link_id: str
    site_id: str
    name: str
    password_protected: bool
    created_at: str
    created_by: str
    revoked: bool
    revoked_at: str


class CreatedSharedLink(SharedLinkOut):
    link: str = Field(
        description="the link token, shown once: open /share/<link> or exchange it for a session"
    )


class SharedLinkSession(BaseModel):
    token: str = Field(description="send as Authorization: Bearer to the query API; read-only, one site")
    expires_at: int
    site_id: str
    domain: str
    timezone: str


class SharedLinkSite(BaseModel):
    site_id: str
    domain: str
    link_id: str
    permissions: list[str]


class AuditEntry(BaseModel):
    audit_id: str
    at: str
    org_id: str
    site_id: str
    actor_type: str
    actor_id: str
    actor_email: str
    action: str
    outcome: str
    target_type: str
    target_id: str
    source_ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntry]


class UsageOut(BaseModel):
    org_id: str
    month: str
    events: int
    limit: int | None
    over_limit: bool
    share_of_limit: float | None
    by_site: dict[str, int]


# ---------------------------------------------------------------------- annotations

Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
NoteContent = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]


class CreateAnnotation(_Request):
    site_id: Id
    date: dt.date = Field(description="the day the note is about (the site's local day)")
    content: NoteContent
    tags: list[Tag] = Field(default_factory=list, max_length=10)


class UpdateAnnotation(_Request):
    date: dt.date | None = None
    content: NoteContent | None = None
    tags: list[Tag] | None = Field(None, max_length=10)


class AnnotationOut(BaseModel):
    id: str
    site_id: str
    date: dt.date
    content: str
    tags: list[str]
    created_by: str
    created_at: str
    updated_at: str


# ---------------------------------------------------------------------- outgoing webhooks

WebhookEvent = Literal[
    "purchase.created", "purchase.refunded", "goal.completed", "visitor.identified", "attribution.updated"
]
WebhookUrl = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2048)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class CreateWebhook(_Request):
    site_id: Id
    url: WebhookUrl = Field(description="https URL that receives the signed POSTs (docs/webhooks.md)")
    events: list[WebhookEvent] = Field(min_length=1, max_length=5)
    description: Description = ""


class UpdateWebhook(_Request):
    url: WebhookUrl | None = None
    events: list[WebhookEvent] | None = Field(None, min_length=1, max_length=5)
    description: Description | None = None
    active: bool | None = Field(None, description="false: stop; true: resume (the failure count restarts)")


class WebhookOut(BaseModel):
    id: str
    site_id: str
    url: str
    events: list[str]
    description: str
    active: bool
    disabled_reason: str
    failure_count: int
    created_at: str
    updated_at: str
    created_by: str
    last_attempt_at: str | None
    last_success_at: str | None
    last_status: int | None
    last_error: str


class CreatedWebhook(WebhookOut):
    secret: str = Field(description="the signing secret (whsec_…): shown this once")


class TestEventOut(BaseModel):
    event_id: str
    type: str
    queued: bool = True


class DeliveryOut(BaseModel):
    delivery_id: str
    event_id: str
    event_type: str
    attempt: int
    attempted_at: str
    outcome: str
    http_status: int
    error: str
    duration_ms: int
    response_body: str
    retry_in_seconds: int
