"""Shared links (seed 001's public dashboard): read-only `stats:read` on one site, for anyone
holding the link, optionally behind a password.

A link is `tlsh_<site>.<link id>.<secret>`: the config table keeps the SHA-256 of the secret
(the link is shown once, like a key), and, for protected links, an Argon2id hash of the password
(argon2-cffi, RFC 9106's low-memory profile: memory-hard, so a stolen table does not give the
passwords away cheaply). A viewer exchanges the link (and password) for a session token
(`POST /api/v1/shared-links/session`) that lasts `SESSION_SECONDS`; every request with it checks,
through a cache of `ttl_seconds`, that the link still exists and is not revoked. Items live
under the site (`SITE#<site>` / `SHARE#<link id>`), so they go when the site goes.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from touchline.accounts.orgs import now_text
from touchline.accounts.permissions import Permission, Principal
from touchline.ttl_cache import TtlCache

if TYPE_CHECKING:
    from argon2 import PasswordHasher
    from mypy_boto3_dynamodb.client import DynamoDBClient

LINK_PREFIX = "tlsh_"
SESSION_PREFIX = "tlss_"
SESSION_SECONDS = 8 * 3600
# Wrong passwords tolerated per link per window before answers become 429s.
MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 900
_LINK = re.compile(r"^tlsh_([0-9a-f]{1,64})\.([0-9a-f]{12})\.([A-Za-z0-9_\-]{20,100})$")


class SharedLinkError(ValueError):
    """The link or password is not right (the caller answers 401 with nothing more)."""


class TooManyAttempts(SharedLinkError):
    """Too many wrong passwords for this link lately (429)."""


@dataclass(frozen=True, slots=True)
class SharedLink:
    link_id: str
    site_id: str
    org_id: str
    name: str
    protected: bool
    created_at: str
    created_by: str
    revoked: bool = False
    revoked_at: str = ""


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    link: SharedLink
    expires_at: int


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def password_hasher() -> PasswordHasher:
    from argon2 import PasswordHasher, profiles

    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


class SharedLinkStore:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        hasher: Callable[[], PasswordHasher] = password_hasher,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table_name
        self._hasher = hasher
        self._clock = clock

    def create(
        self, site_id: str, org_id: str, *, name: str = "", password: str | None = None, created_by: str = ""
    ) -> tuple[str, SharedLink]:
        """A new link (returned once, never stored) and its record."""
        if password is not None and not 8 <= len(password) <= 200:
            raise ValueError("a shared link password is 8-200 characters")
        link_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        link = SharedLink(
            link_id, site_id, org_id, name.strip()[:100], password is not None, now_text(), created_by
        )
        item: dict[str, Any] = {
            "pk": {"S": f"SITE#{site_id}"},
            "sk": {"S": f"SHARE#{link_id}"},
            "link_id": {"S": link_id},
            "site_id": {"S": site_id},
            "org_id": {"S": org_id},
            "name": {"S": link.name},
            "secret_sha256": {"S": _sha256(secret)},
            "created_at": {"S": link.created_at},
            "created_by": {"S": created_by},
            "revoked": {"BOOL": False},
        }
        if password is not None:
            item["password_hash"] = {"S": self._hasher().hash(password)}
        self._client.put_item(
            TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
        )
        return f"{LINK_PREFIX}{site_id}.{link_id}.{secret}", link

    def list(self, site_id: str) -> list[SharedLink]:
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
            ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}, ":sk": {"S": "SHARE#"}},
        ).get("Items", [])
        links = [_link(item) for item in items if "#FAILS" not in item["sk"]["S"]]
        return sorted(links, key=lambda link: link.created_at)

    def get(self, site_id: str, link_id: str) -> SharedLink | None:
        item = self._item(site_id, link_id)
        return _link(item) if item else None

    def revoke(self, site_id: str, link_id: str) -> SharedLink | None:
        revoked_at = now_text()
        try:
            item = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"SHARE#{link_id}"}},
                UpdateExpression="SET revoked = :t, revoked_at = :at",
                ExpressionAttributeValues={":t": {"BOOL": True}, ":at": {"S": revoked_at}},
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self._client.exceptions.ConditionalCheckFailedException:
            return None
        return _link(item)

    def open_session(self, token: str, password: str | None) -> Session:
        """Check the link (and its password) and start a session for it."""
        match = _LINK.match(token.strip())
        if not match:
            raise SharedLinkError("not a shared link")
        site_id, link_id, secret = match.groups()
        item = self._item(site_id, link_id)
        if not item or not hmac.compare_digest(item["secret_sha256"]["S"], _sha256(secret)):
            raise SharedLinkError("unknown or revoked link")
        link = _link(item)
        if link.revoked:
            raise SharedLinkError("unknown or revoked link")
        if "password_hash" in item:
            self._check_password(site_id, link_id, item["password_hash"]["S"], password)
        session = SESSION_PREFIX + secrets.token_urlsafe(32)
        expires_at = int(self._clock()) + SESSION_SECONDS
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SHARESESSION#{_sha256(session)}"},
                "sk": {"S": "SESSION"},
                "site_id": {"S": site_id},
                "link_id": {"S": link_id},
                "org_id": {"S": link.org_id},
                "expires_at": {"N": str(expires_at)},
            },
        )
        return Session(session, link, expires_at)

    def _check_password(self, site_id: str, link_id: str, stored: str, password: str | None) -> None:
        from argon2.exceptions import InvalidHashError, VerificationError

        window = int(self._clock()) // FAILURE_WINDOW_SECONDS
        key = {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"SHARE#{link_id}#FAILS#{window}"}}
        fails = self._client.get_item(TableName=self._table, Key=key, ConsistentRead=True).get("Item")
        if fails and int(fails["count"]["N"]) >= MAX_FAILURES:
            raise TooManyAttempts("too many wrong passwords for this link; try again later")
        try:
            if password is None:
                raise VerificationError("no password")
            self._hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            self._client.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="ADD #c :one SET expires_at = :exp",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":exp": {"N": str((window + 2) * FAILURE_WINDOW_SECONDS)},
                },
            )
            raise SharedLinkError("wrong password") from None

    def session(self, token: str) -> tuple[str, str, str] | None:
        """(site, link, org) of a live session token, or None."""
        if not token.startswith(SESSION_PREFIX) or len(token) > 100:
            return None
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SHARESESSION#{_sha256(token)}"}, "sk": {"S": "SESSION"}},
        ).get("Item")
        if not item or int(item["expires_at"]["N"]) <= self._clock():
            return None  # DynamoDB's TTL deletes expired items only eventually
        return item["site_id"]["S"], item["link_id"]["S"], item["org_id"]["S"]

    def _item(self, site_id: str, link_id: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"SHARE#{link_id}"}},
            ConsistentRead=True,
        ).get("Item")
        return item


class SharedLinkPrincipals:
    """Session token → principal, checking the link is still live; both lookups are cached
    `ttl_seconds`, which is how long a revoked link can go on working (docs/accounts.md)."""

    def __init__(
        self, store: SharedLinkStore, ttl_seconds: float = 60.0, clock: Callable[[], float] = time.monotonic
    ):
        self._store = store
        self._sessions: TtlCache[str, tuple[str, str, str]] = TtlCache(ttl_seconds, clock=clock)
        self._links: TtlCache[tuple[str, str], SharedLink] = TtlCache(ttl_seconds, clock=clock)

    def principal(self, token: str) -> Principal | None:
        found = self._sessions.get(_sha256(token), lambda _key: self._store.session(token))
        if found is None:
            return None
        site_id, link_id, org_id = found
        link = self._links.get((site_id, link_id), lambda key: self._store.get(*key))
        if link is None or link.revoked:
            return None
        return Principal(
            kind="shared_link",
            id=link_id,
            org_id=org_id,
            site_ids=frozenset({site_id}),
            scopes=frozenset({Permission.STATS_READ}),
        )


def _link(item: dict[str, Any]) -> SharedLink:
    return SharedLink(
        link_id=item["link_id"]["S"],
        site_id=item["site_id"]["S"],
        org_id=item.get("org_id", {}).get("S", ""),
        name=item.get("name", {}).get("S", ""),
        protected="password_hash" in item,
        created_at=item.get("created_at", {}).get("S", ""),
        created_by=item.get("created_by", {}).get("S", ""),
        revoked=bool(item.get("revoked", {}).get("BOOL", False)),
        revoked_at=item.get("revoked_at", {}).get("S", ""),
    )
