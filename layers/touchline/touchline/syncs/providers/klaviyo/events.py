"""Klaviyo events → orders, line items, refunds; Klaviyo profiles → customers and identity links.

Orders come from `Placed Order` events (Get Events, filtered on the metric and on `datetime`,
sorted by `datetime`, `page[size]` up to 1000), refunds from `Refunded Order`, cancellations from
`Cancelled Order`. Which integration created a metric decides what an order is:

* Shopify's (Klaviyo's Shopify integration): `$event_id` is the Shopify order id, so the row is
  written under the same key as the Shopify webhook and the Shopify sync (`source='shopify'`,
  `order_id=<Shopify id>`), marked `source_event='klaviyo:Placed Order'`, with a version below
  any of theirs: it stands in for the order until Shopify's own data arrives, then loses to it.
  Line items are kept only when they carry Shopify's line item ids (`$extra.line_items`), so
  they collapse with Shopify's too. Refunds are written as `cumulative` per order, which reports
  never add on top of Shopify's own refunds.
* any other (API or custom integrations): `source='klaviyo'`, `order_id=$event_id` (or the event
  id), line items from `Items` (Klaviyo's documented custom-integration shape).

Placed Order events are read with `include=attributions`: each attribution in the page's
`included` array names, through its `campaign` / `campaign-message` or `flow` / `flow-message`
relationships, the message Klaviyo credits the conversion to. The first of an event's
attributions is stored in `klaviyo_attributions` under the order's key (kind '' when there is
none), so the rollups can tell a flow's conversion from a campaign's. Without the relationship
(older revisions, custom integrations) the event's `$attributed_flow` / `$flow` and
`$attributed_message` / `$message` properties say the same. The row's version is the sync time:
Klaviyo attributes some conversions after the event exists, and the latest read wins.

https://developers.klaviyo.com/en/reference/get_events ,
https://developers.klaviyo.com/en/docs/guide_to_integrating_a_platform_without_a_pre_built_klaviyo_integration
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from touchline.envelope import Row
from touchline.identity.rows import email_sha256
from touchline.revenue.money import InvalidAmount
from touchline.revenue.rows import OrderLineItemRow, OrderRow, RefundRow, time_version
from touchline.syncs.providers.common import (
    add_customer,
    clean_email,
    currency_code,
    millis,
    money,
    parse_time,
)
from touchline.syncs.providers.klaviyo.api import KlaviyoApi
from touchline.syncs.rows import KlaviyoAttributionRow
from touchline.syncs.state import Checkpoint, StreamState
from touchline.syncs.streams import Batch, since

PLACED_ORDER = "Placed Order"
REFUNDED_ORDER = "Refunded Order"
CANCELLED_ORDER = "Cancelled Order"
EVENT_KINDS = {
    PLACED_ORDER: "placed_order",
    REFUNDED_ORDER: "refunded_order",
    CANCELLED_ORDER: "cancelled_order",
}


@dataclass(frozen=True)
class Metric:
    id: str
    name: str
    integration: str  # lower-case integration key/name: "shopify", "api", …

    @property
    def from_shopify(self) -> bool:
        return self.integration == "shopify"


def metrics(api: KlaviyoApi) -> list[Metric]:
    found = []
    for resource in api.resources("/api/metrics/"):
        attributes = resource.get("attributes") or {}
        integration = attributes.get("integration") or {}
        key = integration.get("key") or integration.get("name") or ""
        found.append(Metric(str(resource["id"]), str(attributes.get("name") or ""), str(key).lower()))
    return found


def klaviyo_time(moment: datetime) -> str:
    """Filter values: ISO 8601 in UTC, whole seconds (the floor keeps the filter inclusive)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class OrderEventStream:
    """One order metric's events (`placed_order:<metric id>`, …), oldest first from the watermark."""

    site_id: str
    api: KlaviyoApi
    metric: Metric
    currency: str
    overlap: timedelta = timedelta(hours=2)
    page_size: int = 1000
    min_interval: timedelta = timedelta(0)
    name: str = field(init=False)
    _attributions: dict[str, dict[str, str]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.name = f"{EVENT_KINDS[self.metric.name]}:{self.metric.id}"

    def batches(self, state: StreamState) -> Iterator[Batch]:
        start = since(state, self.overlap)
        conditions = [f'equals(metric_id,"{self.metric.id}")']
        if start is not None:
            conditions.append(f"greater-or-equal(datetime,{klaviyo_time(start)})")
        placed = self.metric.name == PLACED_ORDER
        params = {
            "filter": f"and({','.join(conditions)})" if len(conditions) > 1 else conditions[0],
            "sort": "datetime",
            "page[size]": self.page_size,
            "include": "profile,attributions" if placed else "profile",
            "fields[profile]": "email",
        }
        high = state.watermark
        for page in self.api.pages("/api/events/", params):
            included = page.get("included") or []
            emails = {
                str(item["id"]): clean_email((item.get("attributes") or {}).get("email"))
                for item in included
                if item.get("type") == "profile"
            }
            self._attributions = {
                str(item["id"]): _credited(item) for item in included if item.get("type") == "attribution"
            }
            batch = Batch()
            for event in page.get("data") or []:
                batch.records += 1
                attributes = event.get("attributes") or {}
                at = parse_time(attributes.get("datetime")) or parse_time(attributes.get("timestamp"))
                if at is None:
                    batch.skipped.append(f"event {event.get('id')}: no usable datetime")
                    continue
                high = at if high is None or at > high else high
                profile = ((event.get("relationships") or {}).get("profile") or {}).get("data") or {}
                profile_id = str(profile.get("id") or "")
                try:
                    batch.extend(self._rows(event, attributes, at, profile_id, emails.get(profile_id, "")))
                except (ValidationError, InvalidAmount, ValueError, TypeError) as exc:
                    batch.skipped.append(f"event {event.get('id')}: {str(exc)[:200]}")
            batch.checkpoint = Checkpoint(watermark=high)
            batch.reached = high
            yield batch

    def _rows(
        self, event: dict[str, Any], attributes: dict[str, Any], at: datetime, profile_id: str, email: str
    ) -> list[tuple[str, Row]]:
        props: dict[str, Any] = attributes.get("event_properties") or {}
        extra: dict[str, Any] = props.get("$extra") or {}
        shopify = self.metric.from_shopify
        source = "shopify" if shopify else "klaviyo"
        order_id = str(props.get("$event_id") or props.get("OrderId") or event["id"])
        currency = currency_code(
            props.get("$currency_code"),
            props.get("Currency"),
            props.get("currency"),
            extra.get("currency"),
            default=self.currency,
        )
        if self.metric.name == REFUNDED_ORDER:
            return [("refunds", self._refund(event, props, at, source, order_id, currency))]
        cancelled = self.metric.name == CANCELLED_ORDER
        # Shopify-origin rows stay below every version Shopify's own data writes (ms * 4 + rank).
        version = time_version(at) if shopify else time_version(at) * 4 + int(cancelled)
        items = _line_items(props, extra, shopify)
        rows: list[tuple[str, Row]] = [
            (
                "orders",
                OrderRow(
                    site_id=self.site_id,
                    source=source,
                    order_id=order_id,
                    payment_id=order_id,
                    source_event=f"klaviyo:{self.metric.name}",
                    status="paid",
                    cancelled=int(cancelled),
                    ordered_at=at,
                    currency=currency,
                    amount=money(props.get("$value"), currency),
                    discount_amount=money(
                        props.get("Total Discounts") or props.get("DiscountValue"), currency
                    ),
                    item_count=_item_count(props, items),
                    discount_code=_discount_codes(props)[:256],
                    customer_id_type="klaviyo_profile" if profile_id else "",
                    customer_id=profile_id,
                    email_sha256=email_sha256(email) if email else "",
                    source_status="cancelled" if cancelled else "placed",
                    version=version,
                ),
            )
        ]
        if self.metric.name == PLACED_ORDER:
            rows.append(("klaviyo_attributions", self._attribution(event, props, at, source, order_id)))
        for number, item in enumerate(items, start=1):
            quantity = max(0, int(item.get("quantity") or 0))
            unit = money(item.get("price"), currency)
            discount = money(item.get("discount"), currency)
            total = item.get("total")
            rows.append(
                (
                    "order_line_items",
                    OrderLineItemRow(
                        site_id=self.site_id,
                        source=source,
                        order_id=order_id,
                        line_item_id=str(item.get("id") or number),
                        product_id=str(item.get("product_id") or ""),
                        variant_id=str(item.get("variant_id") or ""),
                        sku=str(item.get("sku") or "")[:256],
                        product_name=str(item.get("name") or "")[:1024],
                        quantity=quantity,
                        unit_price=unit,
                        discount_amount=discount,
                        line_total=money(total, currency)
                        if total is not None
                        else unit * quantity - discount,
                        currency=currency,
                        brand=str(item.get("brand") or "")[:256],
                        categories=[str(c)[:256] for c in item.get("categories") or [] if c][:32],
                        version=version,
                    ),
                )
            )
        return rows

    def _attribution(
        self, event: dict[str, Any], props: dict[str, Any], at: datetime, source: str, order_id: str
    ) -> KlaviyoAttributionRow:
        related = ((event.get("relationships") or {}).get("attributions") or {}).get("data") or []
        credited = next(
            (self._attributions[str(r.get("id"))] for r in related if str(r.get("id")) in self._attributions),
            None,
        )
        if credited is None:
            credited = _credited_by_properties(props)
        return KlaviyoAttributionRow(
            site_id=self.site_id,
            source=source,
            order_id=order_id,
            event_id=str(event["id"]),
            ordered_at=at,
            version=millis(datetime.now(UTC)),
            **credited,
        )

    def _refund(
        self,
        event: dict[str, Any],
        props: dict[str, Any],
        at: datetime,
        source: str,
        order_id: str,
        currency: str,
    ) -> RefundRow:
        return RefundRow(
            site_id=self.site_id,
            source=source,
            refund_id=f"klaviyo:{event['id']}",
            order_id=order_id,
            payment_id=order_id,
            kind="cumulative" if source == "shopify" else "refund",
            refunded_at=at,
            currency=currency,
            amount=money(props.get("$value"), currency),
            reason=str(props.get("Reason") or props.get("reason") or "")[:1024],
            version=time_version(at),
        )


def _related_id(resource: dict[str, Any], name: str) -> str:
    data = ((resource.get("relationships") or {}).get(name) or {}).get("data") or {}
    return str(data.get("id") or "") if isinstance(data, dict) else ""


def _credited(attribution: dict[str, Any]) -> dict[str, str]:
    """An included `attribution` resource → the klaviyo_attributions columns it names."""
    flow, campaign = _related_id(attribution, "flow"), _related_id(attribution, "campaign")
    if flow:
        return {
            "attributed_kind": "flow",
            "flow_id": flow,
            "flow_message_id": _related_id(attribution, "flow-message"),
        }
    if campaign:
        return {
            "attributed_kind": "campaign",
            "campaign_id": campaign,
            "campaign_message_id": _related_id(attribution, "campaign-message"),
        }
    return {}


def _credited_by_properties(props: dict[str, Any]) -> dict[str, str]:
    """The same from the event's own properties, where Klaviyo sets them on a conversion."""
    flow = str(props.get("$attributed_flow") or props.get("$flow") or "")[:256]
    message = str(props.get("$attributed_message") or props.get("$message") or "")[:256]
    if flow:
        return {"attributed_kind": "flow", "flow_id": flow, "flow_message_id": message}
    if message:
        return {"attributed_kind": "campaign", "campaign_message_id": message}
    return {}


def _line_items(props: dict[str, Any], extra: dict[str, Any], shopify: bool) -> list[dict[str, Any]]:
    """Normalised line items: Shopify's `$extra.line_items` (with ids) or the documented `Items`."""
    shopify_lines = extra.get("line_items")
    if isinstance(shopify_lines, list) and shopify_lines:
        lines = [line for line in shopify_lines if isinstance(line, dict) and line.get("id") is not None]
        return [
            {
                "id": line["id"],
                "product_id": line.get("product_id"),
                "variant_id": line.get("variant_id"),
                "sku": line.get("sku"),
                "name": line.get("title") or line.get("name"),
                "quantity": line.get("quantity", 1),
                "price": line.get("price"),
                "discount": line.get("total_discount"),
                "total": line.get("line_price"),
                "brand": line.get("vendor"),
            }
            for line in lines
        ]
    if shopify:
        return []  # no Shopify line ids: Shopify's own line items are the ones to count
    items = props.get("Items")
    if not isinstance(items, list):
        return []
    return [
        {
            "product_id": item.get("ProductID") or item.get("ProductId"),
            "variant_id": item.get("VariantID") or item.get("VariantId"),
            "sku": item.get("SKU"),
            "name": item.get("ProductName"),
            "quantity": item.get("Quantity", 1),
            "price": item.get("ItemPrice"),
            "total": item.get("RowTotal"),
            "brand": item.get("Brand"),
            "categories": item.get("Categories") if isinstance(item.get("Categories"), list) else [],
        }
        for item in items
        if isinstance(item, dict)
    ]


def _item_count(props: dict[str, Any], items: list[dict[str, Any]]) -> int:
    if items:
        return sum(max(0, int(item.get("quantity") or 0)) for item in items)
    count = props.get("Item Count") or props.get("ItemCount")
    return int(count) if isinstance(count, int | float) and count >= 0 else 0


def _discount_codes(props: dict[str, Any]) -> str:
    codes = props.get("Discount Codes") or props.get("DiscountCode") or props.get("Discount Code") or []
    if isinstance(codes, str):
        return codes
    return ",".join(str(code) for code in codes if code) if isinstance(codes, list) else ""


@dataclass
class ProfilesStream:
    """Profiles updated since the watermark → integration customers, identity links, people."""

    site_id: str
    api: KlaviyoApi
    overlap: timedelta = timedelta(minutes=10)
    page_size: int = 100
    min_interval: timedelta = timedelta(0)
    name: str = "profiles"

    def batches(self, state: StreamState) -> Iterator[Batch]:
        start = since(state, self.overlap)
        params: dict[str, Any] = {"sort": "updated", "page[size]": self.page_size}
        if start is not None:
            # Get Profiles filters `updated` with greater-than/less-than only (greater-or-equal is a
            # 400); the overlap makes the strict bound harmless.
            params["filter"] = f"greater-than(updated,{klaviyo_time(start)})"
        high = state.watermark
        for page in self.api.pages("/api/profiles/", params):
            batch = Batch()
            for profile in page.get("data") or []:
                batch.records += 1
                attributes = profile.get("attributes") or {}
                updated = parse_time(attributes.get("updated"))
                if updated is None:
                    batch.skipped.append(f"profile {profile.get('id')}: no updated time")
                    continue
                high = updated if high is None or updated > high else high
                location = attributes.get("location") or {}
                add_customer(
                    batch,
                    site_id=self.site_id,
                    source="klaviyo",
                    id_type="klaviyo_profile",
                    customer_id=str(profile["id"]),
                    email=clean_email(attributes.get("email")),
                    phone=str(attributes.get("phone_number") or ""),
                    first_name=str(attributes.get("first_name") or ""),
                    last_name=str(attributes.get("last_name") or ""),
                    created_at=parse_time(attributes.get("created")),
                    updated_at=updated,
                    traits={
                        "external_id": attributes.get("external_id"),
                        "organization": attributes.get("organization"),
                        "locale": attributes.get("locale"),
                        "country": location.get("country"),
                        "region": location.get("region"),
                        "city": location.get("city"),
                        "properties": attributes.get("properties"),
                    },
                )
            batch.checkpoint = Checkpoint(watermark=high)
            batch.reached = high
            yield batch
