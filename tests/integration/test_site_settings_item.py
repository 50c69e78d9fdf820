"""Every per-site setting lands on one `SITE#<id>` / `SETTINGS` item through one partial update:
setting the commerce basket rule keeps the attribution windows and thresholds, and back."""

from __future__ import annotations

import boto3
import pytest

from touchline.config.attribution_settings import AttributionSettingsStore
from touchline.config.commerce_settings import CommerceSettingsStore
from touchline.config.site_settings import settings_key, update_site_settings


def test_each_store_sets_only_its_own_attributes(aws: dict[str, str]) -> None:
    client, table = boto3.client("dynamodb"), aws["TOUCHLINE_CONFIG_TABLE"]
    attribution, commerce = AttributionSettingsStore(client, table), CommerceSettingsStore(client, table)

    attribution.set_windows("s1", 14, None)
    commerce.set_baskets("s1", 5, None)
    attribution.set_data_driven("s1", min_conversions=7)
    attribution.set_windows("s1", None, 2.5)
    commerce.set_baskets("s1", None, 1.5)

    stored = attribution.get("s1")
    assert (stored.lookback_days, stored.half_life_days, stored.min_conversions) == (14, 2.5, 7)
    assert stored.min_journeys == AttributionSettingsStore(client, table).get("other").min_journeys
    baskets = commerce.get("s1").baskets
    assert (baskets.min_co_purchases, baskets.lift_threshold) == (5, 1.5)
    assert commerce.get("s2").baskets == CommerceSettingsStore(client, table).get("other").baskets


def test_nothing_to_set_writes_nothing_and_bad_values_write_nothing(aws: dict[str, str]) -> None:
    client, table = boto3.client("dynamodb"), aws["TOUCHLINE_CONFIG_TABLE"]
    update_site_settings(client, table, "s1", {})
    CommerceSettingsStore(client, table).set_baskets("s1", None, None)
    with pytest.raises(ValueError):
        CommerceSettingsStore(client, table).set_baskets("s1", 0, 2.0)
    with pytest.raises(ValueError):
        AttributionSettingsStore(client, table).set_windows("s1", 30, 0.0)
    assert "Item" not in client.get_item(TableName=table, Key=settings_key("s1"))
