"""Shopify Admin REST API: orders (with line items and refunds), customers and products.

Each list is read in passes over `updated_at_min` (the watermark minus an overlap), 250 records a
page, following the `Link` header's `rel="next"` URL (`page_info` cursors; with `page_info` only
`limit` may be sent again). Admin lists are not sorted by update time, so the watermark moves
when a pass completes, and an unfinished pass resumes from its stored `next` URL (restarting the
pass if Shopify no longer accepts that cursor).

An order is translated exactly as the `orders/updated` webhook is (`touchline.revenue.
shopify_events`: the REST order and the webhook payload are the same resource), so a synced order
and a webhook-delivered one share key and version rule and count once.

Throttling is Shopify's leaky bucket: `X-Shopify-Shop-Api-Call-Limit: 32/40` on every answer (the
client slows down above 80 % full) and 429 with `Retry-After: 2.0` when the bucket overflows.
https://shopify.dev/docs/api/admin-rest/usage/pagination ,
https://shopify.dev/docs/api/admin-rest/usage/rate-limits
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from touchline.revenue import shopify_events
from touchline.revenue.money import InvalidAmount
from touchline.syncs.http import ApiError, HttpClient, Response, bucket_pace
from touchline.syncs.providers.base import Connection, Provider, Settings, http_client
from touchline.syncs.providers.common import add_customer, clean_email, millis, money, parse_time
from touchline.syncs.rows import ProductRow
from touchline.syncs.state import StreamState
from touchline.syncs.streams import Batch, Pass, Stream

API_VERSION = "2025-07"
PAGE_SIZE = 250
LEAK_PER_SECOND = 2.0  # standard plan; faster plans simply never reach the high-water mark
_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?')


class ShopifyCredentials(BaseModel):
    """A custom app's Admin API access token for one shop (`touchline integrations add shopify`)."""

    model_config = ConfigDict(extra="ignore")

    shop_domain: str = Field(min_length=1)  # example.myshopify.com
    admin_token: str = Field(min_length=1)  # shpat_…
    api_version: str = API_VERSION


def next_link(header: str | None) -> str | None:
    for url, relation in _LINK.findall(header or ""):
        if relation == "next":
            return str(url)
    return None


def pace(response: Response) -> float:
    return bucket_pace(response.header("x-shopify-shop-api-call-limit"), LEAK_PER_SECOND)


RowsOf = Callable[[Batch, dict[str, Any]], datetime | None]


@dataclass
class AdminListStream:
    """One Admin list (`orders`, `customers`, `products`) in resumable passes."""

    name: str
    http: HttpClient
    rows_of: RowsOf  # adds a record's rows to the batch; returns its updated_at
    params: dict[str, Any] = field(default_factory=dict)
    overlap: timedelta = timedelta(minutes=10)
    min_interval: timedelta = timedelta(0)
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def batches(self, state: StreamState) -> Iterator[Batch]:
        run = Pass.resume(state, self.overlap, self.clock())
        url: str | None = run.cursor
        while True:
            try:
                response = self._page(url, run)
            except ApiError as exc:
                if url is None or exc.status not in (400, 404, 422):
                    raise
                url = None  # the stored cursor is no longer valid: restart this pass
                continue
            batch = Batch()
            for record in response.json().get(self.name) or []:
                batch.records += 1
                try:
                    updated = self.rows_of(batch, record)
                except (ValidationError, InvalidAmount, ValueError, TypeError) as exc:
                    batch.skipped.append(f"{self.name} {record.get('id')}: {str(exc)[:200]}")
                    continue
                if updated is not None and (batch.reached is None or updated > batch.reached):
                    batch.reached = updated
            url = next_link(response.header("link"))
            batch.checkpoint = run.at(url) if url else run.finished()
            yield batch
            if not url:
                return

    def _page(self, url: str | None, run: Pass) -> Response:
        if url is not None:
            return self.http.get(url)
        params: dict[str, Any] = {"limit": PAGE_SIZE, **self.params}
        if run.start is not None:
            params["updated_at_min"] = run.start.isoformat(timespec="seconds")
        return self.http.get(f"{self.name}.json", params)


def open_shopify(settings: Settings, credentials: Any) -> Connection:
    assert isinstance(credentials, ShopifyCredentials)
    shop = credentials.shop_domain.removeprefix("https://").strip("/")
    http = http_client(
        "shopify",
        settings,
        f"https://{shop}",
        {"x-shopify-access-token": credentials.admin_token},
        pace,
    )
    http.base_url = f"{http.base_url}admin/api/{credentials.api_version}/"
    site = settings.site_id
    currency = str((http.get("shop.json").json().get("shop") or {}).get("currency") or "USD")

    def order(batch: Batch, record: dict[str, Any]) -> datetime | None:
        batch.extend(shopify_events.translate(site, "orders/updated", record).rows)
        return parse_time(record.get("updated_at"))

    def customer(batch: Batch, record: dict[str, Any]) -> datetime | None:
        updated = parse_time(record.get("updated_at")) or parse_time(record.get("created_at"))
        if updated is None:
            raise ValueError("no updated_at")
        address = record.get("default_address") or {}
        consent = record.get("email_marketing_consent") or {}
        add_customer(
            batch,
            site_id=site,
            source="shopify",
            id_type="shopify_customer",
            customer_id=str(record["id"]),
            email=clean_email(record.get("email")),
            phone=str(record.get("phone") or ""),
            first_name=str(record.get("first_name") or ""),
            last_name=str(record.get("last_name") or ""),
            created_at=parse_time(record.get("created_at")),
            updated_at=updated,
            traits={
                "orders_count": record.get("orders_count"),
                "total_spent": record.get("total_spent"),
                "currency": record.get("currency"),
                "state": record.get("state"),
                "tags": record.get("tags"),
                "verified_email": record.get("verified_email"),
                "email_marketing": consent.get("state"),
                "country": address.get("country_code"),
                "city": address.get("city"),
            },
        )
        return updated

    def product(batch: Batch, record: dict[str, Any]) -> datetime | None:
        updated = parse_time(record.get("updated_at")) or parse_time(record.get("created_at"))
        if updated is None:
            raise ValueError("no updated_at")
        variants = [v for v in record.get("variants") or [] if isinstance(v, dict)]
        prices = [money(v.get("price"), currency) for v in variants if v.get("price") not in (None, "")]
        tags = record.get("tags") or ""
        batch.add(
            "products",
            ProductRow(
                site_id=site,
                source="shopify",
                product_id=str(record["id"]),
                title=str(record.get("title") or "")[:1024],
                handle=str(record.get("handle") or "")[:1024],
                vendor=str(record.get("vendor") or "")[:1024],
                product_type=str(record.get("product_type") or "")[:1024],
                status=str(record.get("status") or "")[:32],
                tags=[t.strip() for t in (tags.split(",") if isinstance(tags, str) else tags) if t.strip()],
                variant_ids=[str(v["id"]) for v in variants if v.get("id") is not None],
                skus=[str(v["sku"]) for v in variants if v.get("sku")],
                min_price=min(prices, default=0),
                max_price=max(prices, default=0),
                created_at=parse_time(record.get("created_at")) or updated,
                updated_at=updated,
                version=millis(updated),
            ),
        )
        return updated

    streams: list[Stream] = [
        AdminListStream("orders", http, order, {"status": "any"}),
        AdminListStream("customers", http, customer),
        AdminListStream("products", http, product),
    ]
    return Connection(http, streams)


SHOPIFY = Provider("shopify", ShopifyCredentials, open_shopify, "https://{shop_domain}")
