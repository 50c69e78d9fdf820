"""A pure-Python reference of docs/commerce.md: every column of the commerce tables, the plain way.

Written from the definitions, row by row, sharing nothing with touchline.commerce: no quintile
window functions (it counts the customers strictly worse), no Euler transformation (it sums the
paper's formula's 2F1 in 50-digit arithmetic with mpmath), Decimal arithmetic with ROUND_HALF_UP for money.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import mpmath

from touchline.revenue.money import ISO_EXPONENTS


def exponent(currency: str) -> int:
    return ISO_EXPONENTS.get(currency, 2)


def money(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-exponent(currency)), rounding=ROUND_HALF_UP)


def ratio(total: Decimal, count: int, currency: str) -> Decimal:
    return money(total / count, currency) if count else Decimal(0)


@dataclass(frozen=True)
class Order:
    order_id: str
    at: datetime
    currency: str
    amount: Decimal
    customer_id: str = ""
    email_sha256: str = ""
    visitor_id: str = ""
    discount: Decimal = Decimal(0)
    code: str = ""
    source: str = "api"
    status: str = "paid"


@dataclass(frozen=True)
class Refund:
    refund_id: str
    order_id: str
    amount: Decimal
    source: str = "api"


@dataclass(frozen=True)
class Line:
    order_id: str
    line_id: str
    product_id: str
    quantity: int
    unit_price: Decimal
    line_total: Decimal
    discount: Decimal = Decimal(0)
    name: str = ""
    sku: str = ""
    brand: str = ""
    categories: tuple[str, ...] = ()
    source: str = "api"


@dataclass(frozen=True)
class Product:
    product_id: str
    title: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: tuple[str, ...] = ()


@dataclass
class Shop:
    orders: list[Order] = field(default_factory=list)
    refunds: list[Refund] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)
    catalogue: dict[str, Product] = field(default_factory=dict)
    identity: dict[tuple[str, str], str] = field(default_factory=dict)  # (id_type, id) -> person


@dataclass(frozen=True)
class Counted:
    order: Order
    refunded: Decimal
    person: str

    @property
    def net(self) -> Decimal:
        return self.order.amount - self.refunded

    @property
    def day(self) -> date:
        return self.order.at.date()


def counted_orders(shop: Shop, as_of: date) -> list[Counted]:
    refunds: dict[str, Decimal] = defaultdict(Decimal)
    for refund in shop.refunds:
        refunds[refund.order_id] += refund.amount
    result = []
    for order in shop.orders:
        if order.status != "paid" or order.at.date() > as_of:
            continue
        result.append(Counted(order, min(order.amount, refunds[order.order_id]), person_of(shop, order)))
    return result


def person_of(shop: Shop, order: Order) -> str:
    for key in (
        ("user", order.customer_id),
        ("email_sha256", order.email_sha256),
        ("visitor", order.visitor_id),
    ):
        if key[1] and key in shop.identity:
            return shop.identity[key]
    if order.email_sha256:
        return f"email_sha256:{order.email_sha256}"
    if order.customer_id:
        return f"user:{order.customer_id}"
    if order.visitor_id:
        return f"visitor:{order.visitor_id}"
    return ""


def product_key(line: Line) -> str:
    if line.product_id:
        return line.product_id
    if line.sku:
        return f"sku:{line.sku}"
    return f"name:{line.name}" if line.name else ""


def line_brand(shop: Shop, line: Line) -> str:
    product = shop.catalogue.get(line.product_id) if line.product_id else None
    return product.vendor if product and product.vendor else line.brand


def line_category(shop: Shop, line: Line) -> str:
    product = shop.catalogue.get(line.product_id) if line.product_id else None
    if product and product.product_type:
        return product.product_type
    return line.categories[0] if line.categories else ""


# -- customers ----------------------------------------------------------------------------------

RFM_MAP = {
    (5, 4): "Champions", (5, 5): "Champions",
    (3, 4): "Loyal", (3, 5): "Loyal", (4, 4): "Loyal", (4, 5): "Loyal",
    (4, 2): "Potential Loyalist", (4, 3): "Potential Loyalist",
    (5, 2): "Potential Loyalist", (5, 3): "Potential Loyalist",
    (5, 1): "New", (4, 1): "Promising", (3, 3): "Need Attention",
    (3, 1): "About to Sleep", (3, 2): "About to Sleep",
    (1, 3): "At Risk", (1, 4): "At Risk", (2, 3): "At Risk", (2, 4): "At Risk",
    (1, 5): "Can't Lose", (2, 5): "Can't Lose",
    (1, 2): "Hibernating", (2, 1): "Hibernating", (2, 2): "Hibernating",
    (1, 1): "Lost",
}  # fmt: skip


def customers(shop: Shop, as_of: date) -> dict[tuple[str, str], dict[str, Any]]:
    """customer_profiles rows without the model columns, plus the model inputs x, t_x, T, m."""
    orders = [c for c in counted_orders(shop, as_of) if c.person]
    by_customer: dict[tuple[str, str], list[Counted]] = defaultdict(list)
    for c in orders:
        by_customer[(c.person, c.order.currency)].append(c)
    line_owner = {(c.order.source, c.order.order_id): (c.person, c.order.currency) for c in orders}
    lines_of: dict[tuple[str, str], list[Line]] = defaultdict(list)
    for line in shop.lines:
        owner = line_owner.get((line.source, line.order_id))
        if owner and product_key(line):
            lines_of[owner].append(line)
    rows = {}
    for key, mine in by_customer.items():
        currency = key[1]
        mine.sort(key=lambda c: (c.order.at, c.order.order_id))
        n = len(mine)
        revenue = sum((c.order.amount for c in mine), Decimal(0))
        refunds = sum((c.refunded for c in mine), Decimal(0))
        first, last = mine[0].day, mine[-1].day
        days: dict[date, Decimal] = defaultdict(Decimal)
        for c in mine:
            days[c.day] += c.net
        discounted = [c for c in mine if c.order.discount > 0]
        hours = Counter(c.order.at.hour for c in mine)
        top = max(hours.values())
        items = lines_of.get(key, [])
        category_revenue: dict[str, Decimal] = defaultdict(Decimal)
        brand_revenue: dict[str, Decimal] = defaultdict(Decimal)
        for line in items:
            if line_category(shop, line):
                category_revenue[line_category(shop, line)] += line.line_total
            if line_brand(shop, line):
                brand_revenue[line_brand(shop, line)] += line.line_total
        with_email = [c for c in mine if c.order.email_sha256]
        with_id = [c for c in mine if c.order.customer_id]
        repeat_days = sorted(days)[1:]
        rows[key] = {
            "email_sha256": with_email[-1].order.email_sha256 if with_email else "",
            "customer_id_type": "user" if with_id else "",
            "customer_id": with_id[-1].order.customer_id if with_id else "",
            "total_orders": n,
            "total_revenue": revenue,
            "total_refunds": refunds,
            "net_revenue": revenue - refunds,
            "avg_order_value": ratio(revenue, n, currency),
            "first_order_date": first,
            "last_order_date": last,
            "days_since_last_order": (as_of - last).days,
            "avg_days_between_orders": (last - first).days / (n - 1) if n > 1 else None,
            "purchase_days": len(days),
            "customer_age_days": (as_of - first).days,
            "favorite_category": _favorite(category_revenue),
            "favorite_brand": _favorite(brand_revenue),
            "categories_purchased": sorted(category_revenue),
            "brands_purchased": sorted(brand_revenue),
            "unique_products_purchased": len({product_key(line) for line in items}),
            "discount_usage_rate": sum(1 for c in mine if c.order.discount > 0 or c.order.code) / n,
            "avg_discount_amount": ratio(
                sum((c.order.discount for c in discounted), Decimal(0)), len(discounted), currency
            ),
            "weekend_buyer": int(sum(1 for c in mine if c.order.at.weekday() >= 5) * 2 > n),
            "preferred_order_hour": min(h for h, k in hours.items() if k == top),
            "x": len(days) - 1,
            "t_x": float((last - first).days),
            "big_t": float((as_of - first).days),
            "m": float(sum((days[d] for d in repeat_days), Decimal(0)) / len(repeat_days))
            if repeat_days
            else 0.0,
        }
    _score(rows)
    return rows


def _favorite(revenue: dict[str, Decimal]) -> str:
    if not revenue:
        return ""
    best = max(revenue.values())
    return min(name for name, value in revenue.items() if value == best)


def _score(rows: dict[tuple[str, str], dict[str, Any]]) -> None:
    by_currency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (_, currency), row in rows.items():
        by_currency[currency].append(row)
    for group in by_currency.values():
        n = len(group)
        for row in group:
            # A quintile at the tie's mid-rank: the share of customers below, plus half of the tie.
            scores = []
            for column, sign in (("days_since_last_order", -1), ("total_orders", 1), ("net_revenue", 1)):
                worse = sum(1 for o in group if sign * o[column] < sign * row[column])
                equal = sum(1 for o in group if o[column] == row[column])
                scores.append(1 + math.floor(5 * (Fraction(worse) + Fraction(equal, 2)) / n))
            r, f, m = scores
            row.update(recency_score=r, frequency_score=f, monetary_score=m, rfm_score=f"{r}{f}{m}")
            row["rfm_segment"] = RFM_MAP[(r, (f + m + 1) // 2)]


def predictions(row: dict[str, Any], model: dict[str, Any], currency: str) -> dict[str, Any]:
    """The model columns of one profile, from the site's stored fit (the paper's equations)."""
    none: dict[str, Any] = {
        "p_alive": None,
        "churn_risk_score": None,
        "predicted_purchases_90d": None,
        "expected_order_value": None,
        "predicted_clv_12m": None,
    }
    result = dict(none)
    if not model:
        return result
    r, alpha, a, b = model["r"], model["alpha"], model["a"], model["b"]
    x, t_x, big_t = row["x"], row["t_x"], row["big_t"]
    alive = 1.0
    if r > 0 and x > 0:
        alive = 1.0 / (1.0 + a / (b + x - 1) * ((alpha + big_t) / (alpha + t_x)) ** (r + x))

    def expected(t: float) -> float:
        # Not scipy's hyp2f1: it answers nan where a fit on a handful of customers sends r into the
        # millions (r = 1.8e7, alpha = 1.4e9: the series' terms pass float's range before they
        # fall), where the true value, and the SQL's, is ~1.13 purchases.
        with mpmath.workdps(50):
            z = mpmath.mpf(t) / (alpha + big_t + t)
            series = mpmath.hyp2f1(r + x, b + x, a + b + x - 1, z, maxterms=10**6)
            term = (1 - z) ** (r + x) * series
            return float((a + b + x - 1) / mpmath.mpf(a - 1) * (1 - term) * alive)

    if r > 0:
        result.update(p_alive=alive, churn_risk_score=1 - alive, predicted_purchases_90d=expected(90))
    if model["q"] > 0:
        p, q, gamma = model["p"], model["q"], model["gamma"]
        value = p * (gamma + x * row["m"]) / (p * x + q - 1)
        result["expected_order_value"] = money(Decimal(repr(value)), currency)
        if r > 0:
            result["predicted_clv_12m"] = money(Decimal(repr(expected(365) * value)), currency)
    return result


# -- products -----------------------------------------------------------------------------------


def products(shop: Shop, as_of: date) -> dict[tuple[str, str], dict[str, Any]]:
    """products_master rows (no product views: view_sessions_30d 0, conversion_rate None)."""
    orders = {(c.order.source, c.order.order_id): c for c in counted_orders(shop, as_of)}
    grouped: dict[tuple[str, str], list[tuple[Line, Counted]]] = defaultdict(list)
    for line in shop.lines:
        c = orders.get((line.source, line.order_id))
        if c and product_key(line):
            grouped[(product_key(line), c.order.currency)].append((line, c))
    rows = {}
    for (key, currency), sold in grouped.items():
        sold.sort(key=lambda lc: (lc[1].order.at, lc[1].order.order_id, lc[0].line_id))
        product = shop.catalogue.get(key)

        def window(n: int, sold: list[tuple[Line, Counted]] = sold) -> list[tuple[Line, Counted]]:
            return [(line, c) for line, c in sold if (as_of - c.day).days < n]

        units = sum(line.quantity for line, _ in sold)
        buyers: dict[str, set[str]] = defaultdict(set)
        for _, c in sold:
            if c.person:
                buyers[c.person].add(c.order.order_id)
        order_ids = {c.order.order_id for _, c in sold}
        revenue = sum((line.line_total for line, _ in sold), Decimal(0))
        first = sold[0][1].day
        discounted = [line for line, _ in sold if line.discount > 0]
        names = [line.name for line, _ in sold if line.name]
        skus = [line.sku for line, _ in sold if line.sku]
        brands = [line_brand(shop, line) for line, _ in sold if line_brand(shop, line)]
        categories = [line_category(shop, line) for line, _ in sold if line_category(shop, line)]
        row: dict[str, Any] = {
            "product_name": product.title if product and product.title else (names[-1] if names else ""),
            "sku": skus[-1] if skus else "",
            "brand": brands[-1] if brands else "",
            "category": categories[-1] if categories else "",
            "collections": sorted({cat for line, _ in sold for cat in line.categories}),
            "tags": list(product.tags) if product else [],
            "avg_price": ratio(
                sum((line.unit_price * line.quantity for line, _ in sold), Decimal(0)), units, currency
            )
            if units
            else money(sum((line.unit_price for line, _ in sold), Decimal(0)) / len(sold), currency),
            "min_price": min(line.unit_price for line, _ in sold),
            "max_price": max(line.unit_price for line, _ in sold),
            "revenue_total": revenue,
            "quantity_sold_total": units,
            "orders_total": len(order_ids),
            "unique_customers_total": len(buyers),
            "view_sessions_30d": 0,
            "conversion_rate": None,
            "repurchase_rate": sum(1 for o in buyers.values() if len(o) >= 2) / len(buyers)
            if buyers
            else 0.0,
            "avg_units_per_order": units / len(order_ids),
            "revenue_per_customer": ratio(revenue, len(buyers), currency),
            "first_sold_date": first,
            "last_sold_date": sold[-1][1].day,
            "days_on_market": (as_of - first).days,
            "velocity_score": sum(line.quantity for line, _ in window(30))
            / min(30, (as_of - first).days + 1),
            "discount_rate": len(discounted) / len(sold),
            "avg_discount_amount": ratio(
                sum((line.discount for line in discounted), Decimal(0)), len(discounted), currency
            ),
        }
        for n in (30, 60, 90):
            inside = window(n)
            row[f"revenue_{n}d"] = sum((line.line_total for line, _ in inside), Decimal(0))
            row[f"quantity_sold_{n}d"] = sum(line.quantity for line, _ in inside)
            row[f"unique_customers_{n}d"] = len({c.person for _, c in inside if c.person})
        rows[(key, currency)] = row
    for currency in {c for _, c in rows}:
        mine = [k for k in rows if k[1] == currency]
        for rank, k in enumerate(sorted(mine, key=lambda k: (-rows[k]["revenue_30d"], k[0])), start=1):
            rows[k]["revenue_rank"] = rank
        for rank, k in enumerate(sorted(mine, key=lambda k: (-rows[k]["quantity_sold_30d"], k[0])), start=1):
            rows[k]["quantity_rank"] = rank
    return rows


# -- baskets ------------------------------------------------------------------------------------


def baskets_of(shop: Shop, as_of: date) -> dict[tuple[str, str], tuple[date, set[str]]]:
    orders = {(c.order.source, c.order.order_id): c for c in counted_orders(shop, as_of)}
    result: dict[tuple[str, str], tuple[date, set[str]]] = {}
    for line in shop.lines:
        key = (line.source, line.order_id)
        if key in orders and product_key(line):
            result.setdefault(key, (orders[key].day, set()))[1].add(product_key(line))
    return result


def relationships(
    shop: Shop, as_of: date, min_co_purchases: int, lift_threshold: float
) -> dict[tuple[str, str], dict[str, Any]]:
    baskets = list(baskets_of(shop, as_of).values())
    n = len(baskets)
    with_item = Counter(item for _, items in baskets for item in items)
    rows = {}
    for a in with_item:
        for b in with_item:
            if a == b:
                continue
            days = [day for day, items in baskets if a in items and b in items]
            if len(days) < min_co_purchases:
                continue
            co = len(days)
            confidence = co / with_item[a]
            lift = confidence / (with_item[b] / n)
            if lift >= lift_threshold:
                kind = "frequently_bought"
            elif co * n > with_item[a] * with_item[b]:
                kind = "complement"
            elif co * n == with_item[a] * with_item[b]:
                kind = "independent"
            else:
                kind = "substitute"
            rows[(a, b)] = {
                "co_purchase_count": co,
                "orders_with_a": with_item[a],
                "orders_with_b": with_item[b],
                "baskets": n,
                "support": co / n,
                "confidence": confidence,
                "lift": lift,
                "first_co_purchase": min(days),
                "last_co_purchase": max(days),
                "relationship_type": kind,
            }
    return rows


# -- daily rollups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Credit:
    conversion_id: str
    at: datetime
    channel: str
    currency: str
    credit: float
    revenue: Decimal
    klaviyo: str = ""  # the message kind Klaviyo credits the order to: campaign | flow | ''


@dataclass(frozen=True)
class Stat:
    kind: str  # campaign | flow
    object_id: str
    message_id: str
    name: str
    day: date
    channel: str
    recipients: float
    delivered: float
    opens: float
    opens_unique: float
    clicks: float
    clicks_unique: float
    conversions: float
    conversion_uniques: float
    value: float
    tags: tuple[str, ...] = ()


def accounts(
    shop: Shop, credits: list[Credit], stats: list[Stat], as_of: date
) -> dict[tuple[date, str], dict[str, Any]]:
    orders = counted_orders(shop, as_of)
    first_day: dict[str, date] = {}
    for c in orders:
        if c.person and (c.person not in first_day or c.day < first_day[c.person]):
            first_day[c.person] = c.day
    currencies = Counter(o.currency for o in shop.orders if o.status == "paid")
    primary = min(currencies, key=lambda cur: (-currencies[cur], cur)) if currencies else "USD"
    base: dict[tuple[date, str], dict[str, Any]] = {}

    def row(day: date, currency: str) -> dict[str, Any]:
        return base.setdefault(
            (day, currency),
            {
                "orders": 0, "revenue": Decimal(0), "customers": set(), "new": set(), "repeat": set(),
                "new_revenue": Decimal(0), "repeat_revenue": Decimal(0), "email_revenue": Decimal(0),
                "sms_revenue": Decimal(0), "email_orders": 0.0, "sms_orders": 0.0,
                "flow": 0.0, "campaign": 0.0,
                "emails": 0.0, "sms": 0.0, "opens": 0.0, "clicks": 0.0,
            },
        )  # fmt: skip

    for c in orders:
        r = row(c.day, c.order.currency)
        r["orders"] += 1
        r["revenue"] += c.net
        if c.person:
            r["customers"].add(c.person)
            if first_day[c.person] == c.day:
                r["new"].add(c.person)
                r["new_revenue"] += c.net
            else:
                r["repeat"].add(c.person)
                r["repeat_revenue"] += c.net
    for credit in credits:
        r = row(credit.at.date(), credit.currency)
        if credit.channel == "Email":
            r["email_revenue"] += credit.revenue
            r["email_orders"] += credit.credit
        if credit.channel == "SMS":
            r["sms_revenue"] += credit.revenue
            r["sms_orders"] += credit.credit
    for stat in stats:
        r = row(stat.day, primary)
        r[stat.kind] += stat.value
        r["emails"] += stat.recipients if stat.channel == "email" else 0.0
        r["sms"] += stat.recipients if stat.channel == "sms" else 0.0
        r["opens"] += stat.opens
        r["clicks"] += stat.clicks
    result = {}
    for (day, currency), r in base.items():
        emails, sms = round(r["emails"]), round(r["sms"])
        out = {
            "total_revenue": r["revenue"],
            "email_revenue": r["email_revenue"],
            "sms_revenue": r["sms_revenue"],
            "flow_revenue": Decimal(repr(round(r["flow"], 4))) if r["flow"] else Decimal(0),
            "campaign_revenue": Decimal(repr(round(r["campaign"], 4))) if r["campaign"] else Decimal(0),
            "total_orders": r["orders"],
            "email_orders": round(r["email_orders"]),
            "sms_orders": round(r["sms_orders"]),
            "avg_order_value": ratio(r["revenue"], r["orders"], currency),
            "unique_customers": len(r["customers"]),
            "new_customers": len(r["new"]),
            "repeat_customers": len(r["repeat"]),
            "new_customer_revenue": r["new_revenue"],
            "repeat_customer_revenue": r["repeat_revenue"],
            "total_emails_sent": emails,
            "total_sms_sent": sms,
            "total_opens": round(r["opens"]),
            "total_clicks": round(r["clicks"]),
            "revenue_per_email": ratio(r["email_revenue"], emails, currency),
            "revenue_per_sms": ratio(r["sms_revenue"], sms, currency),
            "revenue_per_recipient": ratio(r["email_revenue"] + r["sms_revenue"], emails + sms, currency),
        }
        result[(day, currency)] = out
    for (day, currency), out in result.items():
        before = result.get((date.fromordinal(day.toordinal() - 7), currency))
        for name, column in (
            ("revenue_growth_pct", "total_revenue"),
            ("order_growth_pct", "total_orders"),
            ("customer_growth_pct", "unique_customers"),
        ):
            then = float(before[column]) if before else 0.0
            out[name] = 100 * (float(out[column]) - then) / then if then > 0 else None
    return result


def campaigns(stats: list[Stat], credits: list[Credit]) -> dict[tuple[date, str], dict[str, Any]]:
    grouped: dict[tuple[date, str], list[Stat]] = defaultdict(list)
    for stat in stats:
        if stat.kind == "campaign":
            grouped[(stat.day, stat.channel)].append(stat)
    channels = {"Email": "email", "SMS": "sms", "Mobile Push Notifications": "push-notification"}
    result = {}
    for (day, channel), mine in grouped.items():
        per_campaign: dict[str, float] = defaultdict(float)
        names: dict[str, str] = {}
        tags: dict[str, set[str]] = defaultdict(set)
        for stat in mine:
            per_campaign[stat.object_id] += stat.value
            names[stat.object_id] = max(names.get(stat.object_id, ""), stat.name)
            tags[stat.object_id] |= set(stat.tags)
        revenue = {k: Decimal(repr(round(v, 4))) for k, v in per_campaign.items()}
        # Each campaign's revenue counts once for every tag it carries.
        by_tag: dict[str, Decimal] = defaultdict(Decimal)
        for campaign_id, campaign_tags in tags.items():
            for tag in campaign_tags:
                by_tag[tag] += revenue[campaign_id]
        best = min(revenue, key=lambda k: (-revenue[k], k))
        worst = min(revenue, key=lambda k: (revenue[k], k))
        total = Decimal(repr(round(sum(s.value for s in mine), 4)))
        recipients = round(sum(s.recipients for s in mine))
        delivered = sum(s.delivered for s in mine)
        on_channel = [c for c in credits if c.at.date() == day and channels.get(c.channel) == channel]
        credited = [c for c in on_channel if c.klaviyo != "flow"]
        by_flows = [c for c in on_channel if c.klaviyo == "flow"]
        by_currency: dict[str, Decimal] = defaultdict(Decimal)
        for c in credited:
            by_currency[c.currency] += c.revenue
        flow_currency: dict[str, Decimal] = defaultdict(Decimal)
        for c in by_flows:
            flow_currency[c.currency] += c.revenue
        result[(day, channel)] = {
            "total_campaigns": len(per_campaign),
            "campaigns_sent": sorted(per_campaign),
            "total_recipients": recipients,
            "total_delivered": round(delivered),
            "total_opens": round(sum(s.opens for s in mine)),
            "total_clicks": round(sum(s.clicks for s in mine)),
            "total_conversions": round(sum(s.conversions for s in mine)),
            "total_revenue": total,
            "avg_revenue_per_campaign": ratio(total, len(per_campaign), "USD"),
            "avg_revenue_per_recipient": ratio(total, recipients, "USD"),
            "open_rate_pct": 100 * sum(s.opens_unique for s in mine) / delivered if delivered else 0.0,
            "click_rate_pct": 100 * sum(s.clicks_unique for s in mine) / delivered if delivered else 0.0,
            "conversion_rate_pct": 100 * sum(s.conversion_uniques for s in mine) / delivered
            if delivered
            else 0.0,
            "best_campaign_id": best,
            "best_campaign_name": names[best],
            "best_campaign_revenue": revenue[best],
            "worst_campaign_id": worst,
            "worst_campaign_name": names[worst],
            "worst_campaign_revenue": revenue[worst],
            "attributed_orders": sum(c.credit for c in credited),
            "attributed_revenue": dict(by_currency),
            "flow_attributed_orders": sum(c.credit for c in by_flows),
            "flow_attributed_revenue": dict(flow_currency),
            "top_tags": sorted(by_tag, key=lambda t: (-by_tag[t], t))[:5],
            "tag_performance": dict(by_tag),
        }
    return result


def close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is b
    # 1e-7, not 1e-9: a run gave predicted_purchases_90d 1.0889480578953847 against the oracle's
    # 1.0889480594262222 (1.4e-9), float arithmetic through a hypergeometric series in a different
    # order; a wrong formula or fit is off by orders of magnitude more than 1e-7.
    return math.isclose(a, b, rel_tol=1e-7, abs_tol=1e-12)
