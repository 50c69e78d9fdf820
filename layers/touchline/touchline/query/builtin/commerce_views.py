"""The commerce views of the query API: customers, products, product sales and baskets.

`customers`, `products` and `baskets` read the tables the commerce jobs write (docs/commerce.md):
snapshots as of the last run, so the query's date range does not filter them (use `date_range:
"all"`). `product_sales` is the line items of counted orders, dated by the order, for trends.
Group by `customer:id` / `product:id` / `basket:pair` for lists (ordered and paginated as any
query); by `customer:segment`, `customer:recency_score` x `customer:fm_score` for the RFM grid.
"""

from __future__ import annotations

from typing import Any

from touchline.query.builtin.money import money_sort, render_money
from touchline.query.builtin.tables import site_clause
from touchline.query.compile import CompileContext, MetricContext
from touchline.query.registry import REGISTRY, Dimension, Metric, MetricRender


class _Snapshot:
    """A commerce table read with FINAL for the site, whatever the date range."""

    def __init__(self, name: str, table: str, alias: str, time_column: str) -> None:
        self.name, self.table, self.alias, self.time_column = name, table, alias, time_column

    def relation(self, ctx: CompileContext, where: str) -> str:
        return (
            f"FROM (SELECT * FROM {self.table} FINAL WHERE {site_clause(ctx)}) AS {self.alias} WHERE {where}"
        )


class ProductSalesTable:
    """Line items of paid, non-test orders in the date range, dated by the order."""

    name = "product_sales"
    alias = "ps"
    time_column = "ps.ordered_at"

    def relation(self, ctx: CompileContext, where: str) -> str:
        p = ctx.params
        start = p.add(ctx.query.date_range.start, "DateTime64(3, 'UTC')")
        end = p.add(ctx.query.date_range.end, "DateTime64(3, 'UTC')")
        inner = f"""
            SELECT li.*, o.ordered_at AS ordered_at,
                   if(li.product_id != '', li.product_id, if(li.sku != '', concat('sku:', li.sku),
                      concat('name:', li.product_name))) AS product_key
            FROM (SELECT * FROM order_line_items FINAL WHERE {site_clause(ctx)}) AS li
            INNER JOIN (SELECT source, order_id, ordered_at FROM orders FINAL
                        WHERE {site_clause(ctx)} AND status = 'paid' AND cancelled = 0 AND is_test = 0
                          AND ordered_at >= {start} AND ordered_at < {end}) AS o
                ON o.source = li.source AND o.order_id = li.order_id"""
        return f"FROM ({inner}) AS ps WHERE {where}"


for _table in (
    _Snapshot("customers", "customer_profiles", "cp", "toDateTime64(cp.last_order_date, 3, 'UTC')"),
    _Snapshot("products", "products_master", "pm", "toDateTime64(pm.last_sold_date, 3, 'UTC')"),
    _Snapshot("baskets", "product_relationships", "pr", "toDateTime64(pr.last_co_purchase, 3, 'UTC')"),
    ProductSalesTable(),
):
    REGISTRY.table(_table)


def _dimension(name: str, columns: dict[str, str], description: str) -> None:
    REGISTRY.dimension(Dimension(name, "commerce", columns, description=description))


CHURN_BAND = (
    "multiIf(isNull(cp.churn_risk_score), 'unknown', cp.churn_risk_score < 0.3, 'low', "
    "cp.churn_risk_score < 0.7, 'medium', 'high')"
)
for _name, _column, _description in (
    ("customer:id", "cp.person_id", "The customer (identity resolution's person)."),
    ("customer:segment", "cp.rfm_segment", "RFM segment (Champions, Loyal, … Lost)."),
    ("customer:rfm_score", "cp.rfm_score", "The three RFM digits, e.g. 545."),
    ("customer:recency_score", "toString(cp.recency_score)", "R, 1-5."),
    ("customer:frequency_score", "toString(cp.frequency_score)", "F, 1-5."),
    ("customer:monetary_score", "toString(cp.monetary_score)", "M, 1-5."),
    ("customer:fm_score", "toString(intDiv(cp.frequency_score + cp.monetary_score + 1, 2))", "FM, 1-5."),
    ("customer:currency", "cp.currency", "The profile's currency."),
    ("customer:favorite_category", "cp.favorite_category", "Category with the most revenue."),
    ("customer:favorite_brand", "cp.favorite_brand", "Brand with the most revenue."),
    ("customer:churn_band", CHURN_BAND, "Churn risk: low (<0.3), medium (<0.7), high, unknown (no fit)."),
):
    _dimension(_name, {"customers": _column}, _description)

for _name, _columns, _description in (
    (
        "product:id",
        {
            "products": "pm.product_id",
            "product_sales": "ps.product_key",
            "wishlists": "wl.product_id",
            "reviews": "rv.product_id",
        },
        "The product.",
    ),
    (
        "product:name",
        {"products": "pm.product_name", "product_sales": "ps.product_name", "wishlists": "wl.name"},
        "Product name.",
    ),
    ("product:category", {"products": "pm.category"}, "Product category."),
    ("product:brand", {"products": "pm.brand", "product_sales": "ps.brand"}, "Product brand."),
    ("product:currency", {"products": "pm.currency", "product_sales": "ps.currency"}, "Sales currency."),
    ("basket:product_a", {"baskets": "pr.product_a"}, "The product bought (A of A → B)."),
    ("basket:product_b", {"baskets": "pr.product_b"}, "The product bought with it (B)."),
    ("basket:product_a_name", {"baskets": "pr.product_a_name"}, "A's name."),
    ("basket:product_b_name", {"baskets": "pr.product_b_name"}, "B's name."),
    ("basket:relationship_type", {"baskets": "pr.relationship_type"}, "frequently_bought, complement, …"),
):
    _dimension(_name, _columns, _description)


def _number(value: Any, _ctx: MetricRender) -> Any:
    return round(float(value), 6) if value is not None else None


def _int(value: Any, _ctx: MetricRender) -> Any:
    return int(value or 0)


def _metric(
    name: str, table: str, expression: str, description: str, *, money: bool = False, integer: bool = False
) -> None:
    def sql(m: MetricContext) -> str:
        return m.agg(table, expression)

    REGISTRY.metric(
        Metric(
            name,
            "commerce",
            sql,
            render_money if money else _int if integer else _number,
            sort_key=money_sort if money else (lambda column: column),
            description=description,
            tables=(table,),
        )
    )


def _money(column: str, alias: str) -> str:
    return f"sumMap(map({alias}.currency, toDecimal128({column}, 4)))"


for _args in (
    ("customers", "customers", "count()", "Customers (profiles).", False, True),
    ("customer_orders", "customers", "sum(cp.total_orders)", "Their orders.", False, True),
    ("customer_net_revenue", "customers", _money("cp.net_revenue", "cp"), "Their net revenue.", True, False),
    ("customer_refunds", "customers", _money("cp.total_refunds", "cp"), "Their refunds.", True, False),
    (
        "predicted_clv_12m",
        "customers",
        _money("ifNull(cp.predicted_clv_12m, 0)", "cp"),
        "Predicted 12-month value (BG/NBD x Gamma-Gamma).",
        True,
        False,
    ),
    (
        "predicted_purchases_90d",
        "customers",
        "sum(ifNull(cp.predicted_purchases_90d, 0))",
        "Predicted purchases in the next 90 days.",
        False,
        False,
    ),
    (
        "churn_risk",
        "customers",
        "avg(cp.churn_risk_score)",
        "Mean churn risk (1 - P(alive)), 0-1.",
        False,
        False,
    ),
    (
        "days_since_last_order",
        "customers",
        "avg(cp.days_since_last_order)",
        "Mean days since the last order.",
        False,
        False,
    ),
    (
        "avg_order_value",
        "customers",
        "mapFromArrays(mapKeys(sumMap(map(cp.currency, toDecimal128(cp.total_revenue, 4)))), "
        "arrayMap((v, n) -> v / n, mapValues(sumMap(map(cp.currency, toDecimal128(cp.total_revenue, 4)))), "
        "mapValues(sumMap(map(cp.currency, toUInt64(cp.total_orders))))))",
        "Revenue per order.",
        True,
        False,
    ),
    ("products", "products", "count()", "Products that sold.", False, True),
    (
        "product_revenue_30d",
        "products",
        _money("pm.revenue_30d", "pm"),
        "Revenue, last 30 days.",
        True,
        False,
    ),
    (
        "product_revenue_90d",
        "products",
        _money("pm.revenue_90d", "pm"),
        "Revenue, last 90 days.",
        True,
        False,
    ),
    (
        "product_revenue_total",
        "products",
        _money("pm.revenue_total", "pm"),
        "Revenue, all time.",
        True,
        False,
    ),
    ("product_quantity_30d", "products", "sum(pm.quantity_sold_30d)", "Units, last 30 days.", False, True),
    ("product_quantity_90d", "products", "sum(pm.quantity_sold_90d)", "Units, last 90 days.", False, True),
    (
        "product_customers_30d",
        "products",
        "sum(pm.unique_customers_30d)",
        "Customers, last 30 days.",
        False,
        True,
    ),
    (
        "product_conversion_rate",
        "products",
        "avg(pm.conversion_rate)",
        "Orders per view session (30 d).",
        False,
        False,
    ),
    (
        "product_repurchase_rate",
        "products",
        "avg(pm.repurchase_rate)",
        "Share of buyers who bought twice.",
        False,
        False,
    ),
    ("product_velocity", "products", "sum(pm.velocity_score)", "Units per day, last 30 days.", False, False),
    ("product_revenue_rank", "products", "min(pm.revenue_rank)", "Rank by 30-day revenue.", False, True),
    (
        "product_reviews",
        "products",
        "sum(pm.review_count)",
        "Reviews (Product Reviewed), all time.",
        False,
        True,
    ),
    (
        "product_average_rating",
        "products",
        "if(sum(pm.rating_count) = 0, NULL, sum(ifNull(pm.average_rating, 0) * pm.rating_count) "
        "/ sum(pm.rating_count))",
        "Mean rating of its rated reviews.",
        False,
        False,
    ),
    (
        "sales_revenue",
        "product_sales",
        _money("ps.line_total", "ps"),
        "Line revenue in the period.",
        True,
        False,
    ),
    ("sales_units", "product_sales", "sum(ps.quantity)", "Units sold in the period.", False, True),
    (
        "sales_orders",
        "product_sales",
        "uniqExact(ps.source, ps.order_id)",
        "Orders with the product.",
        False,
        True,
    ),
    ("co_purchases", "baskets", "sum(pr.co_purchase_count)", "Baskets with both products.", False, True),
    ("basket_support", "baskets", "max(pr.support)", "P(A and B).", False, False),
    ("basket_confidence", "baskets", "max(pr.confidence)", "P(B | A).", False, False),
    ("basket_lift", "baskets", "max(pr.lift)", "Confidence / P(B).", False, False),
):
    _metric(*_args[:4], money=_args[4], integer=_args[5])
