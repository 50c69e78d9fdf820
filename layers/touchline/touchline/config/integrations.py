"""Payment integrations of a site: which provider, and the Secrets Manager secret holding its
webhook signing secret (Stripe `whsec_…`, Shopify app client secret, Lemon Squeezy signing
secret, Polar webhook secret, Paddle notification secret key `pdl_ntfset_…`).

The secret itself never sits in the config table: `touchline integrations add` writes it to
Secrets Manager under `touchline/webhooks/<site_id>/<provider>` (the webhooks function may read
`touchline/webhooks/*` and nothing else) and stores the name at `SITE#<id>` / `INTEGRATION#<provider>`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

Provider = Literal["stripe", "shopify", "lemonsqueezy", "polar", "paddle"]
PROVIDERS: tuple[Provider, ...] = ("stripe", "shopify", "lemonsqueezy", "polar", "paddle")
SECRET_PREFIX = "touchline/webhooks/"


@dataclass(frozen=True, slots=True)
class Integration:
    site_id: str
    provider: str
    secret_name: str
    created_at: str


def secret_name(site_id: str, provider: str) -> str:
    return f"{SECRET_PREFIX}{site_id}/{provider}"


class IntegrationStore:
    """Integration items in the config table, and their secrets in Secrets Manager."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, site_id: str, provider: str) -> Integration | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"INTEGRATION#{provider}"}},
        ).get("Item")
        if not item:
            return None
        return Integration(
            site_id, provider, item["secret_name"]["S"], item.get("created_at", {}).get("S", "")
        )

    def list(self, site_id: str) -> list[Integration]:
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}, ":sk": {"S": "INTEGRATION#"}},
        ).get("Items", [])
        return [
            Integration(
                site_id,
                item["sk"]["S"].removeprefix("INTEGRATION#"),
                item["secret_name"]["S"],
                item.get("created_at", {}).get("S", ""),
            )
            for item in items
        ]

    def add(
        self, site_id: str, provider: Provider, secret: str, secrets: SecretsManagerClient
    ) -> Integration:
        """Store (or replace) the provider's signing secret and point the site at it."""
        name = secret_name(site_id, provider)
        try:
            secrets.put_secret_value(SecretId=name, SecretString=secret)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(
                Name=name,
                SecretString=secret,
                Description=f"Touchline: {provider} webhook signing secret of site {site_id}",
            )
        integration = Integration(site_id, provider, name, datetime.now(UTC).isoformat(timespec="seconds"))
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SITE#{site_id}"},
                "sk": {"S": f"INTEGRATION#{provider}"},
                "provider": {"S": provider},
                "secret_name": {"S": name},
                "created_at": {"S": integration.created_at},
            },
        )
        return integration

    def remove(self, site_id: str, provider: str) -> None:
        """Forget the integration (the caller deletes its secret)."""
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"INTEGRATION#{provider}"}},
        )


class SecretFetcher(Protocol):
    def __call__(self, name: str) -> str: ...


class WebhookSecrets:
    """A site's signing secrets for a provider, cached for `ttl_seconds` (found ones only, so a
    newly added integration works at once). A secret may hold several, comma separated, so a
    rotated secret and its predecessor both verify during the provider's overlap."""

    def __init__(
        self,
        integrations: IntegrationStore,
        fetch: SecretFetcher,
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._integrations = integrations
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, list[str]]] = {}

    def get(self, site_id: str, provider: str) -> list[str] | None:
        key = (site_id, provider)
        cached = self._cache.get(key)
        if cached and cached[0] > self._clock():
            return cached[1]
        integration = self._integrations.get(site_id, provider)
        if integration is None:
            return None
        values = [part.strip() for part in self._fetch(integration.secret_name).split(",") if part.strip()]
        if not values:
            return None
        if len(self._cache) >= 1000:
            self._cache.clear()
        self._cache[key] = (self._clock() + self._ttl, values)
        return values
