"""Rows of the sync tables (migrations/0005_syncs.sql, 0031_klaviyo_tags_attributions.sql).

Field names are column names and defaults mirror the columns', as for every `Row`. Rates are
stored as percentages (seed 003); `pct` turns Klaviyo's fractions into them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row

Money = Annotated[Decimal, Field(max_digits=18, decimal_places=4)]
Count = Annotated[float, Field(ge=0)]
Percent = Annotated[float, Field(ge=0)]
Moment = Annotated[AwareDatetime, Field(ge=EARLIEST, lt=LATEST)]
Id = Annotated[str, Field(min_length=1, max_length=256)]
SiteId = Annotated[str, Field(min_length=1, max_length=64)]


def pct(fraction: float | None) -> float:
    """Klaviyo's `0.2345` → `23.45` (rounded to 4 places so float noise does not show)."""
    return round(float(fraction or 0) * 100, 4)


class _MessageStatistics(Row):
    """What campaign and flow reports share."""

    send_channel: str = Field("", max_length=32)
    recipients: Count = 0
    delivered: Count = 0
    bounced: Count = 0
    failed: Count = 0
    opens: Count = 0
    opens_unique: Count = 0
    clicks: Count = 0
    clicks_unique: Count = 0
    conversions: Count = 0
    conversion_uniques: Count = 0
    conversion_value: float = 0
    unsubscribes: Count = 0
    spam_complaints: Count = 0
    open_rate_pct: Percent = 0
    click_rate_pct: Percent = 0
    conversion_rate_pct: Percent = 0
    unsubscribe_rate_pct: Percent = 0
    bounce_rate_pct: Percent = 0
    delivery_rate_pct: Percent = 0
    synced_at: Moment
    version: int = Field(ge=0)


class CampaignStatisticsRow(_MessageStatistics):
    site_id: SiteId
    campaign_id: Id
    campaign_message_id: Id
    date: dt.date
    campaign_name: str = Field("", max_length=1024)
    message_name: str = Field("", max_length=1024)
    tags: list[str] = Field(default_factory=list, max_length=64)  # names, each cut at 256


class FlowStatisticsRow(_MessageStatistics):
    site_id: SiteId
    flow_id: Id
    flow_message_id: Id
    date: dt.date
    flow_name: str = Field("", max_length=1024)
    flow_message_name: str = Field("", max_length=1024)


class KlaviyoAttributionRow(Row):
    """Which message Klaviyo credits an order to (migrations/0031): kind '' when none."""

    site_id: SiteId
    source: str = Field(min_length=1, max_length=32)
    order_id: Id
    event_id: Id
    ordered_at: Moment
    attributed_kind: Literal["campaign", "flow", ""] = ""
    campaign_id: str = Field("", max_length=256)
    campaign_message_id: str = Field("", max_length=256)
    flow_id: str = Field("", max_length=256)
    flow_message_id: str = Field("", max_length=256)
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)


class FormStatisticsRow(Row):
    site_id: SiteId
    form_id: Id
    date: dt.date
    form_name: str = Field("", max_length=1024)
    viewed_form: Count = 0
    viewed_form_uniques: Count = 0
    submits: Count = 0
    submit_rate_pct: Percent = 0
    qualified_form: Count = 0
    qualified_form_uniques: Count = 0
    closed_form: Count = 0
    closed_form_uniques: Count = 0
    synced_at: Moment
    version: int = Field(ge=0)


class SegmentStatisticsRow(Row):
    site_id: SiteId
    segment_id: Id
    date: dt.date
    segment_name: str = Field("", max_length=1024)
    total_members: int = 0
    new_members: int = 0
    removed_members: int = 0
    daily_change: int = 0
    synced_at: Moment
    version: int = Field(ge=0)


class ProductRow(Row):
    site_id: SiteId
    source: str = Field(min_length=1, max_length=32)
    product_id: Id
    title: str = Field("", max_length=1024)
    handle: str = Field("", max_length=1024)
    vendor: str = Field("", max_length=1024)
    product_type: str = Field("", max_length=1024)
    status: str = Field("", max_length=32)
    tags: list[str] = Field(default_factory=list)
    variant_ids: list[str] = Field(default_factory=list)
    skus: list[str] = Field(default_factory=list)
    min_price: Money = Decimal(0)
    max_price: Money = Decimal(0)
    created_at: Moment
    updated_at: Moment
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)


class IntegrationCustomerRow(Row):
    site_id: SiteId
    source: str = Field(min_length=1, max_length=32)
    customer_id: Id
    email: str = Field("", max_length=320)
    email_sha256: str = Field("", max_length=64)
    phone: str = Field("", max_length=64)
    first_name: str = Field("", max_length=256)
    last_name: str = Field("", max_length=256)
    traits: str = "{}"
    created_at: Moment
    updated_at: Moment
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)


class CustomerEventRow(Row):
    site_id: SiteId
    source: str = Field(min_length=1, max_length=32)
    event_id: Id
    event_type: str = Field(min_length=1, max_length=64)
    customer_id: str = Field("", max_length=256)
    email_sha256: str = Field("", max_length=64)
    occurred_at: Moment
    updated_at: Moment
    event_details: str = "{}"
    version: int = Field(ge=0)
    is_deleted: int = Field(0, ge=0, le=1)
