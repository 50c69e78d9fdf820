"""API tokens for `POST /api/v1/payments`: `touchline tokens create SITE` prints one once.

A token is 32 random bytes (`tl_` + URL-safe base64), so a plain SHA-256 is a safe way to store
it (no password stretching needed for a secret nobody chose); the item `TOKEN#<sha256>` / `TOKEN`
maps the hash to its site with one GetItem, and keeps the first characters to recognise it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TOKEN_PREFIX = "tl_"


@dataclass(frozen=True, slots=True)
class ApiToken:
    site_id: str
    prefix: str
    name: str
    created_at: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, site_id: str, name: str = "") -> tuple[str, ApiToken]:
        """A new token (returned once, never stored) and its record."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        record = ApiToken(site_id, token[:10], name, datetime.now(UTC).isoformat(timespec="seconds"))
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"TOKEN#{token_hash(token)}"},
                "sk": {"S": "TOKEN"},
                "site_id": {"S": site_id},
                "prefix": {"S": record.prefix},
                "name": {"S": name},
                "created_at": {"S": record.created_at},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return token, record

    def site_for(self, token: str) -> str | None:
        if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
            return None
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"TOKEN#{token_hash(token)}"}, "sk": {"S": "TOKEN"}}
        ).get("Item")
        return item["site_id"]["S"] if item else None

    def list(self, site_id: str | None = None) -> list[ApiToken]:
        tokens: list[ApiToken] = []
        for page in self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "TOKEN#"}, ":s": {"S": "TOKEN"}},
        ):
            for item in page.get("Items", []):
                token = ApiToken(
                    item["site_id"]["S"],
                    item["prefix"]["S"],
                    item.get("name", {}).get("S", ""),
                    item.get("created_at", {}).get("S", ""),
                )
                if site_id is None or token.site_id == site_id:
                    tokens.append(token)
        return sorted(tokens, key=lambda t: t.created_at)


class TokenResolver:
    """Token → site, caching hits for `ttl_seconds` (misses are not cached: they are cheap to
    refuse again, and caching them would let a flood of bad tokens fill the cache)."""

    def __init__(
        self, store: TokenStore, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def site_for(self, token: str) -> str | None:
        key = token_hash(token)
        cached = self._cache.get(key)
        if cached and cached[0] > self._clock():
            return cached[1]
        site_id = self._store.site_for(token)
        if site_id is not None:
            if len(self._cache) >= 1000:
                self._cache.clear()
            self._cache[key] = (self._clock() + self._ttl, site_id)
        return site_id
