"""Carts, wishlists and reviews in the query API (docs/carts.md).

* `carts`: the site's carts (`shopping_carts`, migration 0057) whose first activity is in the
  range, each with its status as of the query time: `converted` (ordered before it was
  abandoned), `recovered` (abandoned, then ordered), `abandoned`, or `open`. A cart is abandoned
  once the site's `cart_abandon_hours` (24 by default) pass after its last activity without an
  order. Its order is the cart's own (an `Order Completed` naming the cart, or the order a
  `Checkout Started` of the cart named), else the same person's first paid order placed after
  the cart's first activity and at most 7 days after it was abandoned.
* `wishlists`: wishlist calls in the range; `reviews`: product reviews in the range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from touchline.query.builtin.money import money_sort, render_money
from touchline.query.builtin.tables import range_clause, site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender

KIND = "carts"
# How long after abandonment the same person's order still recovers a cart without naming it.
RECOVERY_WINDOW = timedelta(days=7)
NEVER = "toDateTime64('2299-12-31 00:00:00', 3, 'UTC')"
# shopping_carts' columns (`c.*` would keep its alias in a join's output names)
_COLUMNS = (
    "site_id", "cart_id", "visitor_id", "user_id", "currency", "value", "items", "products",
    "first_activity", "last_activity", "checkout_started_at", "completed_at", "order_id", "calls",
)  # fmt: skip
CART_COLUMNS = ", ".join(f"c.{name} AS {name}" for name in _COLUMNS)
CART_ANY = ", ".join(
    "c.cart_id AS cart_id" if name == "cart_id" else f"any(c.{name}) AS {name}" for name in _COLUMNS
)


def as_of(ctx: CompileContext) -> datetime:
    """The query time rounded up to the minute, so a minute's repeats share the result cache and
    an order placed seconds ago is already seen."""
    now = (ctx.query.now or datetime.now(UTC)).astimezone(UTC)
    floor = now.replace(second=0, microsecond=0)
    return floor if floor == now else floor + timedelta(minutes=1)


class CartsTable:
    name = "carts"
    alias = "sc"
    time_column = "sc.first_activity"

    def relation(self, ctx: CompileContext, where: str) -> str:
        p = ctx.params
        site = site_clause(ctx)
        now = p.add(as_of(ctx), "DateTime64(3, 'UTC')")
        start = p.add(ctx.query.date_range.start, "DateTime64(3, 'UTC')")
        idle = p.add(max(1, round(ctx.query.site.cart_abandon_hours * 60)), "UInt32")
        window = p.add(int(RECOVERY_WINDOW.total_seconds() // 60), "UInt32")
        started = range_clause(ctx, "first_activity")
        same_person = (
            "o.person_id != '' AND o.person_id = c.person_id AND o.ordered_at >= c.first_activity "
            f"AND o.ordered_at < c.last_activity + toIntervalMinute({idle} + {window})"
        )
        inner = f"""
            WITH
                ids AS (SELECT id_type, id_value, person_id FROM identity_map FINAL
                           WHERE {site} AND is_deleted = 0),
                visitors AS (SELECT id_value, person_id FROM ids WHERE id_type = 'visitor'),
                order_people AS (
                    SELECT o.order_id AS order_id, o.ordered_at AS ordered_at,
                           multiIf(mv.person_id != '', mv.person_id, mc.person_id != '', mc.person_id,
                                   me.person_id != '', me.person_id,
                                   o.visitor_id != '', concat('visitor:', o.visitor_id), '') AS person_id
                    FROM (SELECT order_id, ordered_at, visitor_id, customer_id_type, customer_id, email_sha256
                          FROM orders FINAL
                          WHERE {site} AND status = 'paid' AND is_test = 0 AND cancelled = 0
                            AND ordered_at >= {start} AND ordered_at <= {now}) AS o
                    LEFT JOIN visitors AS mv ON mv.id_value = o.visitor_id
                    LEFT JOIN ids AS mc ON mc.id_type = o.customer_id_type AND mc.id_value = o.customer_id
                    LEFT JOIN (SELECT id_value, person_id FROM ids WHERE id_type = 'email_sha256') AS me
                        ON me.id_value = o.email_sha256),
                carts AS (
                    SELECT {CART_COLUMNS},
                           multiIf(m.person_id != '', m.person_id, c.visitor_id != '',
                                   concat('visitor:', c.visitor_id), '') AS person_id
                    FROM (SELECT * FROM shopping_carts WHERE {site} AND {started}) AS c
                    LEFT JOIN visitors AS m ON m.id_value = c.visitor_id),
                matched AS (
                    SELECT {CART_ANY}, any(c.person_id) AS person_id,
                           countIf(c.order_id != '' AND o.order_id = c.order_id) AS by_order,
                           minIf(o.ordered_at, c.order_id != '' AND o.order_id = c.order_id) AS by_order_at,
                           countIf({same_person}) AS by_person,
                           minIf(o.ordered_at, {same_person}) AS by_person_at
                    FROM carts AS c
                    LEFT JOIN order_people AS o ON o.person_id = c.person_id OR o.order_id = c.order_id
                    GROUP BY c.cart_id),
                judged AS (
                    SELECT *, last_activity + toIntervalMinute({idle}) AS abandon_at,
                           least(if(isNull(completed_at) OR assumeNotNull(completed_at) > {now}, {NEVER},
                                    assumeNotNull(completed_at)),
                                 if(by_order > 0, by_order_at, {NEVER})) AS linked_at,
                           if(linked_at < {NEVER}, linked_at, if(by_person > 0, by_person_at, {NEVER}))
                               AS completion,
                           multiIf(linked_at < {NEVER}, 'cart', by_person > 0, 'person', '') AS completed_by
                    FROM matched)
            SELECT *, multiIf(completion < {NEVER} AND completion < abandon_at, 'converted',
                              completion < {NEVER}, 'recovered',
                              abandon_at <= {now}, 'abandoned', 'open') AS status
            FROM judged"""
        return f"FROM ({inner}) AS sc WHERE {where}"


class WishlistsTable:
    name = "wishlists"
    alias = "wl"
    time_column = "wl.at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"SELECT * FROM wishlist_events FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'at')}"
        return f"FROM ({inner}) AS wl WHERE {where}"


class ReviewsTable:
    name = "reviews"
    alias = "rv"
    time_column = "rv.at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        inner = f"SELECT * FROM product_reviews FINAL WHERE {site_clause(ctx)} AND {range_clause(ctx, 'at')}"
        return f"FROM ({inner}) AS rv WHERE {where}"


for _table in (CartsTable(), WishlistsTable(), ReviewsTable()):
    REGISTRY.table(_table)

for _name, _columns, _description in (
    ("cart:status", {"carts": "sc.status"}, "converted, recovered, abandoned or open (as of now)."),
    ("cart:id", {"carts": "sc.cart_id"}, "The cart (cart_id)."),
    (
        "cart:completed_by",
        {"carts": "if(sc.completed_by = '', 'none', sc.completed_by)"},
        "How its order was found: cart (the order names the cart), person (the same person's order), none.",
    ),
    (
        "cart:checkout",
        {"carts": "if(isNull(sc.checkout_started_at), 'false', 'true')"},
        "Whether the cart reached Checkout Started.",
    ),
    ("wishlist:id", {"wishlists": "wl.wishlist_id"}, "The wishlist (wishlist_id)."),
    ("wishlist:name", {"wishlists": "wl.wishlist_name"}, "The wishlist's name."),
    ("review:rating", {"reviews": "if(rv.rated = 1, toString(rv.rating), 'none')"}, "The review's rating."),
):
    REGISTRY.dimension(Dimension(_name, KIND, _columns, description=_description))


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _ratio(value: Any, _ctx: MetricRender) -> Any:
    return None if value is None else round(float(value), 4)


def _metric(name: str, table: str, expression: str, description: str, *, render: Any = _int) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg(table, expression)

    money = render is render_money
    REGISTRY.metric(
        Metric(
            name,
            KIND,
            sql,
            render,
            sort_key=money_sort if money else (lambda column: column),
            description=description,
            tables=(table,),
        )
    )


ABANDONED = "sc.status IN ('abandoned', 'recovered')"
_abandoned = f"countIf({ABANDONED})"
_decided = "countIf(sc.status != 'open')"
_recovered = "countIf(sc.status = 'recovered')"
for _args in (
    ("carts", "carts", "count()", "Carts whose first activity is in the period."),
    ("open_carts", "carts", "countIf(sc.status = 'open')", "Carts neither ordered nor abandoned yet."),
    ("abandoned_carts", "carts", _abandoned, "Carts abandoned (including those recovered since)."),
    ("recovered_carts", "carts", _recovered, "Abandoned carts that were ordered afterwards."),
    (
        "completed_carts",
        "carts",
        "countIf(sc.status IN ('converted', 'recovered'))",
        "Carts that became an order.",
    ),
):
    _metric(*_args)
_metric(
    "cart_abandonment_rate",
    "carts",
    f"if({_decided} = 0, NULL, {_abandoned} / {_decided})",
    "Abandoned carts over the carts no longer open (0 to 1).",
    render=_ratio,
)
_metric(
    "cart_recovery_rate",
    "carts",
    f"if({_abandoned} = 0, NULL, {_recovered} / {_abandoned})",
    "Recovered carts over abandoned carts (0 to 1).",
    render=_ratio,
)
for _name, _condition, _description in (
    ("cart_value", "1", "Value of the carts (their products at their latest price)."),
    ("abandoned_cart_value", ABANDONED, "Value of the abandoned carts (including recovered ones)."),
    ("recovered_cart_value", "sc.status = 'recovered'", "Value of the recovered carts."),
):
    _value = f"sumMapIf(map(sc.currency, sc.value), {_condition})"
    _metric(_name, "carts", _value, _description, render=render_money)

_metric("wishlist_adds", "wishlists", "countIf(wl.action = 'added')", "Products added to a wishlist.")
_metric("wishlist_removals", "wishlists", "countIf(wl.action = 'removed')", "Products removed from one.")
_metric(
    "wishlist_moves_to_cart",
    "wishlists",
    "countIf(wl.action = 'moved_to_cart')",
    "Wishlist products added to the cart.",
)
_metric("reviews", "reviews", "count()", "Product reviews written in the period.")
_metric(
    "average_rating",
    "reviews",
    "if(countIf(rv.rated = 1) = 0, NULL, avgIf(rv.rating, rv.rated = 1))",
    "Mean rating of the reviews that carry one.",
    render=_ratio,
)
