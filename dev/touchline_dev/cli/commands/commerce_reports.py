"""`touchline report customers|products|baskets`: the commerce views of the query API as tables.

Each report is one or two Stats API v2 queries through the same engine as `POST /api/v2/query`
(docs/commerce.md, "Query API"), so the CLI and the API give the same numbers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from touchline_dev.cli.engine import run_query


def register(reports: Any, common: argparse.ArgumentParser) -> None:
    customers = reports.add_parser("customers", parents=[common], help="RFM segments and the customer list")
    _common(customers)
    customers.add_argument("--segment", default=None, help="only this RFM segment (e.g. 'At Risk')")
    customers.add_argument(
        "--by",
        choices=["value", "churn", "clv"],
        default="value",
        help="order the list by net revenue, churn risk or CLV",
    )
    customers.set_defaults(run=run_customers)
    products = reports.add_parser("products", parents=[common], help="top products of the last 30 days")
    _common(products)
    products.set_defaults(run=run_products)
    baskets = reports.add_parser(
        "baskets", parents=[common], help="products bought together (market baskets)"
    )
    _common(baskets)
    baskets.add_argument("--product", default=None, help="only pairs starting with this product id")
    baskets.set_defaults(run=run_baskets)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, help="site id (touchline sites list)")
    parser.add_argument("--currency", default=None, help="ISO 4217 code (default: the site's most used)")
    parser.add_argument("--limit", type=int, default=20, help="rows in the list (default 20)")
    parser.add_argument("--format", choices=["table", "json"], default="table")


def _query(args: argparse.Namespace, **body: Any) -> list[dict[str, Any]]:
    result = run_query(args, {"site_id": args.site, "date_range": "all", **body})
    rows: list[dict[str, Any]] = result["results"]
    return rows


def _currency(args: argparse.Namespace, metric: str, dimension: str) -> str | None:
    if args.currency:
        return str(args.currency).upper()
    rows = _query(args, metrics=[metric], dimensions=[dimension], order_by=[[metric, "desc"]])
    return str(rows[0]["dimensions"][0]) if rows else None


def _money(cell: Any) -> str:
    return str(cell["long"]) if isinstance(cell, dict) else "-"


def _number(cell: Any, places: int = 3) -> str:
    return "-" if cell is None else f"{cell:.{places}f}" if isinstance(cell, float) else str(cell)


def _print(
    args: argparse.Namespace, sections: dict[str, tuple[list[str], list[list[str]]]], raw: Any
) -> None:
    if args.format == "json":
        print(json.dumps(raw, indent=1, default=str))
        return
    from touchline.reports import render_table

    for title, (headers, rows) in sections.items():
        print(f"{title}\n{render_table(headers, rows) if rows else '(none)'}\n")


def run_customers(args: argparse.Namespace) -> int:
    currency = _currency(args, "customers", "customer:currency")
    filters: list[Any] = [["is", "customer:currency", [currency or ""]]]
    segments = _query(
        args,
        metrics=["customers", "customer_net_revenue", "predicted_clv_12m", "churn_risk"],
        dimensions=["customer:segment"],
        filters=filters,
        order_by=[["customers", "desc"]],
    )
    if args.segment:
        filters.append(["is", "customer:segment", [args.segment]])
    order = {"value": "customer_net_revenue", "churn": "churn_risk", "clv": "predicted_clv_12m"}[args.by]
    listed = _query(
        args,
        metrics=[
            "customer_orders",
            "customer_net_revenue",
            "churn_risk",
            "predicted_clv_12m",
            "days_since_last_order",
        ],
        dimensions=["customer:id", "customer:segment", "customer:rfm_score"],
        filters=filters,
        order_by=[[order, "desc"]],
        pagination={"limit": args.limit},
    )
    _print(
        args,
        {
            f"segments ({currency})": (
                ["segment", "customers", "net revenue", "predicted CLV 12m", "churn risk"],
                [
                    [
                        r["dimensions"][0],
                        str(r["metrics"][0]),
                        _money(r["metrics"][1]),
                        _money(r["metrics"][2]),
                        _number(r["metrics"][3]),
                    ]
                    for r in segments
                ],
            ),
            f"customers by {args.by}": (
                [
                    "customer",
                    "segment",
                    "rfm",
                    "orders",
                    "net revenue",
                    "churn risk",
                    "CLV 12m",
                    "days since",
                ],
                [
                    [
                        *r["dimensions"],
                        str(r["metrics"][0]),
                        _money(r["metrics"][1]),
                        _number(r["metrics"][2]),
                        _money(r["metrics"][3]),
                        _number(r["metrics"][4], 0),
                    ]
                    for r in listed
                ],
            ),
        },
        {"currency": currency, "segments": segments, "customers": listed},
    )
    return 0


def run_products(args: argparse.Namespace) -> int:
    currency = _currency(args, "products", "product:currency")
    rows = _query(
        args,
        metrics=[
            "product_revenue_30d",
            "product_quantity_30d",
            "product_customers_30d",
            "product_conversion_rate",
            "product_repurchase_rate",
        ],
        dimensions=["product:id", "product:name"],
        filters=[["is", "product:currency", [currency or ""]]],
        order_by=[["product_revenue_30d", "desc"]],
        pagination={"limit": args.limit},
    )
    _print(
        args,
        {
            f"top products, last 30 days ({currency})": (
                ["product", "name", "revenue", "units", "customers", "conversion", "repurchase"],
                [
                    [
                        *r["dimensions"],
                        _money(r["metrics"][0]),
                        str(r["metrics"][1]),
                        str(r["metrics"][2]),
                        _number(r["metrics"][3]),
                        _number(r["metrics"][4]),
                    ]
                    for r in rows
                ],
            )
        },
        {"currency": currency, "products": rows},
    )
    return 0


def run_baskets(args: argparse.Namespace) -> int:
    filters = [["is", "basket:product_a", [args.product]]] if args.product else []
    rows = _query(
        args,
        metrics=["co_purchases", "basket_support", "basket_confidence", "basket_lift"],
        dimensions=["basket:product_a_name", "basket:product_b_name", "basket:relationship_type"],
        filters=filters,
        order_by=[["basket_lift", "desc"]],
        pagination={"limit": args.limit},
    )
    _print(
        args,
        {
            "bought together": (
                ["product", "bought with", "type", "baskets", "support", "confidence", "lift"],
                [
                    [*r["dimensions"], str(r["metrics"][0]), *(_number(v) for v in r["metrics"][1:])]
                    for r in rows
                ],
            )
        },
        {"pairs": rows},
    )
    return 0
