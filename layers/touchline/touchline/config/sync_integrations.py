"""Connected syncs in the config table, their credentials in Secrets Manager (layout:
`touchline.syncs.integrations`)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from touchline.syncs.integrations import PARTITION, Status, SyncIntegration, SyncProvider, secret_name

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class SyncIntegrationStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @staticmethod
    def _key(site_id: str, provider: str) -> dict[str, Any]:
        return {"pk": {"S": PARTITION}, "sk": {"S": f"{site_id}#{provider}"}}

    def add(
        self,
        site_id: str,
        provider: SyncProvider,
        credentials: dict[str, Any],
        secrets: SecretsManagerClient,
        *,
        api_base_url: str = "",
        options: dict[str, Any] | None = None,
    ) -> SyncIntegration:
        """Store (or replace) the credentials and connect the site; a replaced one starts `new`."""
        name = secret_name(site_id, provider)
        value = json.dumps(credentials, sort_keys=True)
        try:
            secrets.put_secret_value(SecretId=name, SecretString=value)
        except secrets.exceptions.ResourceNotFoundException:
            secrets.create_secret(
                Name=name,
                SecretString=value,
                Description=f"Touchline: {provider} sync credentials of {site_id}",
            )
        integration = SyncIntegration(
            site_id, provider, name, api_base_url, dict(options or {}), "new", "", _now()
        )
        item = {
            **self._key(site_id, provider),
            "site_id": {"S": site_id},
            "provider": {"S": provider},
            "secret_name": {"S": name},
            "options": {"S": json.dumps(integration.options, sort_keys=True)},
            "status": {"S": "new"},
            "status_at": {"S": integration.status_at},
        }
        if api_base_url:
            item["api_base_url"] = {"S": api_base_url}
        self._client.put_item(TableName=self._table, Item=item)
        return integration

    def get(self, site_id: str, provider: str) -> SyncIntegration | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(site_id, provider), ConsistentRead=True
        ).get("Item")
        return _integration(item) if item else None

    def list(self, site_id: str | None = None) -> list[SyncIntegration]:
        values: dict[str, Any] = {":pk": {"S": PARTITION}}
        condition = "pk = :pk"
        if site_id is not None:
            condition += " AND begins_with(sk, :site)"
            values[":site"] = {"S": f"{site_id}#"}
        found: list[SyncIntegration] = []
        for page in self._client.get_paginator("query").paginate(
            TableName=self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values
        ):
            found.extend(_integration(item) for item in page.get("Items", []))
        return found

    def remove(self, site_id: str, provider: str, secrets: SecretsManagerClient) -> bool:
        integration = self.get(site_id, provider)
        if integration is None:
            return False
        self._client.delete_item(TableName=self._table, Key=self._key(site_id, provider))
        with contextlib.suppress(secrets.exceptions.ResourceNotFoundException):
            secrets.delete_secret(SecretId=integration.secret_name, ForceDeleteWithoutRecovery=True)
        return True

    def record_run(
        self, site_id: str, provider: str, status: Status, message: str, run: dict[str, Any]
    ) -> None:
        """The outcome of a run: `failing` with a message people can act on, or `ok`."""
        self._client.update_item(
            TableName=self._table,
            Key=self._key(site_id, provider),
            UpdateExpression="SET #s = :s, message = :m, status_at = :t, last_run = :r",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={
                ":s": {"S": status},
                ":m": {"S": message[:1000]},
                ":t": {"S": _now()},
                ":r": {"S": json.dumps(run, sort_keys=True, default=str)[:10_000]},
            },
        )


def _integration(item: dict[str, Any]) -> SyncIntegration:
    return SyncIntegration(
        site_id=item["site_id"]["S"],
        provider=item["provider"]["S"],
        secret_name=item["secret_name"]["S"],
        api_base_url=item.get("api_base_url", {}).get("S", ""),
        options=json.loads(item.get("options", {}).get("S", "{}")),
        status=item.get("status", {}).get("S", "new"),
        message=item.get("message", {}).get("S", ""),
        status_at=item.get("status_at", {}).get("S", ""),
        last_run=json.loads(item.get("last_run", {}).get("S", "{}")),
    )
