"""Funnel definitions in the config table, beside the site: `SITE#<id>` / `FUNNEL#<id>`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from touchline.funnels.model import Funnel, Step

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class FunnelStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def put(self, funnel: Funnel) -> None:
        self._client.put_item(
            TableName=self._table,
            Item={
                "pk": {"S": f"SITE#{funnel.site_id}"},
                "sk": {"S": f"FUNNEL#{funnel.funnel_id}"},
                "name": {"S": funnel.name},
                "steps": {"S": json.dumps([s.as_dict() for s in funnel.steps])},
                "window_hours": {"N": repr(funnel.window_hours)},
                "strict": {"BOOL": funnel.strict},
                "created_at": {"S": funnel.created_at},
            },
        )

    def get(self, site_id: str, funnel_id: str) -> Funnel | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"FUNNEL#{funnel_id}"}}
        ).get("Item")
        return _funnel(site_id, item) if item else None

    def list(self, site_id: str) -> list[Funnel]:
        items: list[dict[str, Any]] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :f)",
            ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}, ":f": {"S": "FUNNEL#"}},
        ):
            items.extend(page.get("Items", []))
        return sorted((_funnel(site_id, i) for i in items), key=lambda f: (f.name, f.funnel_id))

    def delete(self, site_id: str, funnel_id: str) -> None:
        self._client.delete_item(
            TableName=self._table, Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"FUNNEL#{funnel_id}"}}
        )


def _funnel(site_id: str, item: dict[str, Any]) -> Funnel:
    steps = tuple(Step(*next(iter(s.items()))) for s in json.loads(item["steps"]["S"]))
    return Funnel(
        funnel_id=item["sk"]["S"].removeprefix("FUNNEL#"),
        site_id=site_id,
        name=item["name"]["S"],
        steps=steps,
        window_hours=float(item["window_hours"]["N"]),
        strict=item.get("strict", {}).get("BOOL", False),
        created_at=item.get("created_at", {}).get("S", ""),
    )
