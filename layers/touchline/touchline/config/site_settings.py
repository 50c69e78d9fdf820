"""The site's `SITE#<id>` / `SETTINGS` item, where every per-site setting lives (attribution
windows and data-driven thresholds, commerce basket rules): one key and one partial update, so
each store only validates its own attributes and setting one never touches the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def settings_key(site_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SETTINGS"}}


def update_site_settings(
    client: DynamoDBClient, table_name: str, site_id: str, values: Mapping[str, Any]
) -> None:
    """SET the given attributes (name → DynamoDB attribute value) on the site's settings item,
    creating it if needed; nothing is written when `values` is empty."""
    if not values:
        return
    names = list(values)
    client.update_item(
        TableName=table_name,
        Key=settings_key(site_id),
        UpdateExpression="SET " + ", ".join(f"#n{i} = :v{i}" for i in range(len(names))),
        ExpressionAttributeNames={f"#n{i}": name for i, name in enumerate(names)},
        ExpressionAttributeValues={f":v{i}": values[name] for i, name in enumerate(names)},
    )
