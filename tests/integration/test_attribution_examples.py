"""The worked examples of docs/attribution.md, through the real aggregation on ClickHouse."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from factories import pageview_json, paid_order_json
from touchline.aggregate.run import Aggregator
from touchline.config.attribution_settings import AttributionSettings
from touchline.config.watermarks import MemoryWatermarks
from touchline.load.clickhouse_sink import ClickHouseRowSink
from touchline.warehouse.client import connect
from touchline.warehouse.sql import ClientSql

SITE = "site1"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def hit(visitor: str, when: datetime, channel: str, **acquisition: str) -> str:
    return pageview_json(SITE, visitor, when, channel, **acquisition)


def order(order_id: str, when: datetime, amount: str, currency: str, visitor: str = "") -> str:
    return paid_order_json(SITE, order_id, when, amount, currency, visitor)


@pytest.fixture
def worked_example(warehouse_url: str) -> Any:
    client = connect(warehouse_url)
    sink = ClickHouseRowSink(client)
    sink.insert_rows(
        "events",
        [
            hit("v1", at(1, 10), "Organic Search", source="Google"),
            hit("v2", at(5, 10), "Direct"),
            hit("v2", at(8, 10), "Email", source="newsletter", medium="email", campaign="nov"),
        ],
        "events",
    )
    sink.insert_rows(
        "orders",
        [
            order("in_1", at(8, 10, 30), "100.00", "USD", visitor="v2"),
            order("pi_2", at(8, 11), "10000", "JPY", visitor="v2"),
            order("pi_3", at(8, 11), "7.777", "KWD"),
        ],
        "orders",
    )
    client.insert(
        "identity_map",
        [[SITE, "visitor", "v1", "user:42", 1], [SITE, "visitor", "v2", "user:42", 1]],
        column_names=["site_id", "id_type", "id_value", "person_id", "version"],
    )
    Aggregator(ClientSql(client), MemoryWatermarks()).run(SITE, AttributionSettings(), full=True)
    return client


def credited(client: Any, conversion: str, model: str) -> list[tuple[str, Decimal]]:
    rows = client.query(
        "SELECT channel, attributed_revenue FROM attribution_credits FINAL "
        "WHERE conversion_id = %(c)s AND model = %(m)s ORDER BY touch_index",
        parameters={"c": conversion, "m": model},
    ).result_rows
    return [(channel, amount) for channel, amount in rows]


CHANNELS = ["Organic Search", "Direct", "Email"]


@pytest.mark.parametrize(
    ("model", "usd", "jpy"),
    [
        ("first_touch", ["100.00", None, None], ["10000", None, None]),
        ("last_touch", [None, None, "100.00"], [None, None, "10000"]),
        ("last_non_direct", [None, None, "100.00"], [None, None, "10000"]),
        ("linear", ["33.34", "33.33", "33.33"], ["3334", "3333", "3333"]),
        ("time_decay", ["22.29", "33.13", "44.58"], ["2229", "3313", "4458"]),
        ("position_based", ["40.00", "20.00", "40.00"], ["4000", "2000", "4000"]),
    ],
)
def test_worked_example(
    worked_example: Any, model: str, usd: list[str | None], jpy: list[str | None]
) -> None:
    """Single-touch models store only the credited touchpoint (None: no row)."""
    for conversion, amounts in (("stripe:in_1", usd), ("stripe:pi_2", jpy)):
        want = [(ch, Decimal(a)) for ch, a in zip(CHANNELS, amounts, strict=True) if a is not None]
        assert credited(worked_example, conversion, model) == want


def test_time_decay_credits(worked_example: Any) -> None:
    rows = worked_example.query(
        "SELECT credit FROM attribution_credits FINAL WHERE conversion_id = 'stripe:in_1' "
        "AND model = 'time_decay' ORDER BY touch_index"
    ).result_rows
    assert [round(r[0], 6) for r in rows] == [0.222916, 0.331252, 0.445832]


def test_unlinked_order_is_credited_to_none(worked_example: Any) -> None:
    for model in ("first_touch", "linear", "time_decay"):
        assert credited(worked_example, "stripe:pi_3", model) == [("(none)", Decimal("7.777"))]


def test_reports_agree_with_the_credits(worked_example: Any) -> None:
    from touchline.reports import engine_runner
    from touchline.reports.attribution import attribution_report
    from touchline.reports.overview import overview_report

    report = attribution_report(
        engine_runner(worked_example), SITE, None, None, "linear", "channel"
    ).as_dict()
    [linear] = report["models"]
    by_channel = {row["channel"]: row for row in linear["rows"]}
    assert by_channel["Organic Search"]["revenue"] == [
        {"currency": "JPY", "amount": "3334"},
        {"currency": "USD", "amount": "33.34"},
    ]
    assert by_channel["(none)"]["revenue"] == [{"currency": "KWD", "amount": "7.777"}]
    assert linear["total"]["revenue"] == [
        {"currency": "JPY", "amount": "10000"},
        {"currency": "KWD", "amount": "7.777"},
        {"currency": "USD", "amount": "100.00"},
    ]
    assert linear["total"]["orders"] == pytest.approx(3.0)
    overview = overview_report(engine_runner(worked_example), SITE, None, None).as_dict()
    assert overview["totals"]["visitors"] == 2 and overview["totals"]["sessions"] == 3
    assert overview["totals"]["conversions"] == 3
    assert overview["totals"]["revenue"] == linear["total"]["revenue"]
    assert overview["top_channels"][0]["visitors"] >= 1
