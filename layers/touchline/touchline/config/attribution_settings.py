"""Per-site attribution settings: the lookback window, the time-decay half-life, conversion goals.

Stored in the config table beside the site (`SITE#<id>` / `SETTINGS` and `SITE#<id>` /
`GOAL#<name>`), read by the scheduled aggregation and set with `touchline goals` / `touchline
sites set`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_HALF_LIFE_DAYS = 7.0


@dataclass(frozen=True, slots=True)
class ConversionGoal:
    """A goal whose completions are conversions; `value` (in `currency`) overrides the event's revenue."""

    name: str
    value: Decimal | None = None
    currency: str = ""


@dataclass(frozen=True, slots=True)
class AttributionSettings:
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    goals: tuple[ConversionGoal, ...] = field(default_factory=tuple)


class AttributionSettingsStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, site_id: str) -> AttributionSettings:
        items: list[dict[str, Any]] = []
        paginator = self._client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"SITE#{site_id}"}},
        ):
            items.extend(page.get("Items", []))
        settings: dict[str, Any] = {}
        goals = []
        for item in items:
            sort_key = item["sk"]["S"]
            if sort_key == "SETTINGS":
                if "lookback_days" in item:
                    settings["lookback_days"] = int(item["lookback_days"]["N"])
                if "half_life_days" in item:
                    settings["half_life_days"] = float(item["half_life_days"]["N"])
            elif sort_key.startswith("GOAL#"):
                value = item.get("value", {}).get("N")
                goals.append(
                    ConversionGoal(
                        name=item["name"]["S"],
                        value=Decimal(value) if value is not None else None,
                        currency=item.get("currency", {}).get("S", ""),
                    )
                )
        return AttributionSettings(goals=tuple(sorted(goals, key=lambda g: g.name)), **settings)

    def set_windows(self, site_id: str, lookback_days: int | None, half_life_days: float | None) -> None:
        updates, values = [], {}
        if lookback_days is not None:
            if not 1 <= lookback_days <= 365:
                raise ValueError("lookback must be 1-365 days")
            updates.append("lookback_days = :l")
            values[":l"] = {"N": str(lookback_days)}
        if half_life_days is not None:
            if not 0 < half_life_days <= 365:
                raise ValueError("half-life must be more than 0 and at most 365 days")
            updates.append("half_life_days = :h")
            values[":h"] = {"N": repr(half_life_days)}
        if updates:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": "SETTINGS"}},
                UpdateExpression="SET " + ", ".join(updates),
                ExpressionAttributeValues=values,
            )

    def add_goal(self, site_id: str, goal: ConversionGoal) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"SITE#{site_id}"},
            "sk": {"S": f"GOAL#{goal.name}"},
            "name": {"S": goal.name},
        }
        if goal.value is not None:
            item["value"] = {"N": str(goal.value)}
            item["currency"] = {"S": goal.currency}
        self._client.put_item(TableName=self._table, Item=item)

    def remove_goal(self, site_id: str, name: str) -> None:
        self._client.delete_item(
            TableName=self._table, Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"GOAL#{name}"}}
        )
