"""Per-key rate limits enforced atomically in DynamoDB, across every concurrent Lambda.

One item per key and hour (`RATE#<key id>` / `<window start, epoch seconds>`): each request is a
single conditional `UpdateItem` that adds 1 only while the count is below the limit, so two
containers can never both take the last request of a window (DynamoDB serialises writes to an
item). The same write records when the key was last used, and a TTL removes old windows. A
fixed hourly window, as Plausible's 600 requests per hour; `X-RateLimit-Reset` says when it
ends.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

WINDOW_SECONDS = 3600


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_at: int  # epoch seconds when the window ends

    def headers(self, now: float) -> dict[str, str]:
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset_at),
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, self.reset_at - int(now)))
        return headers


class RateLimiter:
    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        window_seconds: int = WINDOW_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._table = table_name
        self._window = window_seconds
        self._clock = clock

    def hit(self, key_id: str, limit: int, cost: int = 1) -> RateDecision:
        """Take `cost` requests of the window (a batch of queries counts each of them), all or
        none: the condition leaves room for the whole cost."""
        now = self._clock()
        start = int(now) - int(now) % self._window
        reset = start + self._window
        if cost > limit:
            return RateDecision(False, limit, 0, reset)
        try:
            attributes = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"RATE#{key_id}"}, "sk": {"S": str(start)}},
                UpdateExpression="ADD requests :cost SET last_used_at = :now, expires_at = :ttl",
                ConditionExpression="attribute_not_exists(requests) OR requests <= :room",
                ExpressionAttributeValues={
                    ":cost": {"N": str(cost)},
                    ":room": {"N": str(limit - cost)},
                    ":now": {"S": datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds")},
                    ":ttl": {"N": str(reset + self._window)},
                },
                ReturnValues="UPDATED_NEW",
            )["Attributes"]
        except self._client.exceptions.ConditionalCheckFailedException:
            return RateDecision(False, limit, 0, reset)
        used = int(attributes["requests"]["N"])
        return RateDecision(True, limit, max(0, limit - used), reset)

    def last_used(self, key_id: str) -> str | None:
        """When the key last made a request that was let through (its newest window)."""
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"RATE#{key_id}"}},
            ScanIndexForward=False,
            Limit=1,
        ).get("Items", [])
        return items[0]["last_used_at"]["S"] if items and "last_used_at" in items[0] else None
