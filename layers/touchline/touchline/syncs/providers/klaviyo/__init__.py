"""Klaviyo: order events, profiles and reporting statistics (docs/syncs.md, seed 003)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from touchline.syncs.providers.base import Connection, Provider, Settings, http_client
from touchline.syncs.providers.klaviyo.api import DEFAULT_BASE_URL, KlaviyoApi, KlaviyoCredentials, headers
from touchline.syncs.providers.klaviyo.events import (
    EVENT_KINDS,
    PLACED_ORDER,
    OrderEventStream,
    ProfilesStream,
    metrics,
)
from touchline.syncs.providers.klaviyo.reports import (
    CampaignStatisticsStream,
    FlowStatisticsStream,
    FormStatisticsStream,
    SegmentStatisticsStream,
)
from touchline.syncs.streams import Stream


def open_klaviyo(settings: Settings, credentials: Any) -> Connection:
    assert isinstance(credentials, KlaviyoCredentials)
    http = http_client("klaviyo", settings, DEFAULT_BASE_URL, headers(credentials))
    api = KlaviyoApi(http)
    site = settings.site_id
    found = [m for m in metrics(api) if m.name in EVENT_KINDS]
    # Shopify's Placed Order first: the conversion metric reports use by default.
    found.sort(key=lambda m: (m.name != PLACED_ORDER, not m.from_shopify, m.id))
    conversion = credentials.conversion_metric_id or next((m.id for m in found if m.name == PLACED_ORDER), "")
    interval = timedelta(minutes=float(settings.options.get("statistics_interval_minutes", 60)))
    streams: list[Stream] = [OrderEventStream(site, api, m, credentials.currency) for m in found]
    streams.append(ProfilesStream(site, api))
    if conversion:
        streams.append(
            CampaignStatisticsStream(site, api, min_interval=interval, conversion_metric_id=conversion)
        )
        streams.append(
            FlowStatisticsStream(site, api, min_interval=interval, conversion_metric_id=conversion)
        )
    streams.append(FormStatisticsStream(site, api, min_interval=interval))
    streams.append(SegmentStatisticsStream(site, api, min_interval=interval))
    return Connection(http, streams)


KLAVIYO = Provider("klaviyo", KlaviyoCredentials, open_klaviyo, DEFAULT_BASE_URL)
