"""GDPR suppressions in the config table (`touchline.identity.suppression`).

One item per suppressed key: `pk = SUPPRESS#<site_id>`, `sk = <type>#<value>`, with the
`deletion` it came from (`user:<id>` or `email:<sha256>`), so `touchline people unsuppress`
lifts exactly what one `people delete` suppressed. A site's set is one Query.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchline.identity.suppression import Key, Suppressions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def _pk(site_id: str) -> str:
    return f"SUPPRESS#{site_id}"


def _key(sort_key: str) -> Key:
    kind, _, value = sort_key.partition("#")
    return kind, value


class SuppressionStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def of_site(self, site_id: str) -> frozenset[Key]:
        return frozenset(_key(item["sk"]["S"]) for item in self._items(site_id))

    def add(self, site_id: str, keys: Iterable[Key], deletion: str) -> int:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        added = 0
        for kind, value in sorted(set(keys)):
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": _pk(site_id)},
                    "sk": {"S": f"{kind}#{value}"},
                    "deletion": {"S": deletion},
                    "created_at": {"S": now},
                },
            )
            added += 1
        return added

    def remove(self, site_id: str, deletion: str) -> int:
        """Lift what one deletion suppressed; the number of keys lifted."""
        removed = 0
        for item in self._items(site_id):
            if item.get("deletion", {}).get("S") == deletion:
                self._client.delete_item(TableName=self._table, Key={"pk": item["pk"], "sk": item["sk"]})
                removed += 1
        return removed

    def _items(self, site_id: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _pk(site_id)}},
            ConsistentRead=True,
        ):
            items.extend(page.get("Items", []))
        return items


def site_suppressions(client: DynamoDBClient, table_name: str, ttl_seconds: float) -> Suppressions:
    """Deleted people's identifiers, each site's read once per `ttl_seconds` per container."""
    return Suppressions(SuppressionStore(client, table_name), ttl_seconds=ttl_seconds)
