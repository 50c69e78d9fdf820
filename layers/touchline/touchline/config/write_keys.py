"""Write keys: the credential server-side SDKs (Segment, Customer.io) send to the tracking API.

A key is shown once, when it is created; the config table keeps only its SHA-256, so a leaked
table dump cannot be replayed. One item per key: `pk=WRITEKEY#<sha256 hex>`, `sk=KEY`, holding
the site it writes to, a short public id (for listing and revoking), and a revoked flag. Keys
are looked up by hash with one GetItem, the only read on the API's hot path (and cached).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

KEY_PREFIX = "tlwk_"
SORT_KEY = "KEY"


class UnknownKey(ValueError):
    """No write key with that id."""


@dataclass(frozen=True, slots=True)
class WriteKey:
    key_id: str
    site_id: str
    site_domain: str
    created_at: str
    revoked: bool
    revoked_at: str = ""


def key_hash(key: str) -> str:
    return hashlib.sha256(key.strip().encode()).hexdigest()


def key_id_of(digest: str) -> str:
    """The public id of a key: the start of its hash, safe to print and log."""
    return digest[:12]


class WriteKeyStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, site_id: str, site_domain: str) -> tuple[str, WriteKey]:
        """A new key for the site: (the key itself, shown once; its stored record)."""
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        digest = key_hash(key)
        record = WriteKey(
            key_id=key_id_of(digest),
            site_id=site_id,
            site_domain=site_domain,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            revoked=False,
        )
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"WRITEKEY#{digest}"},
                "sk": {"S": SORT_KEY},
                "key_id": {"S": record.key_id},
                "site_id": {"S": site_id},
                "site_domain": {"S": site_domain},
                "created_at": {"S": record.created_at},
                "revoked": {"BOOL": False},
            },
            ConditionExpression="attribute_not_exists(pk)",
        )
        return key, record

    def lookup(self, key: str) -> WriteKey | None:
        """The record of a key as sent by a client (revoked ones included), or None."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"WRITEKEY#{key_hash(key)}"}, "sk": {"S": SORT_KEY}},
            ConsistentRead=False,
        ).get("Item")
        return _from_item(item) if item else None

    def keys(self, site_id: str | None = None) -> list[WriteKey]:
        keys: list[WriteKey] = []
        for item in self._scan():
            record = _from_item(item)
            if site_id is None or record.site_id == site_id:
                keys.append(record)
        return sorted(keys, key=lambda k: (k.site_id, k.created_at, k.key_id))

    def revoke(self, key_id: str) -> WriteKey:
        """Mark a key revoked (kept for the audit trail); the API refuses it once caches expire."""
        for item in self._scan():
            if item["key_id"]["S"] == key_id:
                revoked_at = datetime.now(UTC).isoformat(timespec="seconds")
                self._client.update_item(
                    TableName=self._table,
                    Key={"pk": item["pk"], "sk": item["sk"]},
                    UpdateExpression="SET revoked = :t, revoked_at = :at",
                    ExpressionAttributeValues={":t": {"BOOL": True}, ":at": {"S": revoked_at}},
                )
                item = {**item, "revoked": {"BOOL": True}, "revoked_at": {"S": revoked_at}}
                return _from_item(item)
        raise UnknownKey(f"no write key with id {key_id!r}")

    def _scan(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("scan")
        for page in paginator.paginate(
            TableName=self._table,
            FilterExpression="begins_with(pk, :p) AND sk = :s",
            ExpressionAttributeValues={":p": {"S": "WRITEKEY#"}, ":s": {"S": SORT_KEY}},
        ):
            items.extend(page.get("Items", []))
        return items


def _from_item(item: dict[str, Any]) -> WriteKey:
    return WriteKey(
        key_id=item["key_id"]["S"],
        site_id=item["site_id"]["S"],
        site_domain=item.get("site_domain", {}).get("S", ""),
        created_at=item.get("created_at", {}).get("S", ""),
        revoked=bool(item.get("revoked", {}).get("BOOL", False)),
        revoked_at=item.get("revoked_at", {}).get("S", ""),
    )
