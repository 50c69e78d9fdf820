"""The daily salts of cookieless visitor ids in the config table (`touchline.enrichment.salts`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from touchline.enrichment.salts import expires_at

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

SALT_PK = "SALT"


class DynamoDBSaltStore:
    """Salts as `pk="SALT", sk="YYYY-MM-DD"` items in the config table (`salt` binary, TTL).

    Creation is race-safe: a conditional put that only succeeds when no live salt exists, and
    the loser reads back the winner's salt with a consistent read, so every container converges
    on one salt per day. Items past `expires_at` that TTL has not yet deleted count as absent.
    """

    def __init__(
        self, client: DynamoDBClient, table_name: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._client = client
        self._table = table_name
        self._clock = clock

    def get(self, day: date) -> bytes | None:
        return self._read(day, consistent=False)

    def put(self, day: date, salt: bytes) -> bytes:
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": SALT_PK},
                    "sk": {"S": day.isoformat()},
                    "salt": {"B": salt},
                    "expires_at": {"N": str(expires_at(day))},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(self._clock()))}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            stored = self._read(day, consistent=True)
            if stored is None:  # expired between the check and the read: unlikely, but be total
                raise
            return stored
        return salt

    def _read(self, day: date, consistent: bool) -> bytes | None:
        response = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": SALT_PK}, "sk": {"S": day.isoformat()}},
            ConsistentRead=consistent,
        )
        item = response.get("Item")
        if not item or "salt" not in item:
            return None
        if int(item.get("expires_at", {}).get("N", "0")) <= self._clock():
            return None
        return bytes(item["salt"]["B"])
