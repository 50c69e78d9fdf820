"""The revenue report: per currency, orders, gross revenue, refunds, net revenue, and how much
of it is linked to a visitor, as a finance person reconciles it against Stripe and Shopify.

* Orders: `orders FINAL`, status `paid`, not test mode, `ordered_at` in the period. A payment
  intent row that another order row (its invoice or checkout session) also names in
  `payment_id` is the same payment and is not counted again (docs/revenue.md, Stripe keys).
* Gross: the sum of those orders' `amount` (what the customer was charged, tax and shipping
  included), never converted between currencies.
* Refunds: `refunds FINAL` with `refunded_at` in the period; per payment, the greater of the sum
  of its individual refunds and its latest cumulative total, so a refund reported both ways counts
  once. Net = gross - refunds.
* Linked: the order carries a visitor id, or its customer id or email hash reaches a `visitor`
  identifier within two hops of `identity_links FINAL`. The rest is reported as unattributed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from touchline.reports import QueryRunner, period, period_params, render_table
from touchline.revenue.money import exponent


@dataclass(frozen=True)
class CurrencyRevenue:
    currency: str
    orders: int
    gross: Decimal
    refunds: Decimal
    net: Decimal
    linked_orders: int
    linked_revenue: Decimal

    @property
    def unattributed_orders(self) -> int:
        return self.orders - self.linked_orders

    @property
    def linked_share(self) -> float:
        return self.linked_orders / self.orders if self.orders else 0.0


@dataclass(frozen=True)
class RevenueReport:
    site_id: str
    start: datetime | None
    end: datetime | None
    currencies: list[CurrencyRevenue] = field(default_factory=list)

    def to_json(self) -> str:
        """Amounts as strings (exact decimals, the currency's places); shares as fractions."""
        return json.dumps(
            {
                "site_id": self.site_id,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None,
                "currencies": [
                    {
                        **{k: _plain(v, c.currency) for k, v in asdict(c).items()},
                        "unattributed_orders": c.unattributed_orders,
                        "linked_share": round(c.linked_share, 4),
                    }
                    for c in self.currencies
                ],
            }
        )

    def to_table(self) -> str:
        if not self.currencies:
            return f"no paid orders or refunds for site {self.site_id} in this period"
        headers = ["currency", "orders", "gross", "refunds", "net", "linked", "linked %", "linked revenue"]
        rows = [
            [
                c.currency,
                str(c.orders),
                money(c.gross, c.currency),
                money(c.refunds, c.currency),
                money(c.net, c.currency),
                str(c.linked_orders),
                f"{c.linked_share * 100:.1f}",
                money(c.linked_revenue, c.currency),
            ]
            for c in self.currencies
        ]
        return render_table(headers, rows)


def money(value: Decimal, currency: str) -> str:
    """An amount with its currency's decimal places: `1234.5` USD → `1234.50`, `1500` KWD → `1500.000`."""
    return f"{value:.{exponent(currency)}f}"


def _plain(value: Any, currency: str) -> Any:
    return money(value, currency) if isinstance(value, Decimal) else value


def orders_sql(start: datetime | None, end: datetime | None) -> str:
    site = "{site:String}"
    return f"""
WITH
    edges AS (
        SELECT from_type AS a_type, from_id AS a_id, to_type AS b_type, to_id AS b_id
        FROM identity_links FINAL WHERE site_id = {site}
        UNION ALL
        SELECT to_type, to_id, from_type, from_id
        FROM identity_links FINAL WHERE site_id = {site}
    ),
    next_to_visitor AS (SELECT a_type, a_id FROM edges WHERE b_type = 'visitor'),
    reaches_visitor AS (
        SELECT a_type, a_id FROM next_to_visitor
        UNION DISTINCT
        SELECT e.a_type, e.a_id FROM edges AS e
        INNER JOIN next_to_visitor AS n ON e.b_type = n.a_type AND e.b_id = n.a_id
    ),
    named_payments AS (
        SELECT source, payment_id FROM orders FINAL
        WHERE site_id = {site} AND status = 'paid' AND payment_id != '' AND order_id != payment_id
    ),
    counted AS (
        SELECT
            currency,
            amount,
            visitor_id != ''
                OR (customer_id != ''
                    AND (customer_id_type, customer_id) IN (SELECT a_type, a_id FROM reaches_visitor))
                OR (email_sha256 != ''
                    AND ('email_sha256', email_sha256) IN (SELECT a_type, a_id FROM reaches_visitor))
                AS linked
        FROM orders FINAL
        WHERE site_id = {site} AND status = 'paid' AND is_test = 0{period("ordered_at", start, end)}
          AND NOT (order_id = payment_id
                   AND (source, payment_id) IN (SELECT source, payment_id FROM named_payments))
    )
SELECT currency, count() AS orders, toString(sum(amount)) AS gross,
       countIf(linked) AS linked_orders, toString(sumIf(amount, linked)) AS linked_revenue
FROM counted
GROUP BY currency
ORDER BY currency
"""


def refunds_sql(start: datetime | None, end: datetime | None) -> str:
    return f"""
SELECT currency, toString(sum(refunded)) AS refunds
FROM (
    SELECT currency, source, payment_id,
           greatest(sumIf(amount, kind = 'refund'), maxIf(amount, kind = 'cumulative')) AS refunded
    FROM refunds FINAL
    WHERE site_id = {{site:String}} AND is_test = 0{period("refunded_at", start, end)}
    GROUP BY currency, source, payment_id
)
GROUP BY currency
ORDER BY currency
"""


def revenue_report(
    run: QueryRunner, site_id: str, start: datetime | None = None, end: datetime | None = None
) -> RevenueReport:
    """Orders, gross, refunds, net and linked share per currency, for `[start, end)`."""
    params = period_params(site_id, start, end)
    _, order_rows = run(orders_sql(start, end), params)
    _, refund_rows = run(refunds_sql(start, end), params)
    orders = {str(r[0]): r for r in order_rows}
    refunds = {str(r[0]): Decimal(str(r[1])) for r in refund_rows}
    currencies = []
    for currency in sorted(set(orders) | set(refunds)):
        row = orders.get(currency)
        gross = Decimal(str(row[2])) if row else Decimal(0)
        refunded = refunds.get(currency, Decimal(0))
        currencies.append(
            CurrencyRevenue(
                currency=currency,
                orders=int(row[1]) if row else 0,
                gross=gross,
                refunds=refunded,
                net=gross - refunded,
                linked_orders=int(row[3]) if row else 0,
                linked_revenue=Decimal(str(row[4])) if row else Decimal(0),
            )
        )
    return RevenueReport(site_id, start, end, currencies)
