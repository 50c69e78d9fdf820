"""CDNOW through the commerce pipeline: the 1/10th sample's transactions (shipped by lifetimes) as
orders, profiles as of the end of the 39-week calibration, then the 39-week holdout."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

CALIBRATION_END = date(1997, 9, 30)
HOLDOUT_DAYS = 273  # 39 weeks, to 1998-06-30


def transactions() -> list[tuple[str, date, Decimal]]:
    import lifetimes.datasets

    path = Path(os.path.dirname(lifetimes.datasets.__file__)) / "CDNOW_sample.txt"
    rows = []
    for line in path.read_text().splitlines():
        customer, _, day, _, amount = line.split()
        rows.append((customer, datetime.strptime(day, "%Y%m%d").date(), Decimal(amount)))
    return rows


def load(client: object, site: str) -> None:
    rows = [
        [site, "api", f"{customer}-{number}", "paid", datetime.combine(day, datetime.min.time(), UTC)
         + timedelta(hours=12), "USD", amount, "user", customer, 1]
        for number, (customer, day, amount) in enumerate(transactions())
    ]  # fmt: skip
    client.insert(  # type: ignore[attr-defined]
        "orders",
        rows,
        column_names=[
            "site_id",
            "source",
            "order_id",
            "status",
            "ordered_at",
            "currency",
            "amount",
            "customer_id_type",
            "customer_id",
            "version",
        ],
    )


def holdout_table(
    client: object | None = None,
) -> tuple[list[tuple[str, int, float, float]], tuple[float, ...]]:
    """Per calibration repeat count (0…6, 7+): customers, mean actual and mean predicted holdout
    repeat purchases; and the fitted (r, alpha in weeks, a, b)."""
    from touchline.commerce.clv import BgNbd
    from touchline.commerce.run import PROFILES, CommerceRunner
    from touchline.config.watermarks import MemoryWatermarks
    from touchline.warehouse.client import connect
    from touchline.warehouse.migrate import migrate

    site = "cdnow"
    if client is None:
        folder = tempfile.mkdtemp()
        client = connect(f"chdb://{folder}/clickhouse?database=cdnow_{uuid.uuid4().hex[:6]}")
        migrate(client)
    load(client, site)
    CommerceRunner(client, MemoryWatermarks()).run(site, as_of=CALIBRATION_END, jobs=(PROFILES,), full=True)  # type: ignore[arg-type]
    r, alpha, a, b = client.query(  # type: ignore[attr-defined]
        "SELECT r, alpha, a, b FROM customer_models FINAL WHERE site_id = %(s)s", parameters={"s": site}
    ).result_rows[0]
    model = BgNbd(r, alpha, a, b)
    profiles = client.query(  # type: ignore[attr-defined]
        "SELECT customer_id, purchase_days - 1, dateDiff('day', first_order_date, last_order_date), "
        "customer_age_days FROM customer_profiles FINAL WHERE site_id = %(s)s",
        parameters={"s": site},
    ).result_rows
    holdout: dict[str, set[date]] = {}
    end = CALIBRATION_END + timedelta(days=HOLDOUT_DAYS)
    for customer, day, _ in transactions():
        if CALIBRATION_END < day <= end:
            holdout.setdefault(customer, set()).add(day)
    buckets: dict[int, list[tuple[float, float]]] = {}
    for customer, x, t_x, big_t in profiles:
        predicted = model.expected_purchases(int(x), float(t_x), float(big_t), HOLDOUT_DAYS)
        buckets.setdefault(min(int(x), 7), []).append((len(holdout.get(customer, ())), predicted))
    rows = []
    for x in sorted(buckets):
        values = buckets[x]
        rows.append(
            (
                "7+" if x == 7 else str(x),
                len(values),
                sum(v[0] for v in values) / len(values),
                sum(v[1] for v in values) / len(values),
            )
        )
    total = [v for values in buckets.values() for v in values]
    rows.append(("all", len(total), sum(v[0] for v in total), sum(v[1] for v in total)))
    return rows, (r, alpha / 7, a, b)
