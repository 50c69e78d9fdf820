"""Money metrics: amounts per currency, never added across currencies.

Every money aggregate is a `Map(currency, amount)` (`sumMap(map(currency, amount))`), so a sum
never mixes currencies. A result cell with one currency renders as Plausible's revenue object
(`value`, `currency`, `short`, `long`, plus the exact decimal `amount`); a cell with several is
`null` with a `no_single_revenue_currency` warning in `meta.metric_warnings`: group by
`revenue:currency` (or filter on it) to get one currency per row.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from touchline.query.registry import REGISTRY, Dimension, MetricRender
from touchline.revenue.money import ISO_EXPONENTS

SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "BRL": "R$",
    "CAD": "CA$",
    "AUD": "A$",
}
MULTIPLE = (
    "Revenue metrics are null as there are multiple currencies in this row; "
    "group or filter by `revenue:currency`."
)


def places(currency: str) -> int:
    return ISO_EXPONENTS.get(currency, 2)


def long_form(amount: Decimal, currency: str) -> str:
    text = f"{amount:,.{places(currency)}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def short_form(amount: Decimal, currency: str) -> str:
    magnitude = abs(amount)
    for limit, suffix in ((Decimal(10**9), "B"), (Decimal(10**6), "M"), (Decimal(10**3), "k")):
        if magnitude >= limit:
            number = f"{(amount / limit).quantize(Decimal('0.1')).normalize():f}{suffix}"
            break
    else:
        number = f"{amount.quantize(Decimal(1) if magnitude >= 100 else Decimal('0.01')):f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def revenue_object(amount: Decimal, currency: str) -> dict[str, Any]:
    exact = amount.quantize(Decimal(1).scaleb(-places(currency)), rounding=ROUND_HALF_EVEN)
    return {
        "value": float(exact),
        "currency": currency,
        "short": short_form(exact, currency),
        "long": long_form(exact, currency),
        "amount": f"{exact:f}",
    }


def render_money(value: Any, ctx: MetricRender) -> Any:
    amounts = {str(k): Decimal(str(v)) for k, v in (value or {}).items() if k != ""}
    if not amounts:
        return None
    if len(amounts) > 1:
        ctx.warn("no_single_revenue_currency", MULTIPLE)
        return None
    (currency, amount), *_ = amounts.items()
    return revenue_object(amount, currency)


def money_sort(column: str) -> str:
    return f"arraySum(mapValues({column}))"


REGISTRY.dimension(
    Dimension(
        "revenue:currency",
        "commerce",
        {
            "orders": "o.currency",
            "refunds": "r.currency",
            "credits": "c.currency",
            "events": "e.currency",
            "carts": "sc.currency",
        },
        description="ISO 4217 currency of the money (one row per currency).",
    )
)
