"""Sync watermarks, positions and run leases in the config table (layout: `touchline.syncs.state`)."""

from __future__ import annotations

import contextlib
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchline.syncs.state import Checkpoint, StreamState, parse_stamp, stamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class SyncStateStore:
    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self._client = client
        self._table = table

    @staticmethod
    def _pk(site_id: str, provider: str) -> str:
        return f"SYNC#{site_id}#{provider}"

    def load(self, site_id: str, provider: str) -> dict[str, StreamState]:
        states: dict[str, StreamState] = {}
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :s)",
            ExpressionAttributeValues={":pk": {"S": self._pk(site_id, provider)}, ":s": {"S": "STREAM#"}},
            ConsistentRead=True,
        ):
            for item in page.get("Items", []):
                states[item["sk"]["S"].removeprefix("STREAM#")] = _state(item)
        return states

    def save(self, site_id: str, provider: str, stream: str, checkpoint: Checkpoint, rows: int) -> bool:
        """Record a checkpoint; False if the stored watermark is already further (nothing written)."""
        sets = ["#rows = if_not_exists(#rows, :zero) + :rows", "updated_at = :now"]
        names = {"#rows": "rows"}
        values: dict[str, Any] = {
            ":rows": {"N": str(rows)},
            ":zero": {"N": "0"},
            ":now": {"S": stamp(datetime.now(UTC))},
        }
        condition = None
        if checkpoint.watermark is not None:
            sets.append("watermark = :w")
            values[":w"] = {"S": stamp(checkpoint.watermark)}
            condition = "attribute_not_exists(watermark) OR watermark <= :w"
        if checkpoint.refreshed:
            sets.append("refreshed_at = :now")
        removes = []
        if checkpoint.position is None:
            removes.append("#pos")
        else:
            sets.append("#pos = :pos")
            values[":pos"] = {"S": json.dumps(checkpoint.position, sort_keys=True)}
        names["#pos"] = "position"
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "Key": {"pk": {"S": self._pk(site_id, provider)}, "sk": {"S": f"STREAM#{stream}"}},
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self._client.update_item(**kwargs)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def record_status(self, site_id: str, provider: str, stream: str, status: str, message: str) -> None:
        """How the stream's attempt in this run ended (its watermark is `save`'s business)."""
        now = {"S": stamp(datetime.now(UTC))}
        sets = "#s = :s, #m = :m, status_at = :t" + (", succeeded_at = :t" if status == "done" else "")
        self._client.update_item(
            TableName=self._table,
            Key={"pk": {"S": self._pk(site_id, provider)}, "sk": {"S": f"STREAM#{stream}"}},
            UpdateExpression=f"SET {sets}",
            ExpressionAttributeNames={"#s": "status", "#m": "message"},
            ExpressionAttributeValues={":s": {"S": status}, ":m": {"S": message[:1000]}, ":t": now},
        )

    def reset(self, site_id: str, provider: str, streams: list[str], since: datetime | None = None) -> None:
        """`--full` (since None: forget the watermarks) or `--since` (start over from a date)."""
        for stream in streams:
            key = {"pk": {"S": self._pk(site_id, provider)}, "sk": {"S": f"STREAM#{stream}"}}
            if since is None:
                self._client.delete_item(TableName=self._table, Key=key)
            else:
                self._client.put_item(
                    TableName=self._table,
                    Item={**key, "watermark": {"S": stamp(since)}, "rows": {"N": "0"}},
                )

    def acquire_lease(self, site_id: str, provider: str, owner: str, seconds: float) -> bool:
        now = int(time.time())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": self._pk(site_id, provider)},
                    "sk": {"S": "LEASE"},
                    "owner": {"S": owner},
                    "expires_at": {"N": str(now + int(seconds))},
                },
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now OR #o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":owner": {"S": owner}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release_lease(self, site_id: str, provider: str, owner: str) -> None:
        # Expired and taken over by another run: not ours to delete.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.delete_item(
                TableName=self._table,
                Key={"pk": {"S": self._pk(site_id, provider)}, "sk": {"S": "LEASE"}},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )


def _state(item: dict[str, Any]) -> StreamState:
    position = item.get("position", {}).get("S")
    return StreamState(
        watermark=parse_stamp(item["watermark"]["S"]) if "watermark" in item else None,
        position=json.loads(position) if position else None,
        refreshed_at=parse_stamp(item["refreshed_at"]["S"]) if "refreshed_at" in item else None,
        rows=int(item.get("rows", {}).get("N", "0")),
        status=item.get("status", {}).get("S", ""),
        message=item.get("message", {}).get("S", ""),
        status_at=parse_stamp(item["status_at"]["S"]) if "status_at" in item else None,
        succeeded_at=parse_stamp(item["succeeded_at"]["S"]) if "succeeded_at" in item else None,
    )
