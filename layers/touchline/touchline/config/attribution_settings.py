"""Per-site attribution settings: the lookback window, the time-decay half-life, conversion goals.

Stored in the config table beside the site (`SITE#<id>` / `SETTINGS` and `SITE#<id>` /
`GOAL#<name>`), read by the scheduled aggregation and set with `touchline goals` / `touchline
sites set`. A goal is a definition, never a flag written at ingestion: the query engine, the
aggregation and the funnels turn it into a condition over events, so editing one re-evaluates
history (docs/goals-funnels.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from touchline.config.site_settings import settings_key, update_site_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

DEFAULT_LOOKBACK_DAYS = 30
DEFAULT_HALF_LIFE_DAYS = 7.0
# Data-driven models (touchline.datadriven): the smallest sample they are fitted on, and how
# often the scheduled aggregation refits them.
DEFAULT_MIN_JOURNEYS = 1000
DEFAULT_MIN_CONVERSIONS = 50
DEFAULT_REFIT_HOURS = 24.0
# Carts (docs/carts.md): hours without activity after which an unordered cart is abandoned.
DEFAULT_CART_ABANDON_HOURS = 24.0
MAX_CART_ABANDON_HOURS = 24 * 90


TRACK_METHODS = ("javascript", "data_attribute", "page_url")


@dataclass(frozen=True, slots=True)
class ConversionGoal:
    """A goal whose completions are conversions; `value` (in `currency`) overrides the event's revenue.

    `javascript` and `data_attribute` goals are completed by the custom event `event_name` (the
    goal's name when empty); `page_url` goals by a pageview whose path matches `page_pattern`
    (Plausible's `*` and `**`). Either kind may also require event properties to equal values
    (`properties`, all of them). An inactive goal is kept but completes nothing.
    """

    name: str
    value: Decimal | None = None
    currency: str = ""
    track_method: str = "javascript"
    event_name: str = ""
    page_pattern: str = ""
    properties: tuple[tuple[str, str], ...] = ()
    active: bool = True
    goal_id: str = ""
    updated_at: str = ""

    @property
    def id(self) -> str:
        """Stable across edits (a rename keeps it); goals stored before ids had one are named by a
        digest of their name."""
        return self.goal_id or goal_id_of(self.name)

    @property
    def custom_event(self) -> str:
        return "" if self.track_method == "page_url" else (self.event_name or self.name)


def goal_id_of(name: str) -> str:
    import hashlib

    return "g" + hashlib.sha256(name.encode()).hexdigest()[:11]


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Below these sample sizes a data-driven model is not fitted (docs/attribution.md)."""

    min_journeys: int = DEFAULT_MIN_JOURNEYS
    min_conversions: int = DEFAULT_MIN_CONVERSIONS


@dataclass(frozen=True, slots=True)
class AttributionSettings:
    lookback_days: int = DEFAULT_LOOKBACK_DAYS
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    goals: tuple[ConversionGoal, ...] = field(default_factory=tuple)
    min_journeys: int = DEFAULT_MIN_JOURNEYS
    min_conversions: int = DEFAULT_MIN_CONVERSIONS
    refit_hours: float = DEFAULT_REFIT_HOURS
    # When a goal was last added, edited or removed (epoch ms): a later aggregation run rebuilds
    # the site's conversions from all of history.
    goals_changed_ms: int = 0
    # Not attribution, but on the same SETTINGS item, which the query engine reads through here.
    cart_abandon_hours: float = DEFAULT_CART_ABANDON_HOURS

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(self.min_journeys, self.min_conversions)


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
                if "goals_changed_ms" in item:
                    settings["goals_changed_ms"] = int(item["goals_changed_ms"]["N"])
                for name, kind in (
                    ("min_journeys", int),
                    ("min_conversions", int),
                    ("refit_hours", float),
                    ("cart_abandon_hours", float),
                ):
                    if name in item:
                        settings[name] = kind(item[name]["N"])
            elif sort_key.startswith("GOAL#"):
                goals.append(goal_from_item(item))
        return AttributionSettings(goals=tuple(sorted(goals, key=lambda g: g.name)), **settings)

    def windows(self, site_ids: list[str]) -> dict[str, tuple[int, float, float]]:
        """(lookback days, half-life days, cart abandonment hours) of several sites, with
        BatchGetItem."""
        defaults = (DEFAULT_LOOKBACK_DAYS, DEFAULT_HALF_LIFE_DAYS, DEFAULT_CART_ABANDON_HOURS)
        found = dict.fromkeys(site_ids, defaults)
        wanted = sorted(set(site_ids))
        for start in range(0, len(wanted), 100):
            keys: Any = [settings_key(i) for i in wanted[start : start + 100]]
            request: Any = {self._table: {"Keys": keys}}
            while request:
                answer = self._client.batch_get_item(RequestItems=request)
                for item in answer["Responses"].get(self._table, []):
                    site_id = item["pk"]["S"].removeprefix("SITE#")
                    lookback, half_life, abandon = found[site_id]
                    found[site_id] = (
                        int(item["lookback_days"]["N"]) if "lookback_days" in item else lookback,
                        float(item["half_life_days"]["N"]) if "half_life_days" in item else half_life,
                        float(item["cart_abandon_hours"]["N"]) if "cart_abandon_hours" in item else abandon,
                    )
                request = answer.get("UnprocessedKeys") or None
        return found

    def set_windows(self, site_id: str, lookback_days: int | None, half_life_days: float | None) -> None:
        values: dict[str, Any] = {}
        if lookback_days is not None:
            if not 1 <= lookback_days <= 365:
                raise ValueError("lookback must be 1-365 days")
            values["lookback_days"] = {"N": str(lookback_days)}
        if half_life_days is not None:
            if not 0 < half_life_days <= 365:
                raise ValueError("half-life must be more than 0 and at most 365 days")
            values["half_life_days"] = {"N": repr(half_life_days)}
        update_site_settings(self._client, self._table, site_id, values)

    def set_cart_abandon_hours(self, site_id: str, hours: float) -> None:
        if not 0 < hours <= MAX_CART_ABANDON_HOURS:
            raise ValueError(f"cart abandonment must be more than 0 and at most {MAX_CART_ABANDON_HOURS} h")
        value = {"cart_abandon_hours": {"N": repr(float(hours))}}
        update_site_settings(self._client, self._table, site_id, value)

    def set_data_driven(
        self,
        site_id: str,
        min_journeys: int | None = None,
        min_conversions: int | None = None,
        refit_hours: float | None = None,
    ) -> None:
        """The data-driven models' minimum sample and refit interval."""
        values: dict[str, Any] = {}
        if min_journeys is not None:
            if min_journeys < 1:
                raise ValueError("the minimum number of journeys must be at least 1")
            values["min_journeys"] = {"N": str(min_journeys)}
        if min_conversions is not None:
            if min_conversions < 1:
                raise ValueError("the minimum number of conversions must be at least 1")
            values["min_conversions"] = {"N": str(min_conversions)}
        if refit_hours is not None:
            if not 0 <= refit_hours <= 24 * 31:
                raise ValueError("the refit interval must be 0 to 744 hours")
            values["refit_hours"] = {"N": repr(float(refit_hours))}
        update_site_settings(self._client, self._table, site_id, values)

    def add_goal(self, site_id: str, goal: ConversionGoal) -> None:
        self._client.put_item(TableName=self._table, Item=goal_item(site_id, goal))
        self._goals_changed(site_id)

    def _goals_changed(self, site_id: str) -> None:
        import time

        update_site_settings(
            self._client, self._table, site_id, {"goals_changed_ms": {"N": str(int(time.time() * 1000))}}
        )

    def replace_goal(self, site_id: str, old_name: str, goal: ConversionGoal) -> None:
        """An edit: the new definition written and, on a rename, the old item removed, in one
        transaction (no moment with both or neither)."""
        if old_name == goal.name:
            self.add_goal(site_id, goal)
            return
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": goal_item(site_id, goal)}},
                {
                    "Delete": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"GOAL#{old_name}"}},
                    }
                },
            ]
        )
        self._goals_changed(site_id)

    def remove_goal(self, site_id: str, name: str) -> None:
        self._client.delete_item(
            TableName=self._table, Key={"pk": {"S": f"SITE#{site_id}"}, "sk": {"S": f"GOAL#{name}"}}
        )
        self._goals_changed(site_id)


def goal_item(site_id: str, goal: ConversionGoal) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": {"S": f"SITE#{site_id}"},
        "sk": {"S": f"GOAL#{goal.name}"},
        "name": {"S": goal.name},
        "goal_id": {"S": goal.id},
        "track_method": {"S": goal.track_method},
        "active": {"BOOL": goal.active},
    }
    if goal.event_name:
        item["event_name"] = {"S": goal.event_name}
    if goal.page_pattern:
        item["page_pattern"] = {"S": goal.page_pattern}
    if goal.properties:
        item["properties"] = {"M": {k: {"S": v} for k, v in goal.properties}}
    if goal.value is not None:
        item["value"] = {"N": str(goal.value)}
        item["currency"] = {"S": goal.currency}
    if goal.updated_at:
        item["updated_at"] = {"S": goal.updated_at}
    return item


def goal_from_item(item: dict[str, Any]) -> ConversionGoal:
    """A stored goal; items written before track methods existed are custom-event goals."""
    value = item.get("value", {}).get("N")
    properties = item.get("properties", {}).get("M", {})
    return ConversionGoal(
        name=item["name"]["S"],
        value=Decimal(value) if value is not None else None,
        currency=item.get("currency", {}).get("S", ""),
        track_method=item.get("track_method", {}).get("S", "javascript"),
        event_name=item.get("event_name", {}).get("S", ""),
        page_pattern=item.get("page_pattern", {}).get("S", ""),
        properties=tuple(sorted((k, v["S"]) for k, v in properties.items())),
        active=item.get("active", {}).get("BOOL", True),
        goal_id=item.get("goal_id", {}).get("S", ""),
        updated_at=item.get("updated_at", {}).get("S", ""),
    )
