"""Market baskets equal mlxtend's apriori + association_rules on the same baskets."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules

from touchline.commerce.baskets import BasketSettings
from touchline.commerce.run import BASKETS, CommerceRunner, CommerceSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.warehouse.client import connect

SITE = "site1"


def test_support_confidence_and_lift_equal_mlxtend(warehouse_url: str) -> None:
    client: Any = connect(warehouse_url)
    rng = random.Random(17)
    products = [f"p{i}" for i in range(12)]
    baskets: list[set[str]] = []
    order_rows, line_rows = [], []
    for number in range(400):
        # Correlated picks: p0 and p1 travel together, p2 avoids p3.
        basket = set(rng.sample(products, rng.randrange(1, 5)))
        if "p0" in basket and rng.random() < 0.7:
            basket.add("p1")
        if "p2" in basket:
            basket.discard("p3")
        baskets.append(basket)
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=number)
        order_rows.append([SITE, "api", f"o{number}", "paid", at, "USD", Decimal("10"), 1])
        for line, product in enumerate(sorted(basket)):
            line_rows.append([SITE, "api", f"o{number}", str(line), product, 1, Decimal("10"), "USD", 1])
            if line == 0:  # a product twice in one order is still one item of the basket
                line_rows.append([SITE, "api", f"o{number}", f"{line}b", product, 1, Decimal("10"), "USD", 1])
    client.insert(
        "orders",
        order_rows,
        column_names=[
            "site_id",
            "source",
            "order_id",
            "status",
            "ordered_at",
            "currency",
            "amount",
            "version",
        ],
    )
    client.insert(
        "order_line_items",
        line_rows,
        column_names=[
            "site_id",
            "source",
            "order_id",
            "line_item_id",
            "product_id",
            "quantity",
            "line_total",
            "currency",
            "version",
        ],
    )
    settings = CommerceSettings(baskets=BasketSettings(min_co_purchases=5, lift_threshold=1.5))
    CommerceRunner(client, MemoryWatermarks()).run(SITE, settings, as_of=date(2026, 12, 1), jobs=(BASKETS,))
    result = client.query(
        "SELECT product_a, product_b, support, confidence, lift, relationship_type, "
        "co_purchase_count FROM product_relationships FINAL"
    )
    ours = {(r[0], r[1]): r[2:] for r in result.result_rows}

    frame = pd.DataFrame([[p in b for p in products] for b in baskets], columns=products)
    itemsets = apriori(frame, min_support=4.5 / len(baskets), use_colnames=True, max_len=2)
    rules = association_rules(itemsets, metric="lift", min_threshold=0.0)
    theirs = {
        (next(iter(row.antecedents)), next(iter(row.consequents))): (row.support, row.confidence, row.lift)
        for row in rules.itertuples()
    }
    assert ours.keys() == theirs.keys()
    assert len(ours) > 50
    for pair, (support, confidence, lift) in theirs.items():
        assert ours[pair][:3] == pytest.approx((support, confidence, lift), rel=1e-12)
        expected = "frequently_bought" if lift >= 1.5 else "complement" if lift > 1 else "substitute"
        assert ours[pair][3] == expected or (ours[pair][3] == "independent" and lift == pytest.approx(1))
    assert ours[("p0", "p1")][3] == "frequently_bought"
    assert ("p2", "p3") not in ours
