"""Cart, wishlist and review rows of Segment's e-commerce spec v2 calls (migrations/0049_carts.sql,
docs/carts.md).

* Cart calls that name a `cart_id` (`Product Added`, `Product Removed`, `Cart Viewed`, `Checkout
  Started`, `Order Completed`, `Wishlist Product Added to Cart`) → `cart_events`, one row per
  product line: `Product Added` +quantity, `Product Removed` -quantity (1 when absent, as the
  spec's examples send one), and a call that lists `products` (`Cart Viewed`, `Checkout
  Started`, `Order Completed`) is a snapshot of the whole cart. A call without products is one
  line-0 row that only marks activity.
* `Product Added to Wishlist`, `Product Removed from Wishlist`, `Wishlist Product Added to Cart`
  → `wishlist_events`.
* `Product Reviewed` → `product_reviews` (the spec sends `rating` as a string: "5").

Every row is keyed by the message id, so a redelivery collapses. The calls keep their `events`
row. A malformed line (a price that is not a number) loses its price, never the call: carts are
analytics, and the order path (touchline.tracking.ecommerce) is where money is refused.
"""

from __future__ import annotations

import math
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from touchline.envelope import EARLIEST, LATEST, Row
from touchline.revenue.rows import Money, time_version
from touchline.tracking import ecommerce

MAX_TEXT = 256
MAX_LINES = 200  # products per call kept: a cart beyond is not a shopper's
MAX_QUANTITY = 1_000_000
MAX_RATING = 100.0
MAX_REVIEW = 4096

# event name → cart action (calls that change or show a cart)
CART_ACTIONS = {
    "Product Added": "added",
    "Wishlist Product Added to Cart": "added",
    "Product Removed": "removed",
    "Cart Viewed": "viewed",
    "Checkout Started": "checkout_started",
    "Order Completed": "order_completed",
}
WishlistAction = Literal["added", "removed", "moved_to_cart"]
WISHLIST_ACTIONS: dict[str, WishlistAction] = {
    "Product Added to Wishlist": "added",
    "Product Removed from Wishlist": "removed",
    "Wishlist Product Added to Cart": "moved_to_cart",
}
PRODUCT_REVIEWED = "Product Reviewed"
CartAction = Literal["added", "removed", "viewed", "checkout_started", "order_completed"]


class CartEventRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    cart_id: str = Field(min_length=1, max_length=MAX_TEXT)
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    message_id: str = Field(min_length=1, max_length=MAX_TEXT)
    line: int = Field(0, ge=0, le=65535)
    action: CartAction
    snapshot: int = Field(0, ge=0, le=1)
    visitor_id: str = Field("", max_length=MAX_TEXT)
    user_id: str = Field("", max_length=MAX_TEXT)
    product_id: str = Field("", max_length=MAX_TEXT + 5)
    sku: str = Field("", max_length=MAX_TEXT)
    name: str = Field("", max_length=MAX_TEXT)
    variant: str = Field("", max_length=MAX_TEXT)
    brand: str = Field("", max_length=MAX_TEXT)
    category: str = Field("", max_length=MAX_TEXT)
    quantity: int = Field(0, ge=-MAX_QUANTITY, le=MAX_QUANTITY)
    price: Money = Field(Decimal(0), ge=0)
    price_known: int = Field(0, ge=0, le=1)
    currency: str = Field("", max_length=3)
    order_id: str = Field("", max_length=MAX_TEXT)
    checkout_id: str = Field("", max_length=MAX_TEXT)


class WishlistEventRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    wishlist_id: str = Field("", max_length=MAX_TEXT)
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    message_id: str = Field(min_length=1, max_length=MAX_TEXT)
    action: WishlistAction
    wishlist_name: str = Field("", max_length=MAX_TEXT)
    visitor_id: str = Field("", max_length=MAX_TEXT)
    user_id: str = Field("", max_length=MAX_TEXT)
    product_id: str = Field("", max_length=MAX_TEXT + 5)
    sku: str = Field("", max_length=MAX_TEXT)
    name: str = Field("", max_length=MAX_TEXT)
    price: Money = Field(Decimal(0), ge=0)
    price_known: int = Field(0, ge=0, le=1)
    currency: str = Field("", max_length=3)


class ProductReviewRow(Row):
    site_id: str = Field(min_length=1, max_length=64)
    product_id: str = Field(min_length=1, max_length=MAX_TEXT + 5)
    review_id: str = Field(min_length=1, max_length=MAX_TEXT)
    at: AwareDatetime = Field(ge=EARLIEST, lt=LATEST)
    message_id: str = Field(min_length=1, max_length=MAX_TEXT)
    visitor_id: str = Field("", max_length=MAX_TEXT)
    user_id: str = Field("", max_length=MAX_TEXT)
    rating: float = Field(0.0, ge=0, le=MAX_RATING)
    rated: int = Field(0, ge=0, le=1)
    review_body: str = Field("", max_length=MAX_REVIEW)
    version: int = Field(ge=0)


def is_commerce_state_event(event: str) -> bool:
    return event in CART_ACTIONS or event in WISHLIST_ACTIONS or event == PRODUCT_REVIEWED


def _text(value: Any, limit: int = MAX_TEXT) -> str:
    if value is None or isinstance(value, dict | list | bool):
        return ""
    return str(value).strip()[:limit]


def product_key(product: dict[str, Any]) -> str:
    """The product as products_master keys it: product_id, else `sku:…`, else `name:…`."""
    if product_id := _text(product.get("product_id") or product.get("id")):
        return product_id
    if sku := _text(product.get("sku")):
        return f"sku:{sku}"
    if name := _text(product.get("name")):
        return f"name:{name}"
    return ""


def _quantity(value: Any) -> int:
    if isinstance(value, bool):
        return 1
    try:
        number = float(value)
    except (TypeError, ValueError):
        return 1
    if not math.isfinite(number):
        return 1
    return max(0, min(int(number), MAX_QUANTITY))


def _price(product: dict[str, Any], currency: str) -> tuple[Decimal, int]:
    raw = product.get("price")
    if raw is None:
        return Decimal(0), 0
    try:
        price = ecommerce.money(raw, currency, "price")
    except ecommerce.InvalidOrder:
        return Decimal(0), 0
    return (price, 1) if price >= 0 else (Decimal(0), 0)


def _currency(properties: dict[str, Any]) -> str:
    try:
        return ecommerce.currency_of(properties)
    except ecommerce.InvalidOrder:
        return ecommerce.DEFAULT_CURRENCY


def commerce_rows(
    site_id: str,
    *,
    event: str,
    properties: dict[str, Any],
    visitor_id: str,
    user_id: str,
    message_id: str,
    at: datetime,
) -> list[tuple[str, Row]]:
    """The cart, wishlist and review rows of one `track` call (none for other events)."""
    rows: list[tuple[str, Row]] = []
    p = properties
    people = {"visitor_id": visitor_id[:MAX_TEXT], "user_id": user_id[:MAX_TEXT]}
    if (action := CART_ACTIONS.get(event)) and (cart_id := _text(p.get("cart_id"))):
        lines = _cart_rows(site_id, cart_id, action, p, message_id, at, people)
        rows.extend(("cart_events", row) for row in lines)
    if wishlist_action := WISHLIST_ACTIONS.get(event):
        currency = _currency(p)
        price, known = _price(p, currency)
        rows.append(
            (
                "wishlist_events",
                WishlistEventRow(
                    site_id=site_id,
                    wishlist_id=_text(p.get("wishlist_id")),
                    at=at,
                    message_id=message_id,
                    action=wishlist_action,
                    wishlist_name=_text(p.get("wishlist_name")),
                    product_id=product_key(p),
                    sku=_text(p.get("sku")),
                    name=_text(p.get("name")),
                    price=price,
                    price_known=known,
                    currency=currency,
                    **people,
                ),
            )
        )
    if event == PRODUCT_REVIEWED and (product := product_key(p)):
        rating = _rating(p.get("rating"))
        rows.append(
            (
                "product_reviews",
                ProductReviewRow(
                    site_id=site_id,
                    product_id=product,
                    review_id=_text(p.get("review_id")) or message_id[:MAX_TEXT],
                    at=at,
                    message_id=message_id,
                    rating=rating or 0.0,
                    rated=int(rating is not None),
                    review_body=_text(p.get("review_body"), MAX_REVIEW),
                    version=time_version(at),
                    **people,
                ),
            )
        )
    return rows


def _rating(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        return None
    return number if math.isfinite(number) and 0 <= number <= MAX_RATING else None


def _cart_rows(
    site_id: str,
    cart_id: str,
    action: str,
    p: dict[str, Any],
    message_id: str,
    at: datetime,
    people: dict[str, str],
) -> list[CartEventRow]:
    currency = _currency(p)
    common: dict[str, Any] = {
        "site_id": site_id,
        "cart_id": cart_id,
        "at": at,
        "message_id": message_id,
        "action": action,
        "currency": currency,
        "order_id": _text(p.get("order_id")),
        "checkout_id": _text(p.get("checkout_id")),
        **people,
    }
    listed = p.get("products")
    if action in ("added", "removed"):
        products = [p]
        sign, snapshot = (1 if action == "added" else -1), 0
    elif isinstance(listed, list):
        products = [item for item in listed[:MAX_LINES] if isinstance(item, dict)]
        sign, snapshot = 1, 1
    else:
        return [CartEventRow(**common)]
    rows = []
    for line, product in enumerate(products):
        key = product_key(product)
        if not key:
            continue
        price, known = _price(product, currency)
        rows.append(
            CartEventRow(
                **common,
                line=line,
                snapshot=snapshot,
                product_id=key,
                sku=_text(product.get("sku")),
                name=_text(product.get("name")),
                variant=_text(product.get("variant")),
                brand=_text(product.get("brand")),
                category=_text(product.get("category")),
                quantity=sign * _quantity(product.get("quantity", 1)),
                price=price,
                price_known=known,
            )
        )
    # A snapshot of an empty cart (or of lines with no product) still says the cart is empty.
    return rows or [CartEventRow(**common, snapshot=snapshot)]
