"""A site's webhook subscribers in the config table, their signing secrets in Secrets Manager.

Items:
- `WEBHOOK#<id>` / `WEBHOOK`: the subscription (site, URL, events, state, failure count…),
  what a delivery reads by id;
- `SITE#<site>` / `WEBHOOK#<id>`: the site's index of them (listing is a Query and a BatchGet);
- `WEBHOOKS` / `<site>`: the sites that have any, with the earliest subscription's creation
  (the dispatcher's Query, and where its first pass for a site starts).

The secret (`whsec_…`, generated here, shown once) lives at
`touchline/outgoing-webhooks/<site>/<id>`; the item holds only its name.
"""

from __future__ import annotations

import contextlib
import secrets as random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

SECRET_PREFIX = "touchline/outgoing-webhooks/"
MAX_PER_SITE = 20


@dataclass(frozen=True, slots=True)
class Subscription:
    webhook_id: str
    site_id: str
    url: str
    events: frozenset[str]
    secret_name: str
    description: str = ""
    active: bool = True
    disabled_reason: str = ""
    failure_count: int = 0
    created_at: str = ""
    updated_at: str = ""
    created_by: str = ""
    last_attempt_at: str = ""
    last_success_at: str = ""
    last_status: int = 0
    last_error: str = ""

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in self.events

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.webhook_id,
            "site_id": self.site_id,
            "url": self.url,
            "events": sorted(self.events),
            "description": self.description,
            "active": self.active,
            "disabled_reason": self.disabled_reason,
            "failure_count": self.failure_count,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "created_by": self.created_by,
            "last_attempt_at": self.last_attempt_at or None,
            "last_success_at": self.last_success_at or None,
            "last_status": self.last_status or None,
            "last_error": self.last_error,
        }


@dataclass(frozen=True, slots=True)
class FailureCount:
    count: int
    disabled: bool  # this failure disabled the subscription


def new_secret() -> str:
    return "whsec_" + random.token_hex(24)


def new_id() -> str:
    return "wh_" + random.token_hex(8)


def secret_name(site_id: str, webhook_id: str) -> str:
    return f"{SECRET_PREFIX}{site_id}/{webhook_id}"


def now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SubscriptionStore:
    client: DynamoDBClient
    table: str
    _registry: dict[str, int] = field(default_factory=dict)

    # -- reads -------------------------------------------------------------------------------

    def get(self, webhook_id: str) -> Subscription | None:
        item = self.client.get_item(TableName=self.table, Key=_key(webhook_id), ConsistentRead=True).get(
            "Item"
        )
        return _from_item(item) if item else None

    def list(self, site_id: str) -> list[Subscription]:
        ids = [
            item["sk"]["S"].removeprefix("WEBHOOK#")
            for item in self.client.query(
                TableName=self.table,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :sk)",
                ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}, ":sk": {"S": "WEBHOOK#"}},
            ).get("Items", [])
        ]
        found: list[Subscription] = []
        for start in range(0, len(ids), 100):
            keys: Any = [_key(i) for i in ids[start : start + 100]]
            while keys:
                answer = self.client.batch_get_item(RequestItems={self.table: {"Keys": keys}})
                found.extend(_from_item(item) for item in answer.get("Responses", {}).get(self.table, []))
                unprocessed: Any = answer.get("UnprocessedKeys") or {}
                keys = (unprocessed.get(self.table) or {}).get("Keys", [])
        return sorted((s for s in found if s.site_id == site_id), key=lambda s: (s.created_at, s.webhook_id))

    def sites(self) -> dict[str, int]:
        """Sites with subscriptions → the earliest one's creation (Unix ms)."""
        out: dict[str, int] = {}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "WEBHOOKS"}},
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                out[item["sk"]["S"]] = int(item.get("since_ms", {}).get("N", "0"))
            if "LastEvaluatedKey" not in page:
                return out
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- writes ------------------------------------------------------------------------------

    def create(
        self,
        site_id: str,
        url: str,
        events: Iterable[str],
        secrets: SecretsManagerClient,
        *,
        description: str = "",
        created_by: str = "",
    ) -> tuple[Subscription, str]:
        """A new subscription and its secret (the only time the secret is returned)."""
        webhook_id = new_id()
        secret = new_secret()
        name = secret_name(site_id, webhook_id)
        secrets.create_secret(
            Name=name,
            SecretString=secret,
            Description=f"Touchline: signing secret of outgoing webhook {webhook_id} (site {site_id})",
        )
        now = now_text()
        subscription = Subscription(
            webhook_id=webhook_id,
            site_id=site_id,
            url=url,
            events=frozenset(events),
            secret_name=name,
            description=description,
            created_at=now,
            updated_at=now,
            created_by=created_by,
        )
        self.client.put_item(TableName=self.table, Item=_to_item(subscription))
        self.client.put_item(
            TableName=self.table,
            Item={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"WEBHOOK#{webhook_id}"}},
        )
        self.client.update_item(
            TableName=self.table,
            Key={"pk": {"S": "WEBHOOKS"}, "sk": {"S": site_id}},
            UpdateExpression="SET since_ms = if_not_exists(since_ms, :now)",
            ExpressionAttributeValues={":now": {"N": str(int(time.time() * 1000))}},
        )
        return subscription, secret

    def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        events: Iterable[str] | None = None,
        description: str | None = None,
        active: bool | None = None,
    ) -> Subscription | None:
        sets = ["updated_at = :now"]
        values: dict[str, Any] = {":now": {"S": now_text()}}
        if url is not None:
            sets.append("#url = :url")
            values[":url"] = {"S": url}
        if events is not None:
            sets.append("events = :events")
            values[":events"] = {"SS": sorted(set(events))}
        if description is not None:
            sets.append("description = :d")
            values[":d"] = {"S": description}
        if active is not None:
            sets.append("active = :active")
            values[":active"] = {"BOOL": active}
            if active:  # re-enabled: a fresh start
                sets += ["failure_count = :zero", "disabled_reason = :empty"]
                values[":zero"] = {"N": "0"}
                values[":empty"] = {"S": ""}
            else:
                sets.append("disabled_reason = :why")
                values[":why"] = {"S": "disabled by a person"}
        try:
            item = self.client.update_item(
                TableName=self.table,
                Key=_key(webhook_id),
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeNames={"#pk": "pk", **({"#url": "url"} if url is not None else {})},
                ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(#pk)",
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException:
            return None
        return _from_item(item)

    def delete(self, subscription: Subscription, secrets: SecretsManagerClient | None) -> None:
        self.client.delete_item(TableName=self.table, Key=_key(subscription.webhook_id))
        self.client.delete_item(
            TableName=self.table,
            Key={
                "pk": {"S": f"SITE#{subscription.site_id}"},
                "sk": {"S": f"WEBHOOK#{subscription.webhook_id}"},
            },
        )
        if not self.list(subscription.site_id):
            self.client.delete_item(
                TableName=self.table, Key={"pk": {"S": "WEBHOOKS"}, "sk": {"S": subscription.site_id}}
            )
        if secrets is not None:
            with contextlib.suppress(secrets.exceptions.ResourceNotFoundException):
                secrets.delete_secret(SecretId=subscription.secret_name, ForceDeleteWithoutRecovery=True)

    def delete_site(self, site_id: str, secrets: SecretsManagerClient | None) -> None:
        for subscription in self.list(site_id):
            self.delete(subscription, secrets)

    def record_success(self, webhook_id: str, status: int) -> None:
        """A delivered attempt: the consecutive-failure count starts again."""
        now = now_text()
        self._update_existing(
            webhook_id,
            "SET failure_count = :zero, last_attempt_at = :now, last_success_at = :now, "
            "last_status = :status, last_error = :empty",
            {":zero": {"N": "0"}, ":now": {"S": now}, ":status": {"N": str(status)}, ":empty": {"S": ""}},
        )

    def record_failure(self, webhook_id: str, status: int, error: str, disable_after: int) -> FailureCount:
        """A failed attempt; the `disable_after`-th in a row disables the subscription."""
        attributes = self._update_existing(
            webhook_id,
            "SET failure_count = if_not_exists(failure_count, :zero) + :one, last_attempt_at = :now, "
            "last_status = :status, last_error = :error",
            {
                ":zero": {"N": "0"},
                ":one": {"N": "1"},
                ":now": {"S": now_text()},
                ":status": {"N": str(status)},
                ":error": {"S": error[:500]},
            },
        )
        if attributes is None:
            return FailureCount(0, False)
        count = int(attributes.get("failure_count", {}).get("N", "0"))
        if count < disable_after or not attributes.get("active", {}).get("BOOL", True):
            return FailureCount(count, False)
        try:
            self.client.update_item(
                TableName=self.table,
                Key=_key(webhook_id),
                UpdateExpression="SET active = :no, disabled_reason = :why, updated_at = :now",
                ConditionExpression="active = :yes",
                ExpressionAttributeValues={
                    ":no": {"BOOL": False},
                    ":yes": {"BOOL": True},
                    ":why": {"S": f"disabled after {count} consecutive failed deliveries"},
                    ":now": {"S": now_text()},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return FailureCount(count, False)  # someone else disabled it first
        return FailureCount(count, True)

    def _update_existing(self, webhook_id: str, expression: str, values: dict[str, Any]) -> Any:
        try:
            return self.client.update_item(
                TableName=self.table,
                Key=_key(webhook_id),
                UpdateExpression=expression,
                ExpressionAttributeValues=values,
                ConditionExpression="attribute_exists(pk)",
                ReturnValues="ALL_NEW",
            )["Attributes"]
        except self.client.exceptions.ConditionalCheckFailedException:
            return None  # deleted meanwhile


class SecretCache:
    """Signing secrets by name, cached for `ttl_seconds` per container."""

    def __init__(
        self,
        fetch: Callable[[str], str],
        ttl_seconds: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._ttl = ttl_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def get(self, name: str) -> str:
        cached = self._cache.get(name)
        if cached and cached[0] > self._clock():
            return cached[1]
        value = self._fetch(name)
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[name] = (self._clock() + self._ttl, value)
        return value


def _key(webhook_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"WEBHOOK#{webhook_id}"}, "sk": {"S": "WEBHOOK"}}


def _to_item(s: Subscription) -> dict[str, Any]:
    return {
        **_key(s.webhook_id),
        "site_id": {"S": s.site_id},
        "url": {"S": s.url},
        "events": {"SS": sorted(s.events)},
        "secret_name": {"S": s.secret_name},
        "description": {"S": s.description},
        "active": {"BOOL": s.active},
        "disabled_reason": {"S": s.disabled_reason},
        "failure_count": {"N": str(s.failure_count)},
        "created_at": {"S": s.created_at},
        "updated_at": {"S": s.updated_at},
        "created_by": {"S": s.created_by},
    }


def _from_item(item: dict[str, Any]) -> Subscription:
    def text(name: str) -> str:
        return str(item.get(name, {}).get("S", ""))

    return Subscription(
        webhook_id=item["pk"]["S"].removeprefix("WEBHOOK#"),
        site_id=text("site_id"),
        url=text("url"),
        events=frozenset(item.get("events", {}).get("SS", [])),
        secret_name=text("secret_name"),
        description=text("description"),
        active=bool(item.get("active", {}).get("BOOL", True)),
        disabled_reason=text("disabled_reason"),
        failure_count=int(item.get("failure_count", {}).get("N", "0")),
        created_at=text("created_at"),
        updated_at=text("updated_at"),
        created_by=text("created_by"),
        last_attempt_at=text("last_attempt_at"),
        last_success_at=text("last_success_at"),
        last_status=int(item.get("last_status", {}).get("N", "0")),
        last_error=text("last_error"),
    )
