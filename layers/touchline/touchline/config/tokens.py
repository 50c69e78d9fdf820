"""API tokens for `POST /api/v1/payments`: `touchline tokens create SITE` prints one once.

A token is 32 random bytes (`tl_` + URL-safe base64), so a plain SHA-256 is a safe way to store
it (no password stretching needed for a secret nobody chose); the item `TOKEN#<sha256>` / `TOKEN`
maps the hash to its site with one GetItem, and keeps the first characters to recognise it. Its
public id is the start of that hash (as for write keys), which `tokens revoke` takes; a revoked
token keeps its item (flagged, for the audit trail) and is refused once the resolver's cache
(`TOUCHLINE_SITE_CACHE_SECONDS`, 60 s by default) has let go of it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

TOKEN_PREFIX = "tl_"


class UnknownToken(ValueError):
    """No payments API token with that id."""


@dataclass(frozen=True, slots=True)
class ApiToken:
    site_id: str
    prefix: str
    name: str
    created_at: str
    token_id: str = ""
    revoked: bool = False
    revoked_at: str = ""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, site_id: str, name: str = "") -> tuple[str, ApiToken]:
        """A new token (returned once, never stored) and its record."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        created_at = datetime.now(UTC).isoformat(timespec="seconds")
        record = ApiToken(site_id, token[:10], name, created_at, token_id_of(token_hash(token)))
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
        if not item or item.get("revoked", {}).get("BOOL", False):
            return None
        return item["site_id"]["S"]

    def list(self, site_id: str | None = None) -> list[ApiToken]:
        tokens = [_from_item(item) for item in self._scan()]
        return sorted(
            (t for t in tokens if site_id is None or t.site_id == site_id),
            key=lambda t: (t.created_at, t.token_id),
        )

    def revoke(self, token_id: str) -> ApiToken:
        """Flag the token revoked (its item stays, for the audit trail); idempotent."""
        for item in self._scan():
            if _from_item(item).token_id == token_id:
                revoked_at = item.get("revoked_at", {}).get("S") or datetime.now(UTC).isoformat(
                    timespec="seconds"
                )
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET revoked = :t, revoked_at = :at",
                    ExpressionAttributeValues={":t": {"BOOL": True}, ":at": {"S": revoked_at}},
                )
                return _from_item({**item, "revoked": {"BOOL": True}, "revoked_at": {"S": revoked_at}})
        raise UnknownToken(f"no payments API token with id {token_id!r} (touchline tokens list)")

    def _scan(self) -> Iterator[dict[str, Any]]:
        for page in self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "TOKEN#"}, ":s": {"S": "TOKEN"}},
        ):
            yield from page.get("Items", [])


def token_id_of(digest: str) -> str:
    """The public id of a token: the start of its hash, safe to print and log."""
    return digest[:12]


def _from_item(item: dict[str, Any]) -> ApiToken:
    return ApiToken(
        site_id=item["site_id"]["S"],
        prefix=item["prefix"]["S"],
        name=item.get("name", {}).get("S", ""),
        created_at=item.get("created_at", {}).get("S", ""),
        token_id=token_id_of(item["pk"]["S"].removeprefix("TOKEN#")),
        revoked=bool(item.get("revoked", {}).get("BOOL", False)),
        revoked_at=item.get("revoked_at", {}).get("S", ""),
    )


class TokenResolver:
    """Token → site, caching hits for `ttl_seconds` (misses are not cached: they are cheap to
    refuse again, and caching them would let a flood of bad tokens fill the cache). A revoked
    token is a miss, so it is refused at most `ttl_seconds` after `revoke`."""

    def __init__(
        self,
        store: TokenStore,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
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
