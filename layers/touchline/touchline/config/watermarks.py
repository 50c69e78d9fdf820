"""Watermarks of scheduled jobs: how far a job has processed, per site, in the config table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@dataclass(frozen=True, slots=True)
class Watermark:
    position_ms: int  # everything inserted before this (minus a safety margin) is processed
    version: int  # the last version the job wrote: the next run must write a higher one


class WatermarkStore(Protocol):
    def get(self, site_id: str, job: str) -> Watermark | None: ...

    def put(self, site_id: str, job: str, mark: Watermark) -> None: ...


class DynamoWatermarks:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, site_id: str, job: str) -> Watermark | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"WATERMARK#{job}"}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        return Watermark(int(item["position_ms"]["N"]), int(item["version"]["N"]))

    def put(self, site_id: str, job: str, mark: Watermark) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SITE#{site_id}"},
                "sk": {"S": f"WATERMARK#{job}"},
                "position_ms": {"N": str(mark.position_ms)},
                "version": {"N": str(mark.version)},
            },
        )


class MemoryWatermarks:
    def __init__(self) -> None:
        self.marks: dict[tuple[str, str], Watermark] = {}

    def get(self, site_id: str, job: str) -> Watermark | None:
        return self.marks.get((site_id, job))

    def put(self, site_id: str, job: str, mark: Watermark) -> None:
        self.marks[(site_id, job)] = mark
