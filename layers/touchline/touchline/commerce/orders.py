"""The orders every commerce table is computed from: paid orders of every source, net of refunds,
each with the customer it belongs to and its products.

Which orders count, and how refunds net, is attribution's rule (`ORDER_NET_REVENUE`): paid, not
cancelled, not test, one row per payment. A customer is the person identity resolution puts the
order's customer id, email or visitor in, else the email hash, else the typed customer id, else
the visitor; an order with none of them is nobody's (it still counts in daily totals).
"""

from __future__ import annotations

from touchline.aggregate.conversions import ORDER_NET_REVENUE
from touchline.aggregate.staging import Stages

ORDER_COLUMNS = (
    "source String, order_id String, ordered_at DateTime64(3, 'UTC'), currency String, "
    "amount Decimal(38, 4), refunded Decimal(38, 4), net Decimal(38, 4), "
    "discount_amount Decimal(38, 4), discount_code String, person_id String, email_sha256 String, "
    "customer_id_type String, customer_id String"
)


def orders_select(scope: str = "1") -> str:
    """The counted orders, each with its customer; `scope` narrows the orders read (a condition on
    `orders`' columns, true for every version of an order that must be in): the rollups'
    incremental runs resolve only the orders of a few days and persons, not all of them."""
    return _ORDERS_SELECT.replace("{order_scope}", scope)


_ORDERS_SELECT = (
    """
WITH
mapped AS (
    SELECT id_type, id_value, person_id FROM identity_map FINAL WHERE site_id = {site:String}),
base AS ("""
    + ORDER_NET_REVENUE
    + """)
SELECT o.source, o.order_id, o.ordered_at, o.currency, o.amount, o.refunded, o.amount - o.refunded,
       o.discount_amount, o.discount_code,
       multiIf(c.person_id != '', c.person_id,
               e.person_id != '', e.person_id,
               v.person_id != '', v.person_id,
               o.email_sha256 != '', concat('email_sha256:', o.email_sha256),
               o.customer_id != '', concat(o.customer_id_type, ':', o.customer_id),
               o.visitor_id != '', concat('visitor:', o.visitor_id),
               '') AS person_id,
       o.email_sha256, o.customer_id_type, o.customer_id
FROM base AS o
LEFT JOIN mapped AS c ON c.id_type = o.customer_id_type AND c.id_value = o.customer_id
    AND o.customer_id != ''
LEFT JOIN (SELECT id_value, person_id FROM mapped WHERE id_type = 'email_sha256') AS e
    ON e.id_value = o.email_sha256 AND o.email_sha256 != ''
LEFT JOIN (SELECT id_value, person_id FROM mapped WHERE id_type = 'visitor') AS v
    ON v.id_value = o.visitor_id AND o.visitor_id != ''
WHERE toDate(o.ordered_at) <= {as_of:Date}
"""
)

# The product a line item is: its product id, else its SKU, else its name.
PRODUCT_KEY = (
    "if(li.product_id != '', li.product_id, if(li.sku != '', concat('sku:', li.sku), "
    "if(li.product_name != '', concat('name:', li.product_name), '')))"
)

LINE_COLUMNS = (
    "source String, order_id String, line_item_id String, ordered_at DateTime64(3, 'UTC'), currency String, "
    "person_id String, product_key String, product_name String, sku String, quantity UInt32, "
    "unit_price Decimal(38, 4), line_total Decimal(38, 4), discount_amount Decimal(38, 4), "
    "brand String, category String, categories Array(String)"
)


def lines_select(orders: str, few: bool = False) -> str:
    """Line items of the staged orders, with the catalogue's brand and category where it has them.

    `few`: the staged orders are a handful (the hourly profiles' changed customers): the line
    items are looked up by their key instead of read whole."""
    only = f" AND (source, order_id) IN (SELECT source, order_id FROM {orders})" if few else ""
    return f"""
SELECT o.source, o.order_id, li.line_item_id, o.ordered_at, o.currency, o.person_id,
       {PRODUCT_KEY} AS product_key,
       li.product_name, li.sku, li.quantity, li.unit_price, li.line_total, li.discount_amount,
       if(cat.vendor != '', cat.vendor, li.brand) AS brand,
       if(cat.product_type != '', cat.product_type, if(empty(li.categories), '', li.categories[1]))
           AS category,
       li.categories
FROM (SELECT * FROM order_line_items FINAL WHERE site_id = {{site:String}}{only}) AS li
INNER JOIN {orders} AS o ON o.source = li.source AND o.order_id = li.order_id
LEFT JOIN (SELECT product_id, argMax(vendor, version) AS vendor, argMax(product_type, version) AS product_type
           FROM products FINAL WHERE site_id = {{site:String}} GROUP BY product_id) AS cat
    ON cat.product_id = li.product_id AND li.product_id != ''
WHERE product_key != ''
"""


def stage_orders(
    scratch: Stages, params: dict[str, object], scope: str = "1", purpose: str = "commerce_orders"
) -> str:
    return scratch.create(purpose, ORDER_COLUMNS, orders_select(scope), params)


def stage_lines(scratch: Stages, orders: str, params: dict[str, object], few: bool = False) -> str:
    # A run can stage both: the few of the hourly profiles' changed customers, and all for products.
    purpose = "changed_lines" if few else "commerce_lines"
    return scratch.create(purpose, LINE_COLUMNS, lines_select(orders, few), params)
