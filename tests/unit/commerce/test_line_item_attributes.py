"""Producers keep what order payloads say of a product: brand and categories on line items."""

from __future__ import annotations

from datetime import UTC, datetime

from revenue_payloads import shopify_order

from touchline.revenue.rows import OrderLineItemRow
from touchline.revenue.shopify_events import translate
from touchline.syncs.providers.klaviyo.events import _line_items
from touchline.tracking.ecommerce import order_rows


def test_shopify_line_items_carry_the_vendor() -> None:
    rows = [
        row
        for table, row in translate("s1", "orders/paid", shopify_order()).rows
        if table == "order_line_items"
    ]
    assert rows and all(isinstance(r, OrderLineItemRow) and r.brand == "Touchline Test Shop" for r in rows)


def test_segment_products_carry_brand_and_category() -> None:
    properties = {
        "order_id": "o-1",
        "total": 30,
        "currency": "USD",
        "products": [{"product_id": "p1", "price": 15, "quantity": 2, "brand": "Acme", "category": "Games"}],
    }
    rows = order_rows(
        "s1", properties, datetime(2026, 11, 1, tzinfo=UTC), visitor_id="", user_id="", email_hash=""
    )
    [item] = [r for t, r in rows if t == "order_line_items"]
    assert isinstance(item, OrderLineItemRow) and (item.brand, item.categories) == ("Acme", ["Games"])


def test_klaviyo_items_carry_brand_and_categories() -> None:
    # Klaviyo's documented custom-integration Placed Order Items.
    props = {
        "Items": [
            {
                "ProductID": "1111",
                "SKU": "WINNIEPOOH",
                "ProductName": "Winnie the Pooh",
                "Quantity": 1,
                "ItemPrice": 9.99,
                "RowTotal": 9.99,
                "Categories": ["Fiction", "Children"],
                "Brand": "Kids Books",
            }
        ]
    }
    [item] = _line_items(props, {}, shopify=False)
    assert (item["brand"], item["categories"]) == ("Kids Books", ["Fiction", "Children"])
