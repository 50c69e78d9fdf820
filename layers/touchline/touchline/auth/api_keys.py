"""Scoped API keys for scripts (seed 001 `api_tokens`, seed 002 scoped keys).

A key reads `tlk_<key id>_<secret>`: the key id (8 random characters, shown in listings as the
visible prefix `tlk_<key id>`) finds the record with one GetItem, and the SHA-256 of the whole
key is compared in constant time with the stored hash. The secret is 32 random bytes, so a fast
hash is safe (nobody chose it; no password stretching needed) and the key itself is never
stored. The record (`APIKEY#<key id>` / `APIKEY`) is designed to belong to an account later:
`owner` (a user) and `org_id` (an organisation) are kept when set, and a key with an `org_id`
and no sites reads every site of its organisation (touchline.auth.principal).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from touchline.auth.principal import SCOPES, Principal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

KEY_PREFIX = "tlk_"
DEFAULT_RATE_LIMIT = 600  # requests per hour per key (Plausible's default)
_KEY = re.compile(r"^tlk_([a-z0-9]{8})_([A-Za-z0-9_-]{43})$")
_ID_ALPHABET = string.ascii_lowercase + string.digits


class InvalidKeyRequest(ValueError):
    """A key cannot be created as asked (unknown scope, bad expiry or limit)."""


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    name: str
    site_ids: tuple[str, ...]
    scopes: tuple[str, ...]
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    rate_limit: int = DEFAULT_RATE_LIMIT
    owner: str | None = None
    org_id: str | None = None
    last_used_at: str | None = field(default=None, compare=False)

    @property
    def prefix(self) -> str:
        return f"{KEY_PREFIX}{self.key_id}"

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and datetime.fromisoformat(self.expires_at) <= now

    def status(self, now: datetime) -> str:
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expired(now) else "active"

    def principal(self) -> Principal:
        return Principal(
            kind="api_key",
            id=self.key_id,
            scopes=frozenset(self.scopes),
            site_ids=frozenset(self.site_ids),
            org_id=self.org_id,
            rate_limit_per_hour=self.rate_limit,
            name=self.name,
        )


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def key_id_of(key: str) -> str | None:
    match = _KEY.match(key)
    return match.group(1) if match else None


class ApiKeyStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def create(
        self,
        site_ids: list[str],
        scopes: list[str],
        *,
        name: str = "",
        expires_days: int | None = None,
        rate_limit: int = DEFAULT_RATE_LIMIT,
        owner: str | None = None,
        org_id: str | None = None,
    ) -> tuple[str, ApiKey]:
        """A new key (returned once, never stored) and its record."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise InvalidKeyRequest(
                f"scopes must be among {', '.join(SCOPES)} (got {', '.join(unknown) or 'none'})"
            )
        if not site_ids and org_id is None:
            raise InvalidKeyRequest("a key needs at least one site (or an organisation)")
        if expires_days is not None and not 1 <= expires_days <= 3650:
            raise InvalidKeyRequest("--expires-days must be 1-3650")
        if not 1 <= rate_limit <= 1_000_000:
            raise InvalidKeyRequest("--rate-limit must be 1-1000000 requests per hour")
        if len(name) > 200:
            raise InvalidKeyRequest("a key name has at most 200 characters")
        now = self._clock()
        key_id = "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))
        key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
        record = ApiKey(
            key_id=key_id,
            name=name,
            site_ids=tuple(sorted(set(site_ids))),
            scopes=tuple(sorted(set(scopes))),
            created_at=now.isoformat(timespec="seconds"),
            expires_at=(now + timedelta(days=expires_days)).isoformat(timespec="seconds")
            if expires_days
            else None,
            rate_limit=rate_limit,
            owner=owner,
            org_id=org_id,
        )
        item: dict[str, Any] = {
            "pk": {"S": f"APIKEY#{key_id}"},
            "sk": {"S": "APIKEY"},
            "key_id": {"S": key_id},
            "secret_hash": {"S": key_hash(key)},
            "name": {"S": name},
            "scopes": {"SS": list(record.scopes)},
            "created_at": {"S": record.created_at},
            "rate_limit": {"N": str(rate_limit)},
        }
        if record.site_ids:
            item["site_ids"] = {"SS": list(record.site_ids)}
        for attribute in ("expires_at", "owner", "org_id"):
            value = getattr(record, attribute)
            if value is not None:
                item[attribute] = {"S": value}
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )
        return key, record

    def get(self, key_id: str) -> tuple[ApiKey, str] | None:
        """The record and its stored hash."""
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"APIKEY#{key_id}"}, "sk": {"S": "APIKEY"}}
        ).get("Item")
        if not item:
            return None
        return _record(item), item["secret_hash"]["S"]

    def verify(self, key: str) -> ApiKey | None:
        """The record of a valid, unexpired, unrevoked `key`; None for anything else."""
        key_id = key_id_of(key)
        if key_id is None:
            return None
        found = self.get(key_id)
        if found is None:
            return None
        record, stored = found
        if not hmac.compare_digest(stored, key_hash(key)):
            return None
        if record.revoked_at or record.expired(self._clock()):
            return None
        return record

    def revoke(self, key_id: str) -> ApiKey | None:
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"APIKEY#{key_id}"}, "sk": {"S": "APIKEY"}},
                UpdateExpression="SET revoked_at = if_not_exists(revoked_at, :now)",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": {"S": self._clock().isoformat(timespec="seconds")}},
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _record(item)

    def list(self, site_id: str | None = None) -> list[ApiKey]:
        keys: list[ApiKey] = []
        for page in self._client.get_paginator("scan").paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "APIKEY#"}, ":s": {"S": "APIKEY"}},
        ):
            for item in page.get("Items", []):
                record = _record(item)
                if site_id is None or site_id in record.site_ids:
                    keys.append(record)
        return sorted(keys, key=lambda k: (k.created_at, k.key_id))


def _record(item: dict[str, Any]) -> ApiKey:
    def text(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return str(value) if value is not None else None

    return ApiKey(
        key_id=item["key_id"]["S"],
        name=item.get("name", {}).get("S", ""),
        site_ids=tuple(sorted(item.get("site_ids", {}).get("SS", []))),
        scopes=tuple(sorted(item.get("scopes", {}).get("SS", []))),
        created_at=item.get("created_at", {}).get("S", ""),
        expires_at=text("expires_at"),
        revoked_at=text("revoked_at"),
        rate_limit=int(item.get("rate_limit", {}).get("N", DEFAULT_RATE_LIMIT)),
        owner=text("owner"),
        org_id=text("org_id"),
        last_used_at=text("last_used_at"),
    )


class ApiKeyAuthenticator:
    """`Authorization: Bearer tlk_…` → Principal, verified keys cached briefly per container
    (a revoked key stops working within `ttl_seconds`)."""

    def __init__(
        self, store: ApiKeyStore, ttl_seconds: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, ApiKey]] = {}

    def authenticate(self, authorization: str | None) -> Principal | None:
        if not authorization:
            return None
        scheme, _, token = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        token = token.strip()
        digest = key_hash(token)
        cached = self._cache.get(digest)
        now = self._clock()
        if cached and cached[0] > now:
            return cached[1].principal()
        record = self._store.verify(token)
        if record is None:
            return None
        if len(self._cache) >= 1000:
            self._cache.clear()
        self._cache[digest] = (now + self._ttl, record)
        return record.principal()
