"""The revenue report: per currency, orders, gross revenue, refunds, net revenue, and how much
of it is linked to a visitor, as a finance person reconciles it against Stripe and Shopify.

One query (`touchline.query`, grouped by `revenue:currency`); the definitions are the engine's
orders and refunds tables (touchline/query/builtin/tables.py, docs/revenue.md):

* Orders: `orders FINAL`, status `paid`, not test mode, `ordered_at` in the period. A payment
  intent row that another order row (its invoice or checkout session) also names in
  `payment_id` is the same payment and is not counted again (docs/revenue.md, Stripe keys).
* Gross: the sum of those orders' `amount`, never converted between currencies.
* Refunds: `refunds FINAL` with `refunded_at` in the period; per payment, the greater of the sum
  of its individual refunds and its latest cumulative total. Net = gross - refunds.
* Linked: the order carries a visitor id, or its customer id or email hash reaches a `visitor`
  identifier within two hops of `identity_links FINAL`. The rest is reported as unattributed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from touchline.reports import EngineRunner, date_range, render_table
from touchline.revenue.money import exponent

METRICS = ["orders", "gross_revenue", "refunds", "net_revenue", "linked_orders", "linked_revenue"]


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
    start: date | None
    end: date | None
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


def amount(value: dict[str, Any] | None) -> Decimal:
    """The exact amount of a revenue object (None: nothing in that currency)."""
    return Decimal(value["amount"]) if value else Decimal(0)


def _plain(value: Any, currency: str) -> Any:
    return money(value, currency) if isinstance(value, Decimal) else value


def revenue_report(
    run: EngineRunner, site_id: str, start: date | None = None, end: date | None = None
) -> RevenueReport:
    """Orders, gross, refunds, net and linked share per currency, for the local days `start..end`."""
    response = run(
        {
            "site_id": site_id,
            "metrics": METRICS,
            "date_range": date_range(start, end),
            "dimensions": ["revenue:currency"],
            "order_by": [["revenue:currency", "asc"]],
        }
    )
    currencies = []
    for row in response["results"]:
        [currency] = row["dimensions"]
        if not currency:
            continue
        orders, gross, refunds, net, linked, linked_revenue = row["metrics"]
        currencies.append(
            CurrencyRevenue(
                currency=currency,
                orders=int(orders),
                gross=amount(gross),
                refunds=amount(refunds),
                net=amount(net),
                linked_orders=int(linked),
                linked_revenue=amount(linked_revenue),
            )
        )
    return RevenueReport(site_id, start, end, currencies)
