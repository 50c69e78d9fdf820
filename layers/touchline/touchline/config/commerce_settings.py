"""Per-site commerce settings: the market-basket threshold and lift rule.

Stored on the site's `SITE#<id>` / `SETTINGS` item beside the attribution windows (set with
`touchline sites set SITE --basket-min-co-purchases N --basket-lift-threshold L`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from touchline.commerce.baskets import BasketSettings
from touchline.commerce.run import CommerceSettings
from touchline.config.site_settings import settings_key, update_site_settings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


class CommerceSettingsStore:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, site_id: str) -> CommerceSettings:
        item = self._client.get_item(TableName=self._table, Key=settings_key(site_id)).get("Item", {})
        defaults = BasketSettings()
        baskets = BasketSettings(
            min_co_purchases=int(item["basket_min_co_purchases"]["N"])
            if "basket_min_co_purchases" in item
            else defaults.min_co_purchases,
            lift_threshold=float(item["basket_lift_threshold"]["N"])
            if "basket_lift_threshold" in item
            else defaults.lift_threshold,
        )
        return CommerceSettings(baskets=baskets)

    def set_baskets(self, site_id: str, min_co_purchases: int | None, lift_threshold: float | None) -> None:
        values: dict[str, Any] = {}
        if min_co_purchases is not None:
            if not 1 <= min_co_purchases <= 1_000_000:
                raise ValueError("the minimum co-purchase count must be at least 1")
            values["basket_min_co_purchases"] = {"N": str(min_co_purchases)}
        if lift_threshold is not None:
            if not 0 < lift_threshold <= 1000:
                raise ValueError("the lift threshold must be more than 0")
            values["basket_lift_threshold"] = {"N": repr(lift_threshold)}
        update_site_settings(self._client, self._table, site_id, values)
