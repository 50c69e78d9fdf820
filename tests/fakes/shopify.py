"""A fake Shopify Admin REST API (2025-07) as the documentation describes it.

* auth: `X-Shopify-Access-Token` (401 `{"errors": "[API] Invalid API key or access token …"}`);
* `GET /admin/api/<version>/{orders,customers,products}.json`: `limit` ≤ 250 (default 50),
  `updated_at_min`, orders' `status` (default `open`: closed and cancelled orders need `any`);
  results in id order; more pages announced in a `Link` header (`<…page_info=…>; rel="next"`,
  `rel="previous"`); with `page_info` only `limit` and `fields` are accepted (400 otherwise);
  `page_info` is positional, so records changing while a client pages do not shift pages;
* `GET /admin/api/<version>/shop.json`;
* every request is checked against the documented REST reference (tests/payloads/apis/
  shopify-admin-rest-2025-07.json): unknown parameters, enums and bounds, the token header;
* every answer carries `X-Shopify-Shop-Api-Call-Limit: <used>/40` (a leaky bucket, 2/s leak);
  throttled calls answer 429 `Retry-After: 2.0`.

https://shopify.dev/docs/api/admin-rest/usage/pagination ,
https://shopify.dev/docs/api/admin-rest/usage/rate-limits
"""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fakes.contract import Contract
from fakes.server import FakeApi, Reply, Request

RESOURCES = ("orders", "customers", "products")
THROTTLED = (
    "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
)


# The documented REST reference of the operations the sync calls (tests/payloads/apis/README.md):
# unknown query parameters, values outside their enums and bounds, a missing credential header
# are refused before the fake answers.
CONTRACT = Contract.load("shopify-admin-rest-2025-07.json", trailing_slash=False)


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class FakeShopify(FakeApi):
    def __init__(self, token: str = "shpat_test", version: str = "2025-07") -> None:
        super().__init__()
        self.token = token
        self.version = version
        self.records: dict[str, dict[int, dict[str, Any]]] = {name: {} for name in RESOURCES}
        self.bucket_used = 0
        self.faults.retry_after = "2.0"
        self.route("GET", rf"/admin/api/{version}/shop\.json", self._shop)
        self.route("GET", rf"/admin/api/{version}/(?P<resource>orders|customers|products)\.json", self._list)

    # ------------------------------------------------------------------ data
    def put(self, resource: str, record: dict[str, Any]) -> None:
        with self.lock:
            self.records[resource][int(record["id"])] = record

    def touch(self, resource: str, record_id: int, at: datetime, **changes: Any) -> None:
        with self.lock:
            record = self.records[resource][record_id]
            record.update(changes)
            record["updated_at"] = stamp(at)

    # ------------------------------------------------------------------ protocol
    def authorized(self, request: Request) -> Reply | None:
        if request.headers.get("x-shopify-access-token") != self.token:
            return Reply(
                401,
                {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
            )
        return None

    def refused(self, request: Request) -> Reply | None:
        problems = CONTRACT.problems(request)
        if not problems:
            return None
        return Reply(400, {"errors": {"query": problems[:5]}})

    def rate_limited(self) -> Reply:
        return Reply(
            429,
            {"errors": THROTTLED},
            {"Retry-After": self.faults.retry_after, "X-Shopify-Shop-Api-Call-Limit": "40/40"},
        )

    def _limited(self, reply: Reply) -> Reply:
        self.bucket_used = (self.bucket_used + 7) % 41  # climbs past the high-water mark now and then
        reply.headers["X-Shopify-Shop-Api-Call-Limit"] = f"{self.bucket_used}/40"
        return reply

    def _shop(self, request: Request, _m: re.Match[str]) -> Reply:
        return self._limited(
            Reply(
                200,
                {
                    "shop": {
                        "id": 1,
                        "name": "Example",
                        "currency": "USD",
                        "myshopify_domain": "example.myshopify.com",
                    }
                },
            )
        )

    def _list(self, request: Request, match: re.Match[str]) -> Reply:
        resource = match["resource"]
        limit = int(request.arg("limit", "50") or 50)
        if not 1 <= limit <= 250:
            return Reply(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        page_info = request.arg("page_info")
        if page_info:
            if set(request.query) - {"page_info", "limit", "fields"}:
                return Reply(
                    400, {"errors": {"page_info": ["Only limit and fields may be used with page_info"]}}
                )
            try:
                filters = json.loads(base64.urlsafe_b64decode(page_info.encode()))
            except ValueError:
                return Reply(400, {"errors": {"page_info": ["Invalid value."]}})
        else:
            filters = {
                "after": 0,
                "updated_at_min": request.arg("updated_at_min"),
                "status": request.arg("status", "open"),
            }
        rows = sorted(self.records[resource].values(), key=lambda r: int(r["id"]))
        minimum = filters.get("updated_at_min")
        if minimum:
            bound = datetime.fromisoformat(minimum)
            rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= bound]
        if resource == "orders" and filters.get("status") == "open":
            rows = [r for r in rows if not r.get("closed_at") and not r.get("cancelled_at")]
        rows = [r for r in rows if int(r["id"]) > int(filters["after"])]
        page = rows[:limit]
        headers = {}
        if len(rows) > limit:
            cursor = base64.urlsafe_b64encode(
                json.dumps({**filters, "after": int(page[-1]["id"])}).encode()
            ).decode()
            query = urlencode({"limit": limit, "page_info": cursor})
            url = f"{self.base_url}/admin/api/{self.version}/{resource}.json?{query}"
            headers["Link"] = f'<{url}>; rel="next"'
        return self._limited(Reply(200, {resource: page}, headers))


# ---------------------------------------------------------------------- builders


def order(
    order_id: int,
    at: datetime,
    lines: int = 2,
    *,
    customer_id: int | None = None,
    email: str | None = None,
    refunded: str | None = None,
) -> dict[str, Any]:
    """An Admin REST order resource (the same shape the orders/* webhooks deliver)."""
    items: list[dict[str, Any]] = [
        {
            "id": order_id * 10 + j,
            "product_id": 700 + j,
            "variant_id": 9000 + j,
            "title": f"Product {j}",
            "name": f"Product {j} - Default",
            "sku": f"SKU-{j}",
            "quantity": 1 + j % 2,
            "price": "19.99",
            "total_discount": "0.00",
            "discount_allocations": [],
        }
        for j in range(lines)
    ]
    total = sum(19.99 * item["quantity"] for item in items)
    record: dict[str, Any] = {
        "id": order_id,
        "name": f"#{order_id % 100000}",
        "order_number": order_id % 100000,
        "email": email,
        "contact_email": email,
        "created_at": stamp(at),
        "updated_at": stamp(at),
        "processed_at": stamp(at),
        "cancelled_at": None,
        "closed_at": None,
        "currency": "USD",
        "total_price": f"{total:.2f}",
        "subtotal_price": f"{total:.2f}",
        "total_tax": "0.00",
        "total_discounts": "0.00",
        "total_shipping_price_set": {"shop_money": {"amount": "0.00", "currency_code": "USD"}},
        "financial_status": "paid",
        "fulfillment_status": None,
        "test": False,
        "customer": {"id": customer_id, "email": email} if customer_id else None,
        "line_items": items,
        "refunds": [],
        "discount_codes": [],
        "note_attributes": [],
        "landing_site": "/",
        "referring_site": "",
        "source_name": "web",
        "shipping_address": {"country_code": "US"},
    }
    if refunded:
        record["financial_status"] = "partially_refunded"
        record["refunds"] = [
            {
                "id": order_id * 100,
                "order_id": order_id,
                "created_at": stamp(at + timedelta(days=1)),
                "note": "damaged",
                "refund_line_items": [{"id": 1, "line_item_id": items[0]["id"], "quantity": 1}],
                "transactions": [
                    {"id": 5, "kind": "refund", "status": "success", "amount": refunded, "currency": "USD"}
                ],
            }
        ]
    return record


def customer(customer_id: int, at: datetime, email: str) -> dict[str, Any]:
    return {
        "id": customer_id,
        "email": email,
        "first_name": "Ada",
        "last_name": f"L{customer_id}",
        "phone": None,
        "created_at": stamp(at),
        "updated_at": stamp(at),
        "orders_count": 1,
        "total_spent": "39.98",
        "state": "enabled",
        "tags": "vip",
        "currency": "USD",
        "verified_email": True,
        "email_marketing_consent": {"state": "subscribed"},
        "default_address": {"country_code": "CA", "city": "Montreal"},
    }


def product(product_id: int, at: datetime, prices: tuple[str, ...] = ("19.99", "24.99")) -> dict[str, Any]:
    return {
        "id": product_id,
        "title": f"Product {product_id}",
        "handle": f"product-{product_id}",
        "vendor": "Acme",
        "product_type": "Mugs",
        "status": "active",
        "tags": "new, sale",
        "created_at": stamp(at),
        "updated_at": stamp(at),
        "variants": [
            {"id": product_id * 100 + i, "sku": f"P{product_id}-{i}", "price": price}
            for i, price in enumerate(prices)
        ],
    }
