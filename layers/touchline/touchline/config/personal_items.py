"""GDPR deletion in the config table: items that name one of a person's identifiers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from touchline.identity.gdpr import Subject

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def delete_config_items(client: DynamoDBClient, table: str, subject: Subject) -> int:
    """Config-table items that name one of the person's identifiers (few or none: it holds config)."""
    wanted = {
        "user_id": subject.values("user"),
        "email": subject.emails,
        "email_sha256": subject.email_hashes,
        "visitor_id": subject.visitor_ids,
        "person_id": subject.person_ids,
    }
    deleted = 0
    for page in client.get_paginator("scan").paginate(TableName=table):
        for item in page.get("Items", []):
            if item.get("site_id", {}).get("S", subject.site_id) != subject.site_id:
                continue
            if any(item.get(attr, {}).get("S") in values for attr, values in wanted.items() if values):
                client.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
                deleted += 1
    return deleted
