"""Environment variables as pydantic models: one per function, read once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, Self

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from touchline.warehouse.retention import Retention


class _EnvModel(BaseModel):
    # defer_build: every function imports every function's settings; each builds its validator
    # when first read (~15 ms of a cold import otherwise).
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True, defer_build=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        env = os.environ if environ is None else environ
        return cls.model_validate({k: v for k, v in env.items() if k.startswith("TOUCHLINE_")})


class CollectorSettings(_EnvModel):
    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    events_queue_url: str = Field(alias="TOUCHLINE_EVENTS_QUEUE_URL")
    allowed_origins: str = Field("*", alias="TOUCHLINE_ALLOWED_ORIGINS")
    site_cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)
    # Whose word the client IP is taken on (touchline.aws.client_ip): none | cloudfront | 1-5.
    trusted_proxy: str = Field("none", alias="TOUCHLINE_TRUSTED_PROXY")


class WarehouseSettings(_EnvModel):
    """Where ClickHouse is: a URL, or the Secrets Manager secret that holds it."""

    clickhouse_url: str | None = Field(None, alias="TOUCHLINE_CLICKHOUSE_URL")
    clickhouse_url_secret: str | None = Field(None, alias="TOUCHLINE_CLICKHOUSE_URL_SECRET")
    # Days kept per table family (touchline.warehouse.retention); 0 or unset: follow the family
    # below (sessions as events, metrics at least five years).
    retention_days: int = Field(730, alias="TOUCHLINE_RETENTION_DAYS", ge=1, le=3650)
    session_retention_days: int = Field(0, alias="TOUCHLINE_SESSION_RETENTION_DAYS", ge=0, le=3650)
    metrics_retention_days: int = Field(0, alias="TOUCHLINE_METRICS_RETENTION_DAYS", ge=0, le=3650)
    # The secret is read again after this long; a rotated URL (password) is used from then on.
    secret_cache_seconds: int = Field(300, alias="TOUCHLINE_SECRET_CACHE_SECONDS", ge=0)

    @field_validator("clickhouse_url", "clickhouse_url_secret")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    def retention(self) -> Retention:
        """Raises RetentionError when the families' days contradict each other."""
        from touchline.warehouse.retention import Retention  # the warehouse's, not every Lambda's

        return Retention(
            self.retention_days, self.session_retention_days or None, self.metrics_retention_days or None
        )


class WebhooksSettings(_EnvModel):
    """The webhooks function: Stripe/Shopify webhooks and the payments API (docs/revenue.md)."""

    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    events_queue_url: str = Field(alias="TOUCHLINE_EVENTS_QUEUE_URL")
    # Signing secrets and sites are cached per container; a rotated secret is seen after this.
    secret_cache_seconds: int = Field(300, alias="TOUCHLINE_SECRET_CACHE_SECONDS", ge=0)
    site_cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)
    # Stripe retries for 3 days, Shopify for 4 hours: remember a delivery a little longer.
    idempotency_seconds: int = Field(4 * 86400, alias="TOUCHLINE_IDEMPOTENCY_SECONDS", ge=60)
    # How old a signed timestamp (Stripe, Paddle, Polar) may be before it is refused as a replay.
    signature_tolerance_seconds: int = Field(
        300,
        validation_alias=AliasChoices(
            "TOUCHLINE_SIGNATURE_TOLERANCE_SECONDS", "TOUCHLINE_STRIPE_TOLERANCE_SECONDS"
        ),
        ge=1,
    )


class TrackingApiSettings(_EnvModel):
    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    events_queue_url: str = Field(alias="TOUCHLINE_EVENTS_QUEUE_URL")
    # Write key → site lookups are cached like the collector's domain → site ones (same setting).
    key_cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)


class QuerySettings(_EnvModel):
    """The query function: the Stats API v2-compatible read API (docs/query-api.md)."""

    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    # Sites (time zone, goals, aggregation watermark) are cached per container this long.
    site_cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)
    # A revoked API key stops working within this long (verified keys are cached).
    key_cache_seconds: float = Field(5.0, alias="TOUCHLINE_KEY_CACHE_SECONDS", ge=0)
    # Results are keyed on the data version; these only bound the memory they use.
    cache_seconds: float = Field(300.0, alias="TOUCHLINE_QUERY_CACHE_SECONDS", ge=0)
    cache_entries: int = Field(512, alias="TOUCHLINE_QUERY_CACHE_ENTRIES", ge=0)
    default_rate_limit: int = Field(600, alias="TOUCHLINE_RATE_LIMIT_PER_HOUR", ge=1)
    # Refused credentials are audited through the events queue (docs/accounts.md).
    events_queue_url: str = Field("", alias="TOUCHLINE_EVENTS_QUEUE_URL")
    # People's memberships and shared-link sessions are cached this long (revocations take effect within it).
    people_cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)


class AggregateSettings(_EnvModel):
    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    # Site groups aggregated in parallel (one per ClickHouse shard; touchline.aggregate.groups),
    # and the FIFO queue their runs wait on. 1: the schedule aggregates every site itself.
    aggregation_groups: int = Field(1, alias="TOUCHLINE_AGGREGATION_GROUPS", ge=1, le=1000)
    aggregation_queue_url: str | None = Field(None, alias="TOUCHLINE_AGGREGATION_QUEUE_URL")


class SyncSettings(_EnvModel):
    """The sync function: scheduled third-party syncs (docs/syncs.md)."""

    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    # Where the 15-minute fan-out queues one run per connected site+provider.
    sync_queue_url: str | None = Field(None, alias="TOUCHLINE_SYNC_QUEUE_URL")
    # Stop fetching this long before the Lambda timeout: the last flush and checkpoint need it.
    reserve_seconds: float = Field(60.0, alias="TOUCHLINE_SYNC_RESERVE_SECONDS", ge=5)
    batch_rows: int = Field(20_000, alias="TOUCHLINE_SYNC_BATCH_ROWS", ge=100)
    # Credentials are cached per container; replaced ones are used after at most this long.
    secret_cache_seconds: int = Field(60, alias="TOUCHLINE_SECRET_CACHE_SECONDS", ge=0)


class OutgoingWebhooksSettings(_EnvModel):
    """The outgoing webhooks function: dispatch and delivery (docs/webhooks.md)."""

    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    events_queue_url: str = Field("", alias="TOUCHLINE_EVENTS_QUEUE_URL")
    queue_url: str = Field("", alias="TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL")
    dead_letter_queue_url: str = Field("", alias="TOUCHLINE_OUTGOING_WEBHOOKS_DLQ_URL")
    # Loopback targets (and http to them): the local stack and tests only (docs/webhooks.md).
    allow_loopback: bool = Field(False, alias="TOUCHLINE_WEBHOOKS_ALLOW_LOOPBACK")
    timeout_seconds: float = Field(10.0, alias="TOUCHLINE_WEBHOOKS_TIMEOUT_SECONDS", gt=0, le=30)
    max_attempts: int = Field(12, alias="TOUCHLINE_WEBHOOKS_MAX_ATTEMPTS", ge=1, le=100)
    # The n-th retry waits base x 2^(n-1) seconds (at most 900, SQS's longest delay), ±10 %.
    retry_base_seconds: float = Field(30.0, alias="TOUCHLINE_WEBHOOKS_RETRY_BASE_SECONDS", ge=0)
    disable_after: int = Field(50, alias="TOUCHLINE_WEBHOOKS_DISABLE_AFTER", ge=1)
    # Rows become visible a little after their inserted_at: the dispatcher reads up to this far back.
    settle_ms: int = Field(5000, alias="TOUCHLINE_WEBHOOKS_SETTLE_MS", ge=0)
    secret_cache_seconds: int = Field(300, alias="TOUCHLINE_SECRET_CACHE_SECONDS", ge=0)


class DashboardSettings(_EnvModel):
    """The dashboard function: serves the built browser app (docs/dashboard.md)."""

    # Where the browser signs in (Cognito's API); the page's CSP lets it connect there.
    cognito_endpoint: str | None = Field(None, alias="TOUCHLINE_COGNITO_ENDPOINT")


class AccountsSettings(_EnvModel):
    """The accounts function: the management API, Cognito invitations, shared links (docs/accounts.md)."""

    config_table: str = Field(alias="TOUCHLINE_CONFIG_TABLE")
    events_queue_url: str = Field(alias="TOUCHLINE_EVENTS_QUEUE_URL")
    user_pool_id: str = Field("", alias="TOUCHLINE_USER_POOL_ID")
    user_pool_client_id: str = Field("", alias="TOUCHLINE_USER_POOL_CLIENT_ID")
    # Where browsers send InitiateAuth; empty: Cognito's regional endpoint. The local stack: moto.
    cognito_endpoint: str = Field("", alias="TOUCHLINE_COGNITO_ENDPOINT")
    # "email": Cognito mails the temporary password (AWS); "return": the API hands it back (local).
    invite_delivery: Literal["email", "return"] = Field("email", alias="TOUCHLINE_INVITE_DELIVERY")
    # People's memberships, API keys and shared links are cached this long: revocations and role
    # changes take effect within it.
    cache_seconds: float = Field(60.0, alias="TOUCHLINE_SITE_CACHE_SECONDS", ge=0)
    # The public base URL webhook URLs are shown with; empty: the request's own host.
    public_url: str = Field("", alias="TOUCHLINE_PUBLIC_URL")
    # Outgoing webhooks: where "send test event" queues its delivery; loopback URLs (dev only).
    outgoing_webhooks_queue_url: str = Field("", alias="TOUCHLINE_OUTGOING_WEBHOOKS_QUEUE_URL")
    webhooks_allow_loopback: bool = Field(False, alias="TOUCHLINE_WEBHOOKS_ALLOW_LOOPBACK")
